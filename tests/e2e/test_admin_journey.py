"""The clinic's admin oversees: figures, the audit trail, and cancelling on someone's behalf."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from app.services import booking
from tests.e2e.helpers import Journey, choose_password_from, sign_in, use_menu
from tests.factories import PASSWORD as FACTORY_PASSWORD

pytestmark = pytest.mark.e2e


def figure(page: Page, label: str) -> Locator:
    """The number on the dashboard card of that label."""
    card = page.get_by_role("listitem").filter(has=page.get_by_text(label, exact=True))
    return card.get_by_text(re.compile(r"^\d+$"))


@pytest.fixture
def two_bookings(db, make):
    """Grace and Alan each booked a slot with Dr. Byron, through the booking service."""
    doctor = make.doctor(user__full_name="Dr. Ada Byron", user__email="ada.byron@example.com")
    day = (datetime.now(UTC) + timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
    slots = [
        make.slot(doctor=doctor, start_at=start, end_at=start + timedelta(minutes=30))
        for start in (day, day + timedelta(minutes=30), day + timedelta(minutes=60))
    ]
    grace = make.patient(user__full_name="Grace Hopper", user__email="grace@example.com")
    alan = make.patient(user__full_name="Alan Turing", user__email="alan@example.com")
    booking.book(grace, slots[0].id, "First visit", actor=grace.user)
    booking.book(alan, slots[1].id, actor=alan.user)
    db.session.commit()
    return doctor


def test_admin_sees_figures_and_audit_and_cancels_an_appointment(page, make, two_bookings, mailbox):
    journey = Journey("admin")
    admin = make.admin(email="olivia@example.com", full_name="Olivia Admin")
    sign_in(page, admin.email, FACTORY_PASSWORD)

    expect(page.get_by_role("heading", name="Clinic dashboard")).to_be_visible()
    expect(figure(page, "Upcoming appointments")).to_have_text("2")
    expect(figure(page, "Cancelled appointments")).to_have_text("0")
    journey.checkpoint(page, "dashboard")

    use_menu(page, "Audit trail")
    bookings = page.get_by_role("row").filter(has_text="appointment.booked")
    expect(bookings.filter(has_text="grace@example.com")).to_have_count(1)
    expect(bookings.filter(has_text="alan@example.com")).to_have_count(1)
    journey.checkpoint(page, "audit-trail")

    use_menu(page, "Appointments")
    row = page.get_by_role("row").filter(has_text="Alan Turing")
    journey.checkpoint(page, "appointments")
    row.get_by_role("button", name="Cancel").click()  # "Cancel the appointment on …?"
    page.get_by_role("dialog").get_by_role("textbox").fill("Dr. Byron is unwell")
    page.get_by_role("button", name="Cancel the appointment").click()
    expect(page.get_by_role("alert").filter(has_text="has been cancelled")).to_be_visible()
    cancelled_row = page.get_by_role("row").filter(has_text="Alan Turing")
    expect(cancelled_row).to_contain_text("Cancelled by Olivia Admin")
    expect(cancelled_row).to_contain_text("Reason: Dr. Byron is unwell")
    expect(page.get_by_role("row").filter(has_text="Grace Hopper")).to_contain_text("Booked")
    journey.checkpoint(page, "cancelled")

    use_menu(page, "Audit trail")
    cancelled = page.get_by_role("row").filter(has_text="appointment.cancelled")
    expect(cancelled.filter(has_text="olivia@example.com")).to_have_count(1)
    use_menu(page, "Dashboard")
    expect(figure(page, "Upcoming appointments")).to_have_text("1")
    expect(figure(page, "Cancelled appointments")).to_have_text("1")

    mails = mailbox.expect(
        ("BOOKING_CANCELLED", "alan@example.com"),
        ("BOOKING_CANCELLED", "ada.byron@example.com"),
    )
    body = mails["BOOKING_CANCELLED", "alan@example.com"].get_body(("plain",)).get_content()
    assert "the clinic" in body
    assert "Reason: Dr. Byron is unwell" in body


def test_the_front_desk_books_for_a_patient_who_calls(browse, make, two_bookings, mailbox):
    """Alan phones: the desk finds Dr. Byron, picks the free 10:00 and types what he said. The
    receptionist's account is a front-desk one: her menu has no closures, audit trail or
    dashboard, and her day starts on the appointments."""
    journey = Journey("front-desk")
    desk = make.desk(email="olivia@example.com", full_name="Olivia Desk")
    page = browse()
    sign_in(page, desk.email, FACTORY_PASSWORD)
    expect(page.get_by_role("heading", name="Appointments")).to_be_visible()
    menu = page.get_by_role("navigation", name="Main")
    expect(menu.get_by_role("link", name="Audit trail")).to_have_count(0)
    expect(menu.get_by_role("link", name="Closures")).to_have_count(0)

    use_menu(page, "Users")
    page.get_by_role("row").filter(has_text="Alan Turing").get_by_role("link", name="Book").click()
    expect(page.get_by_role("heading", name="Book for Alan Turing")).to_be_visible()
    page.get_by_label("Doctor's name").fill("Byron")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Dr. Ada Byron").click()
    journey.checkpoint(page, "times")

    free = page.get_by_role("radio")
    expect(free).to_have_count(1)  # 09:00 and 09:30 are taken
    free.check()
    page.get_by_label("The caller's note for the doctor (optional)").fill("Knee pain on stairs.")
    page.get_by_role("button", name="Book for Alan Turing").click()

    expect(
        page.get_by_role("alert").filter(has_text="Booked Alan Turing with Dr. Ada Byron")
    ).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Alan Turing")).to_have_count(2)
    journey.checkpoint(page, "booked")
    mailbox.expect_text("BOOKING_CONFIRMATION", "ada.byron@example.com", "Knee pain on stairs.")


def test_a_departing_doctor_is_deactivated_with_their_bookings(browse, make, two_bookings, mailbox):
    """Dr. Byron leaves the clinic: the admin sees who still expects to be seen, cancels those
    visits with the account, and both patients hear of it."""
    journey = Journey("deactivate-doctor")
    admin = make.admin(email="olivia@example.com", full_name="Olivia Admin")
    page = browse()
    sign_in(page, admin.email, FACTORY_PASSWORD)

    use_menu(page, "Users")
    row = page.get_by_role("row").filter(has_text="Dr. Ada Byron")
    row.get_by_role("link", name="Deactivate…").click()
    expect(page.get_by_role("heading", name="Deactivate Dr. Ada Byron?")).to_be_visible()
    expect(page.get_by_role("heading", name="2 upcoming appointments")).to_be_visible()
    ahead = page.get_by_role("region", name="Upcoming appointments")
    expect(ahead.get_by_role("row").filter(has_text="Grace Hopper")).to_have_count(1)
    expect(ahead.get_by_role("row").filter(has_text="Alan Turing")).to_have_count(1)
    journey.checkpoint(page, "asked")

    page.get_by_label(re.compile(r"^Also cancel all 2")).check()
    page.get_by_role("button", name="Deactivate").click()

    expect(
        page.get_by_role("alert").filter(
            has_text="2 upcoming appointments were cancelled with the account"
        )
    ).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Dr. Ada Byron")).to_contain_text("Deactivated")
    journey.checkpoint(page, "done")
    mailbox.expect(
        ("BOOKING_CANCELLED", "grace@example.com"), ("BOOKING_CANCELLED", "alan@example.com")
    )


def test_the_clinic_closes_for_a_holiday(browse, make, two_bookings, mailbox):
    """The clinic shuts on the day of Dr. Byron's bookings: the admin closes it and cancels
    them (their slots go with the open one); the doctor's availability page then says so."""
    journey = Journey("closure")
    admin = make.admin(email="olivia@example.com", full_name="Olivia Admin")
    day = (datetime.now(UTC) + timedelta(days=3)).date()  # two_bookings' day
    page = browse()
    questions: list[str] = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    sign_in(page, admin.email, FACTORY_PASSWORD)

    use_menu(page, "Closures")
    page.get_by_label("Day", exact=True).fill(day.isoformat())
    page.get_by_label(re.compile(r"^Reason \(doctors see it")).fill("Founders' day")
    page.get_by_label(re.compile(r"^Also cancel that day's booked appointments")).check()
    journey.checkpoint(page, "form")
    page.get_by_role("button", name="Close the clinic that day").click()

    expect(
        page.get_by_role("alert").filter(
            has_text="Removed 3 open slots and cancelled 2 booked appointments"
        )
    ).to_be_visible()
    assert questions and questions[0].startswith(f"Close the clinic on {day.isoformat()}?")
    closures = page.get_by_role("region", name="Coming closures")
    expect(closures.get_by_role("row").filter(has_text="Founders' day")).to_have_count(1)
    journey.checkpoint(page, "closed")
    mailbox.expect(
        ("BOOKING_CANCELLED", "grace@example.com"), ("BOOKING_CANCELLED", "alan@example.com")
    )

    doctor = browse()
    sign_in(doctor, "ada.byron@example.com", FACTORY_PASSWORD)
    use_menu(doctor, "Availability")
    expect(doctor.get_by_role("note")).to_contain_text("(Founders' day)")


