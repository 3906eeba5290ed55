"""Patients confirm they will come: the front desk then knows whom to call before a clinic day.

The reminder email carries a link that confirms without signing in: a signed payload naming the
appointment and the start time it was sent for (app.services.signed_links), so that a link from
before a move cannot confirm the new time, and one left in a mailbox stops with the visit. It
does nothing else: cancelling still asks the patient to sign in, since a forwarded email should
not be able to cancel someone's visit. Signed in, the patient confirms from their appointments;
the front desk and the doctor record a confirmation the patient gave them by phone.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from app.extensions import db
from app.models import Appointment, AppointmentStatus, DoctorProfile, PatientProfile, User
from app.repositories import scheduling as repo
from app.services import Conflict, NotFound
from app.services.access import can_manage
from app.services.audit import AuditKind, record
from app.services.signed_links import InvalidLink, SignedLink
from app.timeutil import local_day_bounds, to_local, utcnow

LINKS = SignedLink("hms.attendance", lambda: link_max_age_hours() * 3600)
MOVED = (
    "This link was for the time your appointment had before it moved. It is now at a new "
    "time: the reminder for that time has a link of its own."
)


def link_max_age_hours() -> int:
    """A link lives a day longer than the reminder that carries it is sent ahead of the visit;
    the visit's start ends it sooner anyway."""
    return current_app.config["REMINDER_HOURS_BEFORE"] + 24


def make_token(appointment: Appointment) -> str:
    return LINKS.make([appointment.id, _stamp(appointment.start_at)])


def _stamp(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass(frozen=True)
class LinkedVisit:
    """What the link's page shows: the appointment and who it is with."""

    appointment: Appointment
    doctor: DoctorProfile
    patient: PatientProfile


def visit_for_token(token: str, *, lock: bool = False) -> LinkedVisit:
    """The appointment a link was made for, or InvalidLink; Conflict when it has moved since."""
    appointment_id, start_stamp = LINKS.read(token, (int, int))
    appointment = (
        repo.lock_appointment(appointment_id)
        if lock
        else db.session.get(Appointment, appointment_id)
    )
    if appointment is None:  # signed by us, so it existed: nothing deletes appointments
        raise InvalidLink(InvalidLink.INVALID)
    if _stamp(appointment.start_at) != start_stamp:
        raise Conflict(MOVED)
    doctor = db.session.get(DoctorProfile, appointment.doctor_id)
    patient = db.session.get(PatientProfile, appointment.patient_id)
    return LinkedVisit(appointment, doctor, patient)


def refusal(appointment: Appointment, now: datetime) -> str | None:
    """Why the patient's coming cannot be confirmed now, or None. Confirming twice is no
    refusal: the second click (the email opened again) is told it is already done."""
    if appointment.status == AppointmentStatus.CANCELLED:
        return "This appointment was cancelled, so there is nothing to confirm."
    if appointment.status != AppointmentStatus.BOOKED or appointment.start_at <= now:
        return "This appointment has already started."
    return None


def confirm_from_link(token: str, *, now: datetime | None = None) -> LinkedVisit:
    """The patient clicked "I will be there" on the reminder's page. Recorded once."""
    now = now or utcnow()
    visit = visit_for_token(token, lock=True)
    user = visit.patient.user
    if not user.active:
        phone = current_app.config["CLINIC_PHONE"]
        raise Conflict(f"This account is closed. Please call the clinic on {phone}.")
    _confirm(visit.appointment, actor=user, via="email link", now=now)
    return visit


def confirm(appointment_id: int, *, actor: User, now: datetime | None = None) -> Appointment:
    """Signed in: the appointment's patient says they will come, or its doctor or the front desk
    records that the patient told them so (by phone, say). Anyone else meets a 404."""
    now = now or utcnow()
    appointment = repo.lock_appointment(appointment_id)
    if appointment is None or not can_manage(appointment, actor):
        raise NotFound("That appointment does not exist.")
    via = "patient" if actor.is_patient else "told the clinic"
    _confirm(appointment, actor=actor, via=via, now=now)
    return appointment


def _confirm(appointment: Appointment, *, actor: User, via: str, now: datetime) -> None:
    problem = refusal(appointment, now)
    if problem is not None:
        raise Conflict(problem)
    if appointment.attendance_confirmed_at is None:
        appointment.attendance_confirmed_at = now
        record(AuditKind.APPOINTMENT_ATTENDANCE_CONFIRMED, actor=actor, target=appointment, via=via)


def said_on_booking(start_at: datetime, now: datetime) -> datetime | None:
    """`attendance_confirmed_at` for a time booked (or moved to) at `now`: booking it inside the
    reminder's reach is saying one will come, so nobody asks again; further ahead, None."""
    return now if start_at <= now + _reach() else None


def _reach() -> timedelta:
    return timedelta(hours=current_app.config["REMINDER_HOURS_BEFORE"])


def asked(appointment: Appointment, now: datetime) -> bool:
    """Whether the clinic is asking about this appointment yet: booked, unconfirmed, and starting
    within the reminder's reach (a visit weeks away needs no answer; booking it said as much)."""
    return (
        appointment.attendance_confirmed_at is None
        and refusal(appointment, now) is None
        and appointment.start_at <= now + _reach()
    )


def asked_ids(appointments: list[Appointment], now: datetime) -> set[int]:
    """The appointments on a patient's page that get an "I will come" button."""
    return {a.id for a in appointments if asked(a, now)}


def desk_asks(appointment: Appointment, now: datetime) -> bool:
    """Whether the front desk (or the doctor) should still hear from this patient: as `asked`,
    but reaching to the end of tomorrow too, since the desk calls tomorrow's patients whatever
    the hour the reminders go."""
    end_of_tomorrow = local_day_bounds(to_local(now).date() + timedelta(days=1))[1]
    return (
        appointment.attendance_confirmed_at is None
        and refusal(appointment, now) is None
        and appointment.start_at < max(now + _reach(), end_of_tomorrow)
    )


def desk_asks_ids(appointments: list[Appointment], now: datetime) -> set[int]:
    """The appointments on a staff page that get a "Confirmed by phone" button."""
    return {a.id for a in appointments if desk_asks(a, now)}
