"""Appointment reminders, queued once per appointment and start time.

Several workers may run this at once: rows are claimed with SKIP LOCKED on PostgreSQL, and the
outbox's unique idempotency key (which names the start time) refuses a second copy anywhere.
A moved appointment has a new start time, so it is reminded again for the new one; its old,
unsent reminder is withdrawn (deleted), as is a cancelled appointment's.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Appointment, AppointmentStatus
from app.repositories import outbox as outbox_repo
from app.services import notifications
from app.timeutil import utcnow


def due_query(now: datetime, limit: int):
    horizon = now + timedelta(hours=current_app.config["REMINDER_HOURS_BEFORE"])
    return (
        select(Appointment)
        .where(
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.start_at > now,
            Appointment.start_at <= horizon,
            or_(
                Appointment.reminded_for_start_at.is_(None),
                Appointment.reminded_for_start_at != Appointment.start_at,
            ),
        )
        .order_by(Appointment.start_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def queue_due(now: datetime | None = None, limit: int = 500) -> int:
    """Queue reminders for appointments starting within REMINDER_HOURS_BEFORE; returns how many.

    The caller commits (the CLI and the worker each run this as one unit of work).
    """
    now = now or utcnow()
    queued = 0
    for appointment in db.session.scalars(due_query(now, limit)).all():
        try:
            with db.session.begin_nested():
                notifications.appointment_reminder(appointment)
            queued += 1
        except IntegrityError:
            pass  # another worker queued this very reminder first: exactly once holds
        appointment.reminded_for_start_at = appointment.start_at
    db.session.flush()
    return queued


def withdraw(appointment: Appointment) -> int:
    """Delete the reminders not yet sent for this appointment (it was cancelled or moved).

    Deleted, not given up on: nothing went wrong, so the admin dashboard has nothing to count.
    The appointment then counts as never reminded, so one moved back to that start time is
    reminded of it after all. One a worker is sending right now still goes.
    """
    withdrawn = outbox_repo.delete_unsent(f"reminder:{appointment.id}:")
    if withdrawn:
        appointment.reminded_for_start_at = None
    return withdrawn
