"""A doctor's email settings: which emails about their appointments they want."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import Appointment, AuditEvent, OutboxKind, OutboxMessage
from app.services import reminders
from tests.helpers import text_of


def days_from_now(days: float, hour: int = 9) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


@pytest.fixture
def doctor(make):
    return make.doctor(user__email="dr.busy@example.com")


@pytest.fixture
def patient(make):
    return make.patient(user__email="pat@example.com")


def emails(db) -> list[tuple[str, str]]:
    """(action, to) of every email queued, in order."""
    db.session.expire_all()
    query = select(OutboxMessage.payload).where(OutboxMessage.kind == OutboxKind.EMAIL)
    return [(p["action"], p["to"]) for p in db.session.scalars(query.order_by(OutboxMessage.id))]


def box(page: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)


def test_both_are_on_until_the_doctor_turns_them_off(client, db, login_as, doctor):
    login_as(client, doctor.user)
    page = text_of(client.get("/doctor/emails"))
    assert "checked" in box(page, "booking_emails") and "checked" in box(page, "reminder_emails")
    assert 'href="/doctor/emails"' in text_of(client.get("/doctor/profile"))

    response = client.post("/doctor/emails", data={"reminder_emails": "y"})

    assert response.status_code == 302
    assert "Your email settings have been saved." in text_of(client.get("/doctor/emails"))
    db.session.expire_all()
    assert (doctor.booking_emails, doctor.reminder_emails) == (False, True)
    page = text_of(client.get("/doctor/emails"))
    assert "checked" not in box(page, "booking_emails") and "checked" in box(
        page, "reminder_emails"
    )
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "profile.updated")).one()
    assert (event.actor_id, event.details["fields"]) == (doctor.user.id, ["booking_emails"])


def test_without_booking_emails_only_the_patient_hears_of_bookings_cancels_and_moves(
    client, db, make, login_as, doctor, patient
):
    doctor.booking_emails = False
    db.session.commit()
    first, later = (make.slot(doctor=doctor, start_at=days_from_now(d)) for d in (5, 6))
    login_as(client, patient.user)

    assert client.post(f"/booking/slots/{first.id}").status_code == 302
    appointment = db.session.scalar(select(Appointment))
    moved = client.post(
        f"/booking/appointments/{appointment.id}/reschedule", data={"slot_id": str(later.id)}
    )
    assert moved.status_code == 302
    assert client.post(f"/booking/appointments/{appointment.id}/cancel").status_code == 302

    assert emails(db) == [
        ("BOOKING_CONFIRMATION", "pat@example.com"),
        ("BOOKING_RESCHEDULED", "pat@example.com"),
        ("BOOKING_CANCELLED", "pat@example.com"),
    ]


def test_with_them_on_the_doctor_hears_of_each(client, db, make, login_as, doctor, patient):
    slot = make.slot(doctor=doctor, start_at=days_from_now(5))
    login_as(client, patient.user)

    client.post(f"/booking/slots/{slot.id}")

    assert emails(db) == [
        ("BOOKING_CONFIRMATION", "pat@example.com"),
        ("BOOKING_CONFIRMATION", "dr.busy@example.com"),
    ]


@pytest.mark.parametrize("doctor_wants", [True, False])
def test_reminders_go_to_the_doctor_only_when_they_want_them(
    db, make, doctor, patient, doctor_wants
):
    doctor.reminder_emails = doctor_wants
    db.session.commit()
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    make.appointment(slot=make.slot(doctor=doctor, start_at=soon), patient=patient)

    assert reminders.queue_due() == 1
    db.session.commit()

    expected = [("APPOINTMENT_REMINDER", "pat@example.com")]
    if doctor_wants:
        expected.append(("APPOINTMENT_REMINDER", "dr.busy@example.com"))
    assert emails(db) == expected
