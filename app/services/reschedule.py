"""Moving an appointment to another slot of the same doctor, in one transaction.

Both slots are locked in ascending id order, so two patients swapping slots cannot deadlock;
the new slot passes the same rules as a new booking; the appointment keeps its id and history.
"""

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import AppointmentChange, AppointmentStatus, Role, User
from app.repositories import scheduling as repo
from app.services import Conflict, NotFound, attendance, notifications, reminders, waitlist
from app.services.access import can_manage
from app.services.audit import AuditKind, record
from app.services.booking import (
    CancelRefused,
    SlotTaken,
    SlotUnavailable,
    check_bookable_time,
    cutoff_message,
    inside_patient_cutoff,
)
from app.timeutil import to_local, utcnow


def move_refusal(appointment, actor: User, now: datetime) -> str | None:
    """Why `actor` may not move this appointment now, or None: for the move and for the pages."""
    if not (actor.is_patient or actor.is_staff):
        return "Only the patient or the clinic can move an appointment."
    if appointment.status != AppointmentStatus.BOOKED or appointment.start_at <= now:
        return "Only upcoming appointments can be moved."
    if inside_patient_cutoff(appointment, actor, now):
        return cutoff_message("moved")
    return None


def reschedule(appointment_id: int, new_slot_id: int, *, actor: User, now: datetime | None = None):
    """Move the appointment; the patient or an admin may (doctors cancel instead)."""
    now = now or utcnow()
    appointment = repo.lock_appointment(appointment_id)
    if (
        appointment is None
        or not (actor.is_patient or actor.is_staff)
        or not can_manage(appointment, actor)
    ):
        raise NotFound("That appointment does not exist.")
    refusal = move_refusal(appointment, actor, now)
    if refusal is not None:
        raise CancelRefused(refusal)
    if new_slot_id == appointment.slot_id:
        raise Conflict("The appointment is already in that slot.")

    slots = repo.lock_slots([s for s in (appointment.slot_id, new_slot_id) if s is not None])
    new_slot = slots.get(new_slot_id)
    if new_slot is None or new_slot.doctor_id != appointment.doctor_id:
        raise SlotUnavailable("That slot is not one of this doctor's open slots.")
    check_bookable_time(new_slot.start_at, now)
    if repo.slot_holder(new_slot.id) is not None:
        raise SlotTaken()
    clash = repo.patient_overlap(
        appointment.patient_id, new_slot.start_at, new_slot.end_at, exclude_id=appointment.id
    )
    if clash is not None:
        whose = "You already have" if actor.role == Role.PATIENT else "The patient already has"
        raise Conflict(f"{whose} another appointment at that time.")

    old_slot = slots.get(appointment.slot_id) if appointment.slot_id else None
    old_start = appointment.start_at
    change = AppointmentChange(
        appointment_id=appointment.id,
        from_slot_id=appointment.slot_id,
        to_slot_id=new_slot.id,
        from_start_at=old_start,
        to_start_at=new_slot.start_at,
        actor_id=actor.id,
    )
    try:
        with db.session.begin_nested():
            appointment.slot_id = new_slot.id
            appointment.start_at = new_slot.start_at
            appointment.end_at = new_slot.end_at
            # said of the old time; choosing a new one close by says it again
            appointment.attendance_confirmed_at = attendance.said_on_booking(new_slot.start_at, now)
            db.session.add(change)
    except IntegrityError:
        raise SlotTaken() from None

    record(
        AuditKind.APPOINTMENT_RESCHEDULED,
        actor=actor,
        target=appointment,
        from_start=old_start.isoformat(),
        to_start=new_slot.start_at.isoformat(),
    )
    reminders.withdraw(appointment)
    notifications.appointment_rescheduled(appointment, old_start, change.id)
    new_day = to_local(new_slot.start_at).date()
    if new_day != to_local(old_start).date():
        waitlist.served(appointment.patient_id, appointment.doctor_id, new_day, actor=actor)
    if old_slot is not None:
        waitlist.slot_freed(old_slot, now)
    return appointment
