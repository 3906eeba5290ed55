"""The visit itself: the patient checked in on arrival, then its doctor records whether it
happened, and notes of it."""

import uuid
from datetime import datetime, timedelta

from app.models import Appointment, AppointmentStatus, DoctorProfile, User
from app.repositories import outbox as outbox_repo
from app.repositories import scheduling as repo
from app.services import Conflict, DomainError, NotFound, booking, notifications
from app.services.access import can_manage
from app.services.audit import AuditKind, record
from app.timeutil import local_day_bounds, to_local, utcnow

OUTCOMES = {"completed": AppointmentStatus.COMPLETED, "no_show": AppointmentStatus.NO_SHOW}
MAX_VISIT_NOTES = 4000
CHECK_IN_EARLY = timedelta(hours=2)  # how long before the start a patient may be checked in
LATE_MINUTES = (15, 30, 45, 60, 90)  # what a doctor may say they run late by


def record_outcome(appointment_id: int, outcome: str, *, actor: User, now: datetime | None = None):
    """Only the appointment's own doctor, only once it has started; a mistake can be corrected."""
    now = now or utcnow()
    status = OUTCOMES.get(outcome)
    if status is None:
        raise DomainError("Choose completed or no-show.", field="status")
    appointment = _doctors_own(appointment_id, actor)
    if appointment.status == AppointmentStatus.CANCELLED:
        raise Conflict("This appointment was cancelled.")
    if appointment.start_at > now:
        raise Conflict("An outcome can be recorded once the appointment has started.")
    before = appointment.status
    appointment.status = status
    appointment.outcome_recorded_at = now
    record(AuditKind.APPOINTMENT_OUTCOME, actor=actor, target=appointment, outcome=outcome)
    if status == AppointmentStatus.NO_SHOW and before != AppointmentStatus.NO_SHOW:
        missed = repo.standing(appointment.patient_id, booking.missed_since(now), now).missed
        notifications.appointment_missed(appointment, booking.no_show_warning(missed))
    elif before == AppointmentStatus.NO_SHOW and status != AppointmentStatus.NO_SHOW:
        # a mistake corrected: the email saying they missed it goes only if it has not gone
        outbox_repo.delete_unsent(notifications.missed_key(appointment))
    return appointment


def _doctors_own(appointment_id: int, actor: User) -> Appointment:
    """The appointment, locked, if `actor` is its doctor; anyone else meets a 404."""
    appointment = repo.lock_appointment(appointment_id)
    profile = actor.doctor_profile if actor.is_doctor else None
    if appointment is None or profile is None or appointment.doctor_id != profile.id:
        raise NotFound("That appointment does not exist.")
    return appointment


def notes_refusal(appointment: Appointment, now: datetime, what: str = "Visit notes") -> str | None:
    """Why the visit's notes (or `what` else the doctor writes of it) cannot be written now, or
    None: from its start, unless cancelled (a no-show may have notes too: "phoned, no answer";
    and instructions: "please book again and fast before it")."""
    if appointment.status == AppointmentStatus.CANCELLED:
        return "This appointment was cancelled: there is no visit to write about."
    if appointment.start_at > now:
        return f"{what} can be written once the appointment has started."
    return None


def instructions_refusal(appointment: Appointment, now: datetime) -> str | None:
    return notes_refusal(appointment, now, "Instructions for the patient")


def _doctors_text(
    appointment_id: int, text: str | None, *, actor: User, now: datetime, refusal, what: str
) -> tuple[Appointment, str | None]:
    """The appointment, locked, if `actor` is its doctor and `refusal` lets them write of it now,
    with `text` cleaned (None for nothing) and checked for length."""
    appointment = _doctors_own(appointment_id, actor)
    reason = refusal(appointment, now)
    if reason is not None:
        raise Conflict(reason)
    text = (text or "").strip() or None
    if text is not None and len(text) > MAX_VISIT_NOTES:
        raise DomainError(f"Keep the {what} to {MAX_VISIT_NOTES} characters.", field="notes")
    return appointment, text


def write_notes(
    appointment_id: int, notes: str | None, *, actor: User, now: datetime | None = None
) -> Appointment:
    """The doctor writes, corrects or clears the notes of their visit. The audit trail records
    that they changed, never what they say."""
    appointment, notes = _doctors_text(
        appointment_id, notes, actor=actor, now=now or utcnow(), refusal=notes_refusal, what="notes"
    )
    if notes != appointment.visit_notes:
        appointment.visit_notes = notes
        record(AuditKind.APPOINTMENT_VISIT_NOTES, actor=actor, target=appointment)
    return appointment


