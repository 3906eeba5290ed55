"""A patient's own data, as one JSON document they can download and keep (the right of access):
their account and details, every appointment they have had or booked, and their waitlist places.

It holds what the patient gave or was told (their doctors' instructions after a visit too): not
the doctors' visit notes, which are the clinic's record and are given on request through the
clinic, and not the audit trail.
"""

from datetime import date, datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Appointment, DoctorProfile, User, VisitFeedback, WaitlistEntry
from app.repositories import scheduling as repo
from app.timeutil import as_utc, utcnow

FORMAT = "hms.patient-data/1"


def _when(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    return as_utc(value).isoformat() if isinstance(value, datetime) else value.isoformat()


def _cancelled_by(appointment: Appointment, me: User) -> str | None:
    by = appointment.cancelled_by_id
    if by is None:
        return None
    if by == me.id:
        return "you"
    return "your doctor" if by == appointment.doctor.user_id else "the clinic"


def _appointment(appointment: Appointment, me: User) -> dict:
    doctor = appointment.doctor
    return {
        "id": appointment.id,
        "doctor": doctor.user.full_name,
        "specialization": doctor.specialization,
        "start": _when(appointment.start_at),
        "end": _when(appointment.end_at),
        "status": appointment.status.value,
        "notes": appointment.notes,
        "booked_at": _when(appointment.created_at),
        "attendance_confirmed_at": _when(appointment.attendance_confirmed_at),
        "checked_in_at": _when(appointment.checked_in_at),
        "cancelled_at": _when(appointment.cancelled_at),
        "cancelled_by": _cancelled_by(appointment, me),
        "cancel_reason": appointment.cancel_reason,
        "instructions": appointment.patient_instructions,  # what the doctor asked of them after
        "instructions_at": _when(appointment.instructions_at),
        "feedback": _feedback(appointment.feedback),
    }


def _feedback(feedback: VisitFeedback | None) -> dict | None:
    """What the patient answered about the visit, if they did."""
    if feedback is None:
        return None
    return {
        "answer": feedback.answer.value,
        "comment": feedback.comment,
        "given_at": _when(feedback.created_at),
    }


def patient_data(user: User, *, now: datetime | None = None) -> dict:
    """Everything above in three statements, however much there is (the user is loaded)."""
    patient = user.patient_profile
    appointments = db.session.scalars(
        repo.appointments(patient=patient)
        .options(joinedload(Appointment.feedback))
        .order_by(Appointment.start_at, Appointment.id)
    )
    entries = db.session.scalars(
        select(WaitlistEntry)
        .options(joinedload(WaitlistEntry.doctor).joinedload(DoctorProfile.user))
        .where(WaitlistEntry.patient_id == patient.id)
        .order_by(WaitlistEntry.day, WaitlistEntry.id)
    )
    return {
        "format": FORMAT,
        "exported_at": _when(now or utcnow()),
        "clinic": {
            "name": current_app.config["CLINIC_NAME"],
            "phone": current_app.config["CLINIC_PHONE"],
        },
        "account": {
            "full_name": user.full_name,
            "email": user.email,
            "phone": user.phone,
            "created_at": _when(user.created_at),
            "last_sign_in_at": _when(user.last_login_at),
            "google_calendar": user.google_email if user.google_connected else None,
            "calendar_subscription": user.calendar_feed_nonce is not None,
        },
        "details": {
            "date_of_birth": _when(patient.date_of_birth),
            "address": patient.address,
            "emergency_contact": patient.emergency_contact,
        },
        "appointments": [_appointment(a, user) for a in appointments],
        "waitlist": [
            {
                "doctor": entry.doctor.user.full_name,
                "day": _when(entry.day),
                "joined_at": _when(entry.created_at),
            }
            for entry in entries
        ],
    }