def test_a_caller_new_to_the_clinic_is_registered_booked_and_signs_in(
    browse, make, two_bookings, mailbox
):
    """Edith phones for a first appointment: the desk registers her and books the free 10:00;
    the email lets her choose her own password, and her appointment is waiting for her."""
    journey = Journey("register")
    admin = make.admin(email="olivia@example.com", full_name="Olivia Admin")
    desk = browse()
    sign_in(desk, admin.email, FACTORY_PASSWORD)

    use_menu(desk, "Users")
    desk.get_by_role("link", name="Register a patient").click()
    desk.get_by_label("Full name").fill("Edith Clarke")
    desk.get_by_label("Email").fill("edith@example.com")
    desk.get_by_label("Phone (optional)").fill("+1 555 0177")
    journey.checkpoint(desk, "details")
    desk.get_by_role("button", name="Register").click()
    expect(desk.get_by_role("alert").filter(has_text="Edith Clarke is registered")).to_be_visible()
    desk.get_by_label("Doctor's name").fill("Byron")
    desk.get_by_role("button", name="Search").click()
    desk.get_by_role("link", name="Dr. Ada Byron").click()
    desk.get_by_role("radio").check()  # the one free time
    desk.get_by_role("button", name="Book for Edith Clarke").click()
    expect(desk.get_by_role("alert").filter(has_text="Booked Edith Clarke")).to_be_visible()

    invite = mailbox.expect_text("ACCOUNT_INVITE", "edith@example.com", "choose a password")
    edith = browse()
    choose_password_from(edith, invite, "Edith's own passphrase")
    journey.checkpoint(edith, "choose-password")
    edith.get_by_role("button", name="Set new password").click()
    sign_in(edith, "edith@example.com", "Edith's own passphrase")
    expect(edith.get_by_role("row").filter(has_text="Dr. Ada Byron")).to_have_count(1)
    journey.checkpoint(edith, "her-dashboard")


