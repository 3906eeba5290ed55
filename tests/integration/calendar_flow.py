"""Booking and delivering calendar work in tests, the way the app and its worker do.

Bookings and cancellations go through the booking service inside the Google-enabled app; the
outbox messages they leave are handed to the calendar handlers with googleapiclient's
HttpMockSequence standing in for Google's side of the wire.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from googleapiclient.http import HttpMockSequence
from sqlalchemy import select

from app.extensions import db
from app.models import Appointment, OutboxKind, OutboxMessage, PatientProfile, User
from app.services import booking, calendar_sync
from app.timeutil import utcnow

EVENTS_PATH = "/calendar/v3/calendars/primary/events"
CLINIC_ZONE = ZoneInfo("America/New_York")  # the Google-enabled app's CLINIC_TIMEZONE


@pytest.fixture
def gctx(google_app, google):
    """Run a block as the delivery worker would: in the Google-enabled app, its own session."""
    return google_app.app_context


@pytest.fixture
def parties(make):
    """A doctor, a patient and an open slot of the doctor's three days ahead."""
    doctor = make.doctor(user__full_name="Dr. Amara Okafor", specialization="Cardiology")
    patient = make.patient(user__full_name="Noah Williams")
    start = slot_start()
    slot = make.slot(doctor=doctor, start_at=start, end_at=start + timedelta(minutes=30))
    return doctor, patient, slot


def slot_start(hours_later: int = 0):
    start = (utcnow() + timedelta(days=3)).replace(hour=15, minute=0, second=0, microsecond=0)
    return start + timedelta(hours=hours_later)


def book(gctx, patient, slot, notes="Chest pain after running") -> int:
    with gctx():
        patient = db.session.get(PatientProfile, patient.id)
        appointment = booking.book(patient, slot.id, notes, actor=patient.user)
        db.session.commit()
        return appointment.id


def cancel(gctx, appointment_id: int, actor: User) -> None:
    with gctx():
        booking.cancel(appointment_id, actor=db.session.get(User, actor.id))
        db.session.commit()


def messages(kind: OutboxKind) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
    )


def deliver(gctx, message: OutboxMessage, *responses):
    """Hand one message to its handler; returns the mock so the test can read what was sent."""
    http = HttpMockSequence(list(responses))
    with gctx():
        calendar_sync.HANDLERS[message.kind](message.payload, http=http)
    assert len(http.request_sequence) == len(responses), "Google was asked less than expected"
    return http


def appointment(appointment_id: int) -> Appointment:
    db.session.expire_all()
    return db.session.get(Appointment, appointment_id)
