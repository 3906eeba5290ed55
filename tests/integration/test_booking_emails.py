"""Booking and cancelling tell both parties by email, through the outbox and the email service.

Written against the booking service's API before it was merged (see the skip below).
"""

import importlib.util

import pytest
from sqlalchemy import select

from app.models import Appointment
from tests.integration.outbox_helpers import run_once

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("app.services.booking") is None,
    reason="app.services.booking is not merged yet",
)


def actions_to(mailbox, address: str) -> list[str]:
    return [m["X-HMS-Action"] for m in mailbox.to(address)]


def test_booking_then_cancelling_emails_patient_and_doctor_once_each(
    db, make, runner, email_service, mailbox
):
    from app.services import booking

    patient = make.patient(user__email="patient@example.com")
    slot = make.slot(doctor=make.doctor(user__email="doctor@example.com"))

    booking.book(patient, slot.id, "Bring previous results", actor=patient.user)
    db.session.commit()
    assert "2 sent" in run_once(runner)

    assert actions_to(mailbox, "patient@example.com") == ["BOOKING_CONFIRMATION"]
    assert actions_to(mailbox, "doctor@example.com") == ["BOOKING_CONFIRMATION"]

    appointment = db.session.scalar(select(Appointment))
    booking.cancel(appointment.id, actor=patient.user)
    db.session.commit()
    assert "2 sent" in run_once(runner)

    expected = ["BOOKING_CONFIRMATION", "BOOKING_CANCELLED"]
    assert actions_to(mailbox, "patient@example.com") == expected
    assert actions_to(mailbox, "doctor@example.com") == expected
