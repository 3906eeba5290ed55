"""A returning patient's visit, from the front desk to the next appointment: the desk checks
Grace in, the doctor sees her arrive on the day sheet, opens her record with last time's notes,
writes today's, leaves her instructions, records the visit and books her follow-up; she is
emailed about both, follows the email's link to read the instructions and says how the visit
went, which he reads without her name."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import Journey, sign_in, use_menu
from tests.factories import PASSWORD as FACTORY_PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def clinic(db, make):
    """Dr. Byron saw Grace three weeks ago; Grace's visit today began ten minutes ago; Dr. Byron
    has a free time a fortnight ahead."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    doctor = make.doctor(user__full_name="Dr. Ada Byron", user__email="ada.byron@example.com")
    grace = make.patient(user__full_name="Grace Hopper", user__email="grace@example.com")
    make.appointment(
        slot=make.slot(doctor=doctor, start_at=now - timedelta(days=21)),
        patient=grace,
        status="completed",
        visit_notes="Mild hypertension; lifestyle advice.",
    )
    today = make.appointment(
        slot=make.slot(doctor=doctor, start_at=now - timedelta(minutes=10)),
        patient=grace,
        notes="Dizzy in the mornings",
    )
    later = make.slot(doctor=doctor, start_at=(now + timedelta(days=14)).replace(hour=10, minute=0))
    desk = make.admin(email="olivia@example.com", full_name="Olivia Admin")
    return {"today": today, "later": later, "desk": desk}


def test_a_returning_patients_visit_from_the_desk_to_the_follow_up(browse, clinic, mailbox):
    journey = Journey("visit")
    desk = browse()
    sign_in(desk, clinic["desk"].email, FACTORY_PASSWORD)
    use_menu(desk, "Appointments")
    desk.get_by_role("link", name="Today's").click()
    row = desk.get_by_role("row").filter(has_text="Grace Hopper")
    row.get_by_role("button", name="Check in").click()
    expect(desk.get_by_role("alert").filter(has_text="The patient is checked in.")).to_be_visible()
    expect(desk.get_by_role("row").filter(has_text="Grace Hopper")).to_contain_text("Arrived")
    journey.checkpoint(desk, "checked-in")

    doctor = browse()
    sign_in(doctor, "ada.byron@example.com", FACTORY_PASSWORD)
    use_menu(doctor, "Day sheet")
    row = doctor.get_by_role("row").filter(has_text="Grace Hopper")
    expect(row).to_contain_text("Arrived")
    expect(row).to_contain_text("Dizzy in the mornings")
    journey.checkpoint(doctor, "day-sheet")

    row.get_by_role("link", name="Grace Hopper").click()
    expect(doctor.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    expect(doctor.get_by_text("Mild hypertension; lifestyle advice.")).to_be_visible()
    journey.checkpoint(doctor, "record")

    today = doctor.get_by_role("row").filter(has_text="Dizzy in the mornings")
    today.get_by_role("link", name="Write visit notes").click()
    doctor.get_by_label("Visit notes").fill("BP 150/95. Start amlodipine 5 mg.\nReview in 2 weeks.")
    journey.checkpoint(doctor, "visit-notes")
    doctor.get_by_role("button", name="Save notes").click()
    expect(doctor.get_by_role("alert").filter(has_text="are saved")).to_be_visible()
    expect(doctor.get_by_text("Start amlodipine 5 mg.")).to_be_visible()

    today = doctor.get_by_role("row").filter(has_text="Dizzy in the mornings")
    today.get_by_role("link", name="Instructions for the patient").click()
    doctor.get_by_label("Instructions for the patient").fill(
        "Take amlodipine 5 mg each morning.\nMeasure your blood pressure daily until the review."
    )
    journey.checkpoint(doctor, "instructions")
    doctor.get_by_role("button", name="Save instructions").click()
    expect(doctor.get_by_role("alert").filter(has_text="is emailed")).to_be_visible()
    today = doctor.get_by_role("row").filter(has_text="Dizzy in the mornings")
    today.get_by_role("button", name="Completed").click()
    expect(doctor.get_by_role("row").filter(has_text="Dizzy in the mornings")).to_contain_text(
        "Completed"
    )

    doctor.get_by_role("link", name="Book a follow-up").click()
    later = clinic["later"].start_at
    doctor.get_by_label(later.strftime("%H:%M")).check()
    journey.checkpoint(doctor, "follow-up")
    doctor.get_by_role("button", name="Book for Grace Hopper").click()
    expect(doctor.get_by_role("alert").filter(has_text="Booked Grace Hopper on")).to_be_visible()
    expect(doctor.get_by_role("row").filter(has_text=later.strftime("%d %b %Y"))).to_contain_text(
        "Booked"
    )
    journey.checkpoint(doctor, "booked")

    when = later.strftime("%A %d %B %Y, %H:%M")  # the clinic's zone is UTC in these tests
    mail = mailbox.expect_text("BOOKING_CONFIRMATION", "grace@example.com", when)
    assert "amlodipine" not in mail.get_body(("plain",)).get_content()

    news = mailbox.expect_text("VISIT_INSTRUCTIONS", "grace@example.com", "left you instructions")
    text = news.get_body(("plain",)).get_content()
    assert "amlodipine" not in text  # the email says they are there, never what they say
    link = re.search(r"https?://[^/\s]+(/patient/appointments/\d+)", text).group(1)
    patient = browse()
    patient.goto(link)  # signed out: the sign-in page, which comes back here
    patient.get_by_label("Email").fill("grace@example.com")
    patient.get_by_label("Password", exact=True).fill(FACTORY_PASSWORD)
    patient.get_by_role("button", name="Sign in").click()
    expect(patient.get_by_role("heading", name="Instructions from Dr. Ada Byron")).to_be_visible()
    expect(patient.get_by_text("Take amlodipine 5 mg each morning.")).to_be_visible()
    expect(patient.get_by_text("Start amlodipine")).to_have_count(0)  # the visit notes: his own
    journey.checkpoint(patient, "instructions-read")

    # the visit is recorded as completed: she says how it went, and he reads it without her name
    patient.get_by_label("Very good").check()
    patient.get_by_label("Please can you tell us why").fill("He explained everything twice.")
    journey.checkpoint(patient, "feedback")
    patient.get_by_role("button", name="Send").click()
    expect(patient.get_by_role("alert").filter(has_text="Thank you for telling us")).to_be_visible()
    expect(patient.get_by_text("You told us: Very good.")).to_be_visible()
    use_menu(doctor, "Feedback")
    expect(doctor.get_by_text("He explained everything twice.")).to_be_visible()
    expect(doctor.get_by_text("1 answer: 100% good or very good")).to_be_visible()
    expect(doctor.get_by_text("Grace Hopper")).to_have_count(0)
    journey.checkpoint(doctor, "feedback-read")
