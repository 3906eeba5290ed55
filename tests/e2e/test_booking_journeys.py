"""Patients find a doctor, book, cancel, and lose a race politely; everyone is told by email."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import PHONE, Journey, fill_account, sign_in, sign_up_patient, use_menu
from tests.factories import PASSWORD as FACTORY_PASSWORD

pytestmark = pytest.mark.e2e

NOTE = "Bring last year's ECG, please."


def morning(days_ahead: int, hour: int, minute: int = 0) -> datetime:
    day = datetime.now(UTC) + timedelta(days=days_ahead)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def slots_for(make, doctor, *starts: datetime):
    return [make.slot(doctor=doctor, start_at=s, end_at=s + timedelta(minutes=30)) for s in starts]


@pytest.fixture
def cardiologist(make):
    """A cardiologist with three open slots in three days' time, and a dermatologist."""
    doctor = make.doctor(
        user__full_name="Dr. Ada Byron",
        user__email="ada.byron@example.com",
        specialization="Cardiology",
        bio="Heart rhythm specialist.",
    )
    make.doctor(user__full_name="Dr. Skin Deep", specialization="Dermatology")
    slots_for(make, doctor, morning(3, 9), morning(3, 9, 30), morning(3, 10))
    return doctor


def open_slot_link(page: Page, start: datetime):
    return page.get_by_role("link", name=re.compile(start.strftime("%H:%M")))


def test_a_visitor_picks_a_time_before_having_an_account_and_books_it(
    browse, cardiologist, mailbox
):
    """Grace looks the clinic's doctors over first; the time she picks is waiting for her once
    she has signed up."""
    journey = Journey("visitor")
    page = browse(PHONE)
    page.goto("/")
    page.get_by_role("link", name="See our doctors and their open times").click()
    page.get_by_label("Specialization").select_option("Cardiology")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Dr. Ada Byron")).to_be_visible()
    expect(page.get_by_text("Dr. Skin Deep")).to_have_count(0)
    journey.checkpoint(page, "doctors")
    page.get_by_role("link", name="Dr. Ada Byron").click()
    expect(page.get_by_text("Heart rhythm specialist.")).to_be_visible()
    journey.checkpoint(page, "doctor")

    start = morning(3, 9, 30)
    open_slot_link(page, start).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_role("link", name="patient", exact=True).click()
    fill_account(page, "Grace Hopper", "grace@example.com")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_text("Your patient account is ready.")).to_be_visible()
    expect(page.get_by_text(start.strftime("%A %d %B %Y, %H:%M"))).to_be_visible()
    journey.checkpoint(page, "confirm")
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_role("alert").filter(has_text="Your appointment is booked.")).to_be_visible()
    mailbox.expect(("BOOKING_CONFIRMATION", "grace@example.com"))


def test_patient_finds_a_doctor_books_and_both_are_told(browse, cardiologist, mailbox):
    journey = Journey("book")
    page = browse(PHONE)  # this journey is made on a phone: the menu is behind its toggler
    sign_up_patient(page, "Grace Hopper", "grace@example.com")

    use_menu(page, "Find a doctor")
    page.get_by_label("Specialization").select_option("Cardiology")
    page.get_by_label("Free on (optional)").fill(morning(3, 9).date().isoformat())
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("table", name="Doctors")
    expect(results.get_by_role("link", name="Dr. Ada Byron")).to_be_visible()
    expect(results.get_by_text("Dr. Skin Deep")).to_have_count(0)
    expect(results.get_by_text("09:00")).to_be_visible()  # her first time that day
    journey.checkpoint(page, "search")

    results.get_by_role("link", name="Dr. Ada Byron").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dr. Ada Byron")
    expect(page.get_by_text("Heart rhythm specialist.")).to_be_visible()
    journey.checkpoint(page, "doctor-profile")

    start = morning(3, 9, 30)
    open_slot_link(page, start).click()
    expect(page.get_by_text(start.strftime("%A %d %B %Y, %H:%M"))).to_be_visible()
    page.get_by_label("Anything the doctor should know?").fill(NOTE)
    journey.checkpoint(page, "confirm")
    page.get_by_role("button", name="Confirm booking").click()

    expect(page.get_by_role("alert").filter(has_text="Your appointment is booked.")).to_be_visible()
    upcoming = page.get_by_role("table", name="Your upcoming appointments")
    expect(upcoming.get_by_role("row").filter(has_text="Dr. Ada Byron")).to_contain_text(
        start.strftime("%d %b %Y, %H:%M")
    )
    journey.checkpoint(page, "patient-dashboard")

    # Later she remembers her medication and adds it to the note.
    upcoming.get_by_role("row").filter(has_text="Dr. Ada Byron").get_by_role(
        "link", name="Edit note"
    ).click()
    note = page.get_by_label("Anything the doctor should know?")
    expect(note).to_have_value(NOTE)
    note.fill(f"{NOTE} Taking ramipril.")
    journey.checkpoint(page, "note")
    page.get_by_role("button", name="Save note").click()
    expect(page.get_by_role("alert").filter(has_text="Your note for Dr. Ada Byron")).to_be_visible()

    doctor_page = browse()
    sign_in(doctor_page, "ada.byron@example.com", FACTORY_PASSWORD)
    upcoming = doctor_page.get_by_role("table", name="Your upcoming appointments")
    booked = upcoming.get_by_role("row").filter(has_text="Grace Hopper")
    expect(booked).to_contain_text(start.strftime("%d %b %Y, %H:%M"))
    expect(booked).to_contain_text(f"{NOTE} Taking ramipril.")
    journey.checkpoint(doctor_page, "doctor-dashboard")

    mails = mailbox.expect(
        ("BOOKING_CONFIRMATION", "grace@example.com"),
        ("BOOKING_CONFIRMATION", "ada.byron@example.com"),
    )
    patient_mail = mails["BOOKING_CONFIRMATION", "grace@example.com"]
    assert "Dr. Ada Byron" in patient_mail.get_body(("plain",)).get_content()
    doctor_mail = mails["BOOKING_CONFIRMATION", "ada.byron@example.com"]
    assert NOTE in doctor_mail.get_body(("plain",)).get_content()