def write_instructions(
    appointment_id: int, text: str | None, *, actor: User, now: datetime | None = None
) -> Appointment:
    """The doctor writes, corrects or removes what they ask of the patient after the visit
    (same window as the visit notes). The patient is emailed that there are instructions to
    read, once INSTRUCTIONS_EMAIL_DELAY_MINUTES have passed: corrections made meanwhile add no
    email, and removing them meanwhile sends none. The audit trail records that they changed,
    never what they say."""
    now = now or utcnow()
    appointment, text = _doctors_text(
        appointment_id,
        text,
        actor=actor,
        now=now,
        refusal=instructions_refusal,
        what="instructions",
    )
    if text == appointment.patient_instructions:
        return appointment
    appointment.patient_instructions = text
    appointment.instructions_at = now if text is not None else None
    record(AuditKind.APPOINTMENT_INSTRUCTIONS, actor=actor, target=appointment, removed=not text)
    if text is None:
        outbox_repo.delete_unsent(notifications.instructions_key(appointment))
    else:
        notifications.visit_instructions(appointment, now)
    return appointment


def notes_writable_ids(appointments: list[Appointment], now: datetime) -> set[int]:
    """The appointments on a doctor's page whose visit notes can be written now."""
    return {a.id for a in appointments if notes_refusal(a, now) is None}


def check_in_refusal(appointment: Appointment, now: datetime) -> str | None:
    """Why the patient cannot be checked in now, or None: a booked appointment, from
    CHECK_IN_EARLY before its start to its end, once."""
    if appointment.status != AppointmentStatus.BOOKED:
        return "Only a booked appointment can be checked in."
    if appointment.checked_in_at is not None:
        return "The patient is already checked in."
    if now < appointment.start_at - CHECK_IN_EARLY:
        hours = int(CHECK_IN_EARLY.total_seconds() // 3600)
        return f"Patients are checked in from {hours} hours before their appointment."
    if now >= appointment.end_at:
        return "This appointment is over."
    return None


def check_in(
    appointment_id: int, *, actor: User, undo: bool = False, now: datetime | None = None
) -> Appointment:
    """The patient has arrived (the front desk or the doctor says so); `undo` takes a mistaken
    check-in back while the appointment is still booked."""
    now = now or utcnow()
    appointment = repo.lock_appointment(appointment_id)
    if appointment is None or not can_manage(appointment, actor) or actor.is_patient:
        raise NotFound("That appointment does not exist.")
    if undo:
        if appointment.checked_in_at is None or appointment.status != AppointmentStatus.BOOKED:
            raise Conflict("There is no check-in to take back.")
        appointment.checked_in_at = None
        record(AuditKind.APPOINTMENT_CHECK_IN_UNDONE, actor=actor, target=appointment)
        return appointment
    refusal = check_in_refusal(appointment, now)
    if refusal is not None:
        raise Conflict(refusal)
    appointment.checked_in_at = now
    record(AuditKind.APPOINTMENT_CHECKED_IN, actor=actor, target=appointment)
    return appointment


def check_in_ids(appointments: list[Appointment], now: datetime) -> set[int]:
    """The appointments on a page whose patient can be checked in now."""
    return {a.id for a in appointments if check_in_refusal(a, now) is None}


def running_late(doctor: DoctorProfile, minutes: int, *, actor: User, now: datetime | None = None):
    """The doctor runs `minutes` late: every patient still to come today (booked, not started,
    not checked in: those in the waiting room hear it at the desk) is emailed. Returns how many."""
    now = now or utcnow()
    if minutes not in LATE_MINUTES:
        raise DomainError("Choose how late you are running.", field="minutes")
    end_of_day = local_day_bounds(to_local(now).date())[1]
    still_to_come = [
        appointment
        for appointment in repo.active_appointments_starting(doctor.id, now, end_of_day)
        if appointment.status == AppointmentStatus.BOOKED and appointment.checked_in_at is None
    ]
    event_id = uuid.uuid4().hex[:12]  # one announcement: a second one is news again
    for appointment in still_to_come:
        notifications.running_late(appointment, doctor, appointment.patient, minutes, event_id)
    record(
        AuditKind.DOCTOR_RUNNING_LATE,
        actor=actor,
        target=doctor,
        minutes=minutes,
        told=len(still_to_come),
    )
    return len(still_to_come)