def test_the_admin_adds_a_receptionist_who_sets_her_password_and_opens_the_desk(
    browse, make, two_bookings, mailbox
):
    """Olivia starts at reception: the admin adds her account, the email lets her choose a
    password, and she signs in to today's appointments with the desk's menu only."""
    journey = Journey("add-desk")
    admin = make.admin(email="boss@example.com", full_name="Clinic Administrator")
    page = browse()
    sign_in(page, admin.email, FACTORY_PASSWORD)
    use_menu(page, "Users")
    page.get_by_role("link", name="Add a front-desk account").click()
    page.get_by_label("Full name").fill("Olivia Desk")
    page.get_by_label("Email").fill("olivia.desk@example.com")
    journey.checkpoint(page, "form")
    page.get_by_role("button", name="Add the account").click()
    expect(
        page.get_by_role("alert").filter(has_text="Olivia Desk has a front-desk account")
    ).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="olivia.desk@example.com")).to_contain_text(
        "Front desk"
    )

    invite = mailbox.expect_text("STAFF_INVITE", "olivia.desk@example.com", "choose a password")
    olivia = browse()
    choose_password_from(olivia, invite, "Olivia's own passphrase")
    olivia.get_by_role("button", name="Set new password").click()
    sign_in(olivia, "olivia.desk@example.com", "Olivia's own passphrase")
    expect(olivia.get_by_role("heading", name="Appointments")).to_be_visible()
    menu = olivia.get_by_role("navigation", name="Main")
    expect(menu.get_by_role("link")).to_contain_text(["Users", "Appointments"])
    for admins_own in ("Dashboard", "Closures", "Audit trail"):
        expect(menu.get_by_role("link", name=admins_own)).to_have_count(0)
    journey.checkpoint(olivia, "her-desk")


