"""Clinic closures: days the whole clinic is shut (public holidays).

Closing a day removes every doctor's open slots on it, and with `cancel_booked` cancels its
booked appointments first (each patient emailed), as each doctor's time off would; no doctor can
publish a slot on it afterwards. Every doctor's row is locked first, the lock slot creation
takes too, so a slot published at the same moment is either seen and removed or refused.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import CANCEL_REASON_MAX, ClinicClosure, User
from app.repositories import scheduling as repo
from app.services import Conflict, DomainError, NotFound, availability
from app.services.audit import AuditKind, record
from app.timeutil import local_day_bounds, local_today, utcnow

# The reason also goes to every patient whose appointment the closure cancels (as that
# cancellation's reason), so it can be no longer than one.
MAX_REASON = CANCEL_REASON_MAX


@dataclass(frozen=True)
class Closed:
    closure: ClinicClosure
    removed: int  # open slots removed
    cancelled: int  # booked appointments cancelled first, when asked to
    kept_booked: int  # booked appointments that stand


def close(
    day: date,
    reason: str,
    *,
    actor: User,
    cancel_booked: bool = False,
    now: datetime | None = None,
) -> Closed:
    now = now or utcnow()
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("Say why, for the doctors and the audit trail.", field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(f"At most {MAX_REASON} characters.", field="reason")
    if day < local_today():
        raise DomainError("That day has already passed.", field="day")
    if day > local_today() + timedelta(days=availability.MAX_DAYS_AHEAD):
        raise DomainError(
            f"Closures are set up to {availability.MAX_DAYS_AHEAD} days ahead.", field="day"
        )
    closure = ClinicClosure(day=day, reason=reason, created_by_id=actor.id, created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(closure)
    except IntegrityError:
        raise Conflict(f"The clinic is already closed on {day:%A %d %B %Y}.") from None
    removed = cancelled = kept = 0
    doctors = repo.lock_all_doctors()
    # Only the doctors with slots that day have anything to clear (an active appointment always
    # holds a slot): a few queries each, not a few for every doctor of the clinic.
    start, end = local_day_bounds(day)
    busy = repo.doctors_with_slots_starting(start, end)
    for doctor in (d for d in doctors if d.id in busy):
        result = availability.clear_open_slots(
            doctor,
            first_day=day,
            last_day=day,
            actor=actor,
            now=now,
            cancel_booked=cancel_booked,
            reason=reason,
            tell_doctor=False,  # the clinic's news, not a change to one doctor's hours
        )
        removed += result.removed
        cancelled += result.cancelled
        kept += result.kept_booked
    record(
        AuditKind.CLINIC_CLOSED,
        actor=actor,
        target=closure,
        day=day.isoformat(),
        removed=removed,
        cancelled=cancelled,
        kept_booked=kept,
    )
    return Closed(closure=closure, removed=removed, cancelled=cancelled, kept_booked=kept)


def reopen(closure_id: int, *, actor: User) -> ClinicClosure:
    """The day is open again for doctors to publish slots on; nothing removed comes back."""
    closure = db.session.get(
        ClinicClosure, closure_id, with_for_update=True, populate_existing=True
    )
    if closure is None:
        raise NotFound("That closure does not exist.")
    record(AuditKind.CLINIC_REOPENED, actor=actor, target=closure, day=closure.day.isoformat())
    db.session.delete(closure)
    db.session.flush()
    return closure


def upcoming(today: date | None = None) -> list[ClinicClosure]:
    """Closures from today on, soonest first."""
    today = today or local_today()
    query = select(ClinicClosure).where(ClinicClosure.day >= today).order_by(ClinicClosure.day)
    return list(db.session.scalars(query))
