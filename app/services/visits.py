"""Visit outcomes: after an appointment starts, its doctor records whether it happened."""

from datetime import datetime

from app.models import AppointmentStatus, User
from app.repositories import scheduling as repo
from app.services import Conflict, DomainError, NotFound
from app.services.audit import AuditKind, record
from app.timeutil import utcnow

OUTCOMES = {"completed": AppointmentStatus.COMPLETED, "no_show": AppointmentStatus.NO_SHOW}


def record_outcome(appointment_id: int, outcome: str, *, actor: User, now: datetime | None = None):
    """Only the appointment's own doctor, only once it has started; a mistake can be corrected."""
    now = now or utcnow()
    status = OUTCOMES.get(outcome)
    if status is None:
        raise DomainError("Choose completed or no-show.", field="status")
    appointment = repo.lock_appointment(appointment_id)
    profile = actor.doctor_profile if actor.is_doctor else None
    if appointment is None or profile is None or appointment.doctor_id != profile.id:
        raise NotFound("That appointment does not exist.")
    if appointment.status == AppointmentStatus.CANCELLED:
        raise Conflict("This appointment was cancelled.")
    if appointment.start_at > now:
        raise Conflict("An outcome can be recorded once the appointment has started.")
    appointment.status = status
    appointment.outcome_recorded_at = now
    record(AuditKind.APPOINTMENT_OUTCOME, actor=actor, target=appointment, outcome=outcome)
    return appointment
