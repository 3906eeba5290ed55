"""The day before: the reminders go out, Grace answers hers from her phone without signing in,
and the front desk, looking over tomorrow, sees who said they will come and calls the one who
has not."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import PHONE, Journey, sign_in, use_menu
from tests.factories import PASSWORD as FACTORY_PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def tomorrow(db, make):
    """Grace and Alan see Dr. Byron in about 20 hours; the desk is Olivia."""
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=20)
    doctor = make.doctor(user__full_name="Dr. Ada Byron")
    grace = make.patient(user__full_name="Grace Hopper", user__email="grace@example.com")
    alan = make.patient(user__full_name="Alan Turing", user__phone="+44 161 496 0000")
    for patient, offset in ((grace, 0), (alan, 30)):
        make.appointment(
            slot=make.slot(doctor=doctor, start_at=start + timedelta(minutes=offset)),
            patient=patient,
        )
    desk = make.admin(email="olivia@example.com", full_name="Olivia Admin")
    return {"start": start, "desk": desk}


def test_a_patient_confirms_from_the_reminder_and_the_desk_calls_the_other(
    browse, live_server, mailbox, tomorrow
):
    journey = Journey("reminder")
    live_server.flask("reminders", "send")  # what the worker does on its schedule
    mail = mailbox.expect_text("APPOINTMENT_REMINDER", "grace@example.com", "Will you come?")
    text = mail.get_body(("plain",)).get_content()
    link = re.search(r"Tell us with one click: (\S+)", text).group(1)

    phone = browse(PHONE)  # opened from the email on her phone: not signed in
    phone.goto(link)
    expect(phone.get_by_role("heading", name="Your appointment")).to_be_visible()
    expect(phone.get_by_text("Dr. Ada Byron")).to_be_visible()
    journey.checkpoint(phone, "link")
    phone.get_by_role("button", name="Yes, I will be there").click()
    thanks = phone.get_by_role("alert").filter(has_text="The clinic knows you will come.")
    expect(thanks).to_be_visible()
    expect(phone.get_by_role("button", name="Yes, I will be there")).to_have_count(0)
    journey.checkpoint(phone, "confirmed")

    desk = browse()
    sign_in(desk, tomorrow["desk"].email, FACTORY_PASSWORD)
    use_menu(desk, "Appointments")
    start = tomorrow["start"]
    desk.get_by_label("From", exact=True).fill(start.date().isoformat())
    desk.get_by_label("To", exact=True).fill((start + timedelta(hours=1)).date().isoformat())
    desk.get_by_role("button", name="Filter").click()
    expect(desk.get_by_role("row").filter(has_text="Grace Hopper")).to_contain_text(
        "Said they will come"
    )
    alan = desk.get_by_role("row").filter(has_text="Alan Turing")
    expect(alan).to_contain_text("Not confirmed yet")
    expect(alan.get_by_role("link", name="+44 161 496 0000")).to_be_visible()
    journey.checkpoint(desk, "tomorrow")

    alan.get_by_role("button", name="Confirmed by phone").click()  # Alan said yes on the phone
    noted = desk.get_by_role("alert").filter(has_text="Noted: the patient will come")
    expect(noted).to_be_visible()
    expect(desk.get_by_role("row").filter(has_text="Alan Turing")).to_contain_text(
        "Said they will come"
    )
