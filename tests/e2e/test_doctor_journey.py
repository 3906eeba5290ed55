"""A doctor joins, describes themself, publishes a week of consulting hours and takes a day
off."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import OutboxMessage
from tests.e2e.helpers import Journey, fill_account, sign_in, use_menu
from tests.factories import PASSWORD as FACTORY_PASSWORD

pytestmark = pytest.mark.e2e

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def test_doctor_signs_up_fills_profile_publishes_weekly_slots_and_takes_a_day_off(page, mailbox):
    journey = Journey("doctor")
    page.goto("/")
    page.get_by_role("link", name="I am a doctor").click()
    fill_account(page, "Dr. Ada Byron", "ada.byron@example.com")
    page.get_by_label("Specialization").fill("Cardiology")
    page.get_by_label("Years of experience").fill("12")
    journey.checkpoint(page, "signup")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Your doctor account is ready.")).to_be_visible()
    journey.checkpoint(page, "dashboard-new")

    use_menu(page, "Profile")
    page.get_by_label("Short biography").fill("Heart rhythm specialist; adults and teenagers.")
    page.get_by_label("Phone", exact=True).fill("+44 20 7946 0000")
    page.get_by_role("button", name="Save profile").click()
    expect(
        page.get_by_role("alert").filter(has_text="Your profile has been saved.")
    ).to_be_visible()
    expect(page.get_by_label("Short biography")).to_have_value(
        "Heart rhythm specialist; adults and teenagers."
    )
    journey.checkpoint(page, "profile")

    # Two consulting mornings in the coming week, 09:00-10:30 in 30-minute slots: 3 a day.
    today = datetime.now(UTC).date()  # the clinic's zone is UTC in these tests
    days = [today + timedelta(days=2), today + timedelta(days=4)]
    use_menu(page, "Availability")
    template = page.get_by_role("region", name="Add a weekly template")
    template.get_by_label("From").fill((today + timedelta(days=1)).isoformat())
    template.get_by_label("To (inclusive)").fill((today + timedelta(days=7)).isoformat())
    chosen = {WEEKDAYS[day.weekday()] for day in days}
    for weekday in WEEKDAYS:
        template.get_by_label(weekday).set_checked(weekday in chosen)
    template.get_by_label("Day starts at").fill("09:00")
    template.get_by_label("Day ends at").fill("10:30")
    template.get_by_label("Minutes per slot").fill("30")
    journey.checkpoint(page, "weekly-template")
    template.get_by_role("button", name="Create slots").click()

    expect(page.get_by_role("alert").filter(has_text="Created 6 slots, skipped 0")).to_be_visible()
    rows = page.get_by_role("table", name="Your slots").get_by_role("row")
    for day in days:
        for start, end in (("09:00", "09:30"), ("09:30", "10:00"), ("10:00", "10:30")):
            listed = rows.filter(has_text=day.strftime("%a %d %b %Y")).filter(
                has_text=f"{start}\N{EN DASH}{end}"
            )
            expect(listed).to_contain_text("Open")
    expect(rows.filter(has_text="Open")).to_have_count(6)
    journey.checkpoint(page, "slots-listed")

    # The second morning is cancelled after all: time off for that day, after the browser asks.
    # Sent with a day missing, there is nothing to ask yet: the server names the missing field.
    time_off = page.get_by_role("region", name="Take time off")
    questions: list[str] = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    time_off.get_by_label("First day").fill(days[1].isoformat())
    time_off.get_by_role("button", name="Remove open slots").click()
    expect(time_off.get_by_text("This field is required.")).to_be_visible()
    assert questions == []
    # The answer is a new page: its deferred confirm.js asks only once it has run. On a busy
    # machine the text above can show first, and a click then would go unasked.
    page.wait_for_load_state("load")
    time_off.get_by_label("First day").fill(days[1].isoformat())
    time_off.get_by_label("Last day (inclusive)").fill(days[1].isoformat())
    time_off.get_by_role("button", name="Remove open slots").click()
    expect(page.get_by_role("alert").filter(has_text="Removed 3 open slots.")).to_be_visible()
    day_off = days[1].isoformat()
    assert questions == [
        f"Clear your slots from {day_off} to {day_off}? Booked appointments stay unless you "
        "ticked the box to cancel them."
    ]
    expect(rows.filter(has_text=days[1].strftime("%a %d %b %Y"))).to_have_count(0)
    expect(rows.filter(has_text="Open")).to_have_count(3)

    use_menu(page, "Dashboard")
    glance = page.get_by_role("region", name="At a glance")
    expect(glance.get_by_text("Open future slots")).to_be_visible()
    expect(glance.get_by_role("link", name="3", exact=True)).to_be_visible()
    journey.checkpoint(page, "dashboard-with-slots")

    # The morning's list, to work from or to print: today is empty, the first morning is not.
    use_menu(page, "Day sheet")
    expect(page.get_by_text("No slots on this day.")).to_be_visible()
    page.get_by_label("Day", exact=True).fill(days[0].isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name=days[0].strftime("%A"))).to_be_visible()
    sheet = page.get_by_role("region", name="The day's slots").get_by_role("row")
    expect(sheet.filter(has_text="Open")).to_have_count(3)
    expect(page.get_by_role("button", name="Print")).to_be_visible()  # print.js shows it
    journey.checkpoint(page, "day-sheet")

    mailbox.expect(("SIGNUP_WELCOME", "ada.byron@example.com"))


def test_a_doctor_keeps_weekly_hours_repeating_then_stops_them(page, make, live_server):
    """Mornings on Mondays to Fridays with a break, ticked to repeat: after the worker's round,
    they are published as far ahead as patients can book; stopping them keeps what is
    published."""
    doctor = make.doctor(user__full_name="Dr. Rosalind Franklin")
    sign_in(page, doctor.user.email, FACTORY_PASSWORD)
    today = datetime.now(UTC).date()  # the clinic's zone is UTC in these tests
    first, last = today + timedelta(days=1), today + timedelta(days=7)

    use_menu(page, "Availability")
    template = page.get_by_role("region", name="Add a weekly template")
    template.get_by_label("From").fill(first.isoformat())
    template.get_by_label("To (inclusive)").fill(last.isoformat())
    template.get_by_label("Day starts at").fill("09:00")
    template.get_by_label("Day ends at").fill("11:00")
    template.get_by_label("Break starts at").fill("09:30")
    template.get_by_label("Break ends at").fill("10:00")
    template.get_by_label("Repeat every week").check()
    template.get_by_role("button", name="Create slots").click()

    expect(
        page.get_by_role("alert").filter(has_text="These hours now repeat every week")
    ).to_be_visible()
    standing = page.locator("#standing-hours")
    expect(standing).to_contain_text(
        "Mon, Tue, Wed, Thu, Fri, 09:00–11:00 with a break 09:30–10:00, 30-minute slots"
    )

    live_server.flask("availability", "extend")  # what the worker does every minute
    page.reload()
    horizon = today + timedelta(days=90)  # BOOKING_MAX_DAYS_AHEAD
    expect(standing).to_contain_text(f"published through {horizon:%a %d %b %Y}")
    Journey("standing-hours").checkpoint(page, "repeating")

    questions: list[str] = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.wait_for_load_state("load")  # confirm.js, deferred, asks once it has run
    standing.get_by_role("button", name="Stop repeating").click()

    expect(page.get_by_role("alert").filter(has_text="no longer repeat")).to_be_visible()
    assert questions == ["Stop repeating these hours? The slots already published stay."]
    expect(page.locator("#standing-hours")).to_have_count(0)
    rows = page.get_by_role("table", name="Your slots").get_by_role("row")
    expect(rows.filter(has_text="Open").first).to_be_visible()


def test_a_doctor_with_a_full_list_stops_taking_new_patients_and_quiets_their_email(
    browse, db, make, mailbox
):
    """Dr. Hodgkin's list is full: she ticks "Not taking new patients", so a patient new to her
    is told on her page rather than at the end of a booking; her own patients still book. She
    trades an email per booking for one each morning."""
    doctor = make.doctor(user__full_name="Dr. Dorothy Hodgkin", user__email="dh@example.com")
    start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=9, minute=0, second=0)
    make.slot(doctor=doctor, start_at=start.replace(microsecond=0))
    own = make.patient(user__full_name="Rosalind Own", user__email="own@example.com")
    make.appointment(  # seen last month: hers
        slot=make.slot(doctor=doctor, start_at=start - timedelta(days=30)),
        patient=own,
        status="completed",
    )
    make.patient(user__full_name="Nina New", user__email="new@example.com")
    journey = Journey("new-patients")

    page = browse()
    sign_in(page, "dh@example.com", FACTORY_PASSWORD)
    use_menu(page, "Profile")
    page.get_by_label("Not taking new patients").check()
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("alert").filter(has_text="profile has been saved")).to_be_visible()
    page.get_by_role("link", name="email settings").click()
    page.get_by_label("An email for each booking").uncheck()
    page.get_by_label("Each morning, the day's appointments").check()
    page.get_by_role("button", name="Save email settings").click()
    expect(
        page.get_by_role("alert").filter(has_text="email settings have been saved")
    ).to_be_visible()
    expect(page.get_by_label("An email for each booking")).not_to_be_checked()
    journey.checkpoint(page, "email-settings")

    newcomer = browse()
    sign_in(newcomer, "new@example.com", FACTORY_PASSWORD)
    use_menu(newcomer, "Find a doctor")
    row = newcomer.get_by_role("row").filter(has_text="Dr. Dorothy Hodgkin")
    expect(row).to_contain_text("Not taking new patients")
    journey.checkpoint(newcomer, "directory")
    row.get_by_role("link", name="Dr. Dorothy Hodgkin").click()
    expect(newcomer.get_by_role("note")).to_contain_text("is not taking new patients")
    expect(newcomer.get_by_role("link", name=start.strftime("%H:%M"))).to_have_count(0)
    expect(newcomer.get_by_role("button", name="Join the waitlist")).to_have_count(0)
    journey.checkpoint(newcomer, "doctor-closed")

    hers = browse()
    sign_in(hers, "own@example.com", FACTORY_PASSWORD)
    use_menu(hers, "Find a doctor")
    hers.get_by_role("link", name="Dr. Dorothy Hodgkin").click()
    expect(hers.get_by_role("note")).to_contain_text("so you book as usual")
    hers.get_by_role("link", name=start.strftime("%H:%M")).click()
    hers.get_by_role("button", name="Confirm booking").click()
    expect(hers.get_by_role("alert").filter(has_text="Your appointment is booked")).to_be_visible()

    mailbox.expect(("BOOKING_CONFIRMATION", "own@example.com"))
    db.session.rollback()  # read what the server committed: the booking queued no email to her
    queued_to = {m.payload["to"] for m in db.session.scalars(select(OutboxMessage))}
    assert "own@example.com" in queued_to and "dh@example.com" not in queued_to