def test_the_desk_approves_a_new_doctor_and_patients_can_then_book_her(browse, make, mailbox):
    """Dr. Novak signed up and published a time; the dashboard tells the admin she waits, the
    admin reads what she wrote and approves her, and a patient finds her and books."""
    journey = Journey("approve-doctor")
    novak = make.doctor(
        user__full_name="Dr. Ines Novak",
        user__email="ines@example.com",
        specialization="Neurology",
        approved_at=None,
    )
    start = (datetime.now(UTC) + timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    make.slot(doctor=novak, start_at=start, end_at=start + timedelta(minutes=30))
    make.patient(user__full_name="Grace Hopper", user__email="grace@example.com")
    admin = make.admin(email="olivia@example.com", full_name="Olivia Admin")
    patient = browse()
    sign_in(patient, "grace@example.com", FACTORY_PASSWORD)
    use_menu(patient, "Find a doctor")
    expect(patient.get_by_role("link", name="Dr. Ines Novak")).to_have_count(0)

    desk = browse()
    sign_in(desk, admin.email, FACTORY_PASSWORD)
    waiting = desk.get_by_role("status").filter(has_text="1 new doctor is waiting for approval")
    expect(waiting).to_be_visible()
    journey.checkpoint(desk, "dashboard")
    waiting.get_by_role("link", name="review it").click()
    row = desk.get_by_role("row").filter(has_text="Dr. Ines Novak")
    expect(row).to_contain_text("Awaiting approval")
    journey.checkpoint(desk, "waiting")
    row.get_by_role("link", name="Review…").click()
    expect(desk.get_by_role("heading", name="Approve Dr. Ines Novak?")).to_be_visible()
    expect(desk.get_by_text("Experienced and kind.")).to_be_visible()
    journey.checkpoint(desk, "review")
    desk.get_by_role("button", name="Approve and list them").click()

    expect(desk.get_by_role("alert").filter(has_text="Dr. Ines Novak is approved")).to_be_visible()
    expect(desk.get_by_role("row").filter(has_text="Dr. Ines Novak")).to_have_count(0)
    mailbox.expect_text("DOCTOR_APPROVED", "ines@example.com", "Patients can now")

    use_menu(patient, "Find a doctor")
    patient.get_by_role("link", name="Dr. Ines Novak").click()
    patient.get_by_role("link", name=re.compile("10:00")).click()
    patient.get_by_role("button", name="Confirm booking").click()
    expect(
        patient.get_by_role("alert").filter(has_text="Your appointment is booked.")
    ).to_be_visible()
    mailbox.expect(("BOOKING_CONFIRMATION", "ines@example.com"))


def test_the_desk_keeps_a_doctors_schedule(browse, make, two_bookings, mailbox):
    """Dr. Byron phones in: open a Thursday afternoon, and she is unwell on her booked morning.
    The desk does both from her schedule; the patients she had are told, and the new times are
    there for patients to book."""
    journey = Journey("desk-schedule")
    admin = make.admin(email="olivia@example.com", full_name="Olivia Admin")
    today = datetime.now(UTC).date()  # the clinic's zone is UTC in these tests
    morning, afternoon = today + timedelta(days=3), today + timedelta(days=5)
    desk = browse()
    sign_in(desk, admin.email, FACTORY_PASSWORD)

    use_menu(desk, "Users")
    desk.get_by_role("row").filter(has_text="Dr. Ada Byron").get_by_role(
        "link", name="Schedule"
    ).click()
    expect(desk.get_by_role("heading", name="Dr. Ada Byron's availability")).to_be_visible()
    rows = desk.get_by_role("table", name="Dr. Ada Byron's slots").get_by_role("row")
    expect(rows.filter(has_text="Grace Hopper")).to_contain_text("Booked")
    expect(rows.filter(has_text="Open")).to_have_count(1)  # 09:00 and 09:30 are taken
    journey.checkpoint(desk, "schedule")

    template = desk.get_by_role("region", name="Add a weekly template")
    template.get_by_label("From").fill(afternoon.isoformat())
    template.get_by_label("To (inclusive)").fill(afternoon.isoformat())
    for weekday in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        template.get_by_label(weekday).check()
    template.get_by_label("Day starts at").fill("14:00")
    template.get_by_label("Day ends at").fill("15:00")
    template.get_by_label("Minutes per slot").fill("30")
    template.get_by_role("button", name="Create slots").click()
    expect(desk.get_by_role("alert").filter(has_text="Created 2 slots, skipped 0")).to_be_visible()
    expect(rows.filter(has_text=afternoon.strftime("%a %d %b %Y"))).to_have_count(2)

    # The page is new: its deferred confirm.js must have run for the browser to ask.
    desk.wait_for_load_state("load")
    questions: list[str] = []
    desk.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    time_off = desk.get_by_role("region", name="Take time off")
    time_off.get_by_label("First day").fill(morning.isoformat())
    time_off.get_by_label("Last day (inclusive)").fill(morning.isoformat())
    time_off.get_by_label(re.compile("Also cancel")).check()
    time_off.get_by_label(re.compile("Reason")).fill("Dr. Byron is unwell.")
    time_off.get_by_role("button", name="Remove open slots").click()
    expect(
        desk.get_by_role("alert").filter(
            has_text="Removed 3 open slots. Cancelled 2 booked appointments first"
        )
    ).to_be_visible()
    assert questions and questions[0].startswith("Clear Dr. Ada Byron's slots from")
    expect(rows.filter(has_text=morning.strftime("%a %d %b %Y"))).to_have_count(0)
    journey.checkpoint(desk, "cleared")
    mailbox.expect_text("BOOKING_CANCELLED", "grace@example.com", "Dr. Byron is unwell.")
    mailbox.expect(("BOOKING_CANCELLED", "alan@example.com"))

    patient = browse()
    sign_in(patient, "grace@example.com", FACTORY_PASSWORD)
    use_menu(patient, "Find a doctor")
    patient.get_by_role("link", name="Dr. Ada Byron").click()
    expect(patient.get_by_role("link", name=re.compile("14:30"))).to_be_visible()

    # She hears what the desk did, in its words (at once here: SCHEDULE_EMAIL_DELAY_MINUTES=0).
    mailbox.expect_text(
        "SCHEDULE_CHANGED", "ada.byron@example.com", "Olivia Admin published 2 times"
    )
    mailbox.expect_text(
        "SCHEDULE_CHANGED",
        "ada.byron@example.com",
        "Olivia Admin removed 3 open times and cancelled 2 booked appointments",
    )

    # Her list is full for now: the desk closes it to new patients from her profile.
    desk.get_by_role("link", name="Profile").click()
    expect(desk.get_by_role("heading", name="Profile of Dr. Ada Byron")).to_be_visible()
    desk.get_by_label(re.compile("Not taking new patients")).check()
    desk.get_by_role("button", name="Save profile").click()
    expect(
        desk.get_by_role("alert").filter(has_text="The profile of Dr. Ada Byron is saved.")
    ).to_be_visible()
    journey.checkpoint(desk, "profile")
    newcomer = make.patient(user__full_name="Edsger Dijkstra", user__email="edsger@example.com")
    someone_new = browse()
    sign_in(someone_new, newcomer.user.email, FACTORY_PASSWORD)
    someone_new.goto(patient.url)
    expect(someone_new.get_by_text(re.compile("is not taking new patients"))).to_be_visible()
    expect(someone_new.get_by_role("link", name=re.compile("14:30"))).to_have_count(0)
