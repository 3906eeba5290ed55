"""Standing hours: a doctor's weekly template, kept open week after week.

Publishing a weekly template with "Repeat every week" keeps its hours (`keep`). From then on
the outbox worker (`delivery.extend_standing_hours`, with its reminder scan every minute)
publishes each day as it comes into the booking window (BOOKING_MAX_DAYS_AHEAD ahead), with the
template's own rules: closed days, times that overlap the doctor's slots and DST gaps are left
out, and whoever waits for such a day hears of it.

`published_through` is the last day already done. A day is filled once and never again, so time
off taken or a slot deleted on a day already published stays that way; hours changed apply to
the days not yet published. Stopping (`stop`) keeps the slots already published.

Several workers may run this at once: each takes a doctor's row with SKIP LOCKED, and the
template locks the doctor's row as every change to their slots does.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import DoctorProfile, StandingHours, User
from app.services import NotFound, availability
from app.services.audit import AuditKind, record
from app.timeutil import to_local, utcnow

CHUNK_DAYS = 31  # days published per step: a year of hours is a dozen short steps, not one


@dataclass(frozen=True)
class Extended:
    created: int
    through: date


def horizon(now: datetime) -> date:
    """The last clinic-local day that standing hours are published for: the booking window's."""
    return to_local(now).date() + timedelta(days=current_app.config["BOOKING_MAX_DAYS_AHEAD"])


def of_doctor(doctor: DoctorProfile) -> StandingHours | None:
    return db.session.scalar(select(StandingHours).where(StandingHours.doctor_id == doctor.id))


def keep(
    doctor: DoctorProfile,
    *,
    weekdays: list[int],
    day_start: time,
    day_end: time,
    slot_minutes: int,
    published_through: date,
    actor: User,
) -> StandingHours:
    """Repeat these hours every week after `published_through` (the weekly template's last
    day, just published). Replaces the doctor's standing hours, if any: the new hours apply to
    the days not yet published, and a day already published is not published again."""
    availability.check_weekly_hours(weekdays, day_start, day_end, slot_minutes)
    standing = of_doctor(doctor) or StandingHours(doctor_id=doctor.id)
    if standing.published_through is not None:
        published_through = max(published_through, standing.published_through)
    standing.weekdays = StandingHours.weekday_bits(weekdays)
    standing.day_start, standing.day_end = day_start, day_end
    standing.slot_minutes = slot_minutes
    standing.published_through = published_through
    db.session.add(standing)
    db.session.flush()
    record(
        AuditKind.STANDING_HOURS_KEPT,
        actor=actor,
        target=doctor,
        weekdays=standing.weekday_list,
        day_start=day_start.isoformat("minutes"),
        day_end=day_end.isoformat("minutes"),
        slot_minutes=slot_minutes,
    )
    return standing


def stop(doctor: DoctorProfile, *, actor: User) -> None:
    """No more weekly repeats; the slots already published stay (time off removes them)."""
    standing = of_doctor(doctor)
    if standing is None:
        raise NotFound("These hours are not repeated every week.")
    db.session.delete(standing)
    record(AuditKind.STANDING_HOURS_STOPPED, actor=actor, target=doctor)


def due_ids(now: datetime) -> list[int]:
    """The standing hours with days left to publish."""
    query = select(StandingHours.id).where(StandingHours.published_through < horizon(now))
    return list(db.session.scalars(query.order_by(StandingHours.id)))


def extend(standing_id: int, now: datetime | None = None) -> Extended | None:
    """Publish the days of these standing hours not yet published, up to the horizon; None
    when another worker holds them, they are gone, or their doctor's account is switched off
    (their days wait: once it is back on, the hours are published from that day on). The
    caller commits."""
    now = now or utcnow()
    standing = db.session.scalar(
        select(StandingHours)
        .where(StandingHours.id == standing_id)
        .with_for_update(skip_locked=True)
    )
    if standing is None:
        return None
    doctor = db.session.get(DoctorProfile, standing.doctor_id)
    if not doctor.user.active:
        return None
    last = horizon(now)
    first = max(standing.published_through + timedelta(days=1), to_local(now).date())
    hours = availability.WeeklyHours(
        tuple(standing.weekday_list), standing.day_start, standing.day_end, standing.slot_minutes
    )
    created = 0
    while first <= last:
        through = min(first + timedelta(days=CHUNK_DAYS - 1), last)
        created += availability.publish_weekly(
            doctor, hours, first, through, actor=None, now=now
        ).created
        first = through + timedelta(days=1)
    standing.published_through = last
    return Extended(created, last)
