"""After an appointment starts its doctor records whether it happened, and notes of the visit."""

from datetime import datetime

from app.models import Appointment, AppointmentStatus, User
from app.repositories import scheduling as repo
from app.services import Conflict, DomainError, NotFound
from app.services.audit import AuditKind, record
from app.timeutil import utcnow

OUTCOMES = {"completed": AppointmentStatus.COMPLETED, "no_show": AppointmentStatus.NO_SHOW}
MAX_VISIT_NOTES = 4000


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
    appointment.status = status
    appointment.outcome_recorded_at = now
    record(AuditKind.APPOINTMENT_OUTCOME, actor=actor, target=appointment, outcome=outcome)
    return appointment


def _doctors_own(appointment_id: int, actor: User) -> Appointment:
    """The appointment, locked, if `actor` is its doctor; anyone else meets a 404."""
    appointment = repo.lock_appointment(appointment_id)
    profile = actor.doctor_profile if actor.is_doctor else None
    if appointment is None or profile is None or appointment.doctor_id != profile.id:
        raise NotFound("That appointment does not exist.")
    return appointment


def notes_refusal(appointment: Appointment, now: datetime) -> str | None:
    """Why the visit's notes cannot be written now, or None: from its start, unless cancelled
    (a no-show may have notes too: "phoned, no answer")."""
    if appointment.status == AppointmentStatus.CANCELLED:
        return "This appointment was cancelled: there is no visit to write about."
    if appointment.start_at > now:
        return "Visit notes can be written once the appointment has started."
    return None


def write_notes(
    appointment_id: int, notes: str | None, *, actor: User, now: datetime | None = None
) -> Appointment:
    """The doctor writes, corrects or clears the notes of their visit. The audit trail records
    that they changed, never what they say."""
    now = now or utcnow()
    appointment = _doctors_own(appointment_id, actor)
    refusal = notes_refusal(appointment, now)
    if refusal is not None:
        raise Conflict(refusal)
    notes = (notes or "").strip() or None
    if notes is not None and len(notes) > MAX_VISIT_NOTES:
        raise DomainError(f"Keep the notes to {MAX_VISIT_NOTES} characters.", field="notes")
    if notes != appointment.visit_notes:
        appointment.visit_notes = notes
        record(AuditKind.APPOINTMENT_VISIT_NOTES, actor=actor, target=appointment)
    return appointment


def notes_writable_ids(appointments: list[Appointment], now: datetime) -> set[int]:
    """The appointments on a doctor's page whose visit notes can be written now."""
    return {a.id for a in appointments if notes_refusal(a, now) is None}