def test_patient_cancels_and_the_slot_opens_again(page, make, cardiologist, mailbox):
    journey = Journey("cancel")
    patient = make.patient(user__full_name="Grace Hopper", user__email="grace@example.com")
    (slot,) = slots_for(make, cardiologist, morning(4, 11))
    make.appointment(patient=patient, slot=slot)
    start = slot.start_at

    sign_in(page, "grace@example.com", FACTORY_PASSWORD)
    use_menu(page, "My appointments")
    row = page.get_by_role("row").filter(has_text="Dr. Ada Byron")
    expect(row).to_contain_text(start.strftime("%H:%M"))
    journey.checkpoint(page, "my-appointments")
    row.get_by_role("button", name="Cancel").click()  # the page asks first, with the time
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(start.strftime("%d %b %Y, %H:%M"))
    journey.checkpoint(page, "asked")
    dialog.get_by_role("button", name="Keep it").click()  # "no"
    expect(dialog).to_be_hidden()
    page.reload()
    expect(page.get_by_role("row").filter(has_text="Dr. Ada Byron")).to_contain_text("Booked")

    row.get_by_role("button", name="Cancel").click()
    page.get_by_label("Reason, for the email to both of you (optional)").fill("Feeling better")
    dialog.get_by_role("button", name="Cancel the appointment").click()  # and now "yes"
    expect(page.get_by_role("alert").filter(has_text="has been cancelled")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Dr. Ada Byron")).to_contain_text(
        "Cancelled by you: Feeling better"
    )
    journey.checkpoint(page, "cancelled")

    use_menu(page, "Find a doctor")
    page.get_by_role("link", name="Dr. Ada Byron").click()
    open_slot_link(page, start).click()
    expect(page.get_by_text(start.strftime("%A %d %B %Y, %H:%M"))).to_be_visible()
    expect(page.get_by_role("button", name="Confirm booking")).to_be_enabled()
    journey.checkpoint(page, "bookable-again")

    mails = mailbox.expect(
        ("BOOKING_CANCELLED", "grace@example.com"),
        ("BOOKING_CANCELLED", "ada.byron@example.com"),
    )
    body = mails["BOOKING_CANCELLED", "ada.byron@example.com"].get_body(("plain",)).get_content()
    assert "Cancelled by: Grace Hopper\n\nReason: Feeling better" in body


def test_two_patients_race_for_one_slot(browse, make, cardiologist):
    journey = Journey("race")
    for name, email in (("Ann First", "ann@example.com"), ("Bob Second", "bob@example.com")):
        make.patient(user__full_name=name, user__email=email)
    contested = morning(3, 9)
    pages = []
    for email in ("ann@example.com", "bob@example.com"):
        page = browse()
        sign_in(page, email, FACTORY_PASSWORD)
        page.goto(f"/patient/doctors/{cardiologist.id}")
        open_slot_link(page, contested).click()
        pages.append(page)

    # Both press "Book" together: the two requests reach gunicorn's two workers at once.
    with (
        pages[0].expect_response(lambda r: r.request.method == "POST") as first,
        pages[1].expect_response(lambda r: r.request.method == "POST") as second,
    ):
        for page in pages:
            page.get_by_role("button", name="Confirm booking").click(no_wait_after=True)
    statuses = sorted([first.value.status, second.value.status])
    assert statuses == [302, 409], statuses
    loser = pages[0] if first.value.status == 409 else pages[1]

    expect(loser.get_by_text("Sorry, this slot was just taken by someone else.")).to_be_visible()
    for other in (morning(3, 9, 30), morning(3, 10)):
        expect(open_slot_link(loser, other)).to_be_visible()
    expect(open_slot_link(loser, contested)).to_have_count(0)
    journey.checkpoint(loser, "slot-just-taken")
