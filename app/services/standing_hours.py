"""Standing hours: a doctor's weekly template, kept open week after week.

Publishing a weekly template with "Repeat every week" keeps its hours (`keep`). From then on
the outbox worker (`delivery.extend_standing_hours`, with its reminder scan every minute)
publishes each day as it comes into the booking window (BOOKING_MAX_DAYS_AHEAD ahead), with the
template's own rules: closed days, times that overlap the doctor's slots and DST gaps are left
out, and whoever waits for such a day hears of it.

`published_through` is the last day already done. A day is filled once and never again, so time
off taken or a slot deleted on a day already published stays that way. A doctor may keep
several sets (mornings on Mondays, afternoons on Thursdays); stopping one (`stop`) keeps the
slots already published.

Several workers may run this at once: each takes a set's row with SKIP LOCKED, and publishes
under the doctor's row lock, as every change to their slots does.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import DoctorProfile, StandingHours, User
from app.services import Conflict, NotFound, availability, schedule_news
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


MAX_PER_DOCTOR = 10


def of_doctor(doctor: DoctorProfile) -> list[StandingHours]:
    query = select(StandingHours).where(StandingHours.doctor_id == doctor.id)
    return list(db.session.scalars(query.order_by(StandingHours.id)))


def keep(
    doctor: DoctorProfile,
    hours: availability.WeeklyHours,
    *,
    published_through: date,
    actor: User,
) -> StandingHours:
    """Repeat `hours` every week after `published_through` (the weekly template's last day,
    just published), besides any others the doctor keeps. The same hours kept twice are one
    set, published from the later of the two days."""
    kept = of_doctor(doctor)
    standing = next((s for s in kept if weekly_hours(s) == hours), None)
    if standing is None:
        if len(kept) >= MAX_PER_DOCTOR:
            raise Conflict(
                f"{MAX_PER_DOCTOR} sets of weekly hours repeat already: stop one first.",
                field="repeat",
            )
        standing = StandingHours(
            doctor_id=doctor.id,
            weekdays=StandingHours.weekday_bits(hours.weekdays),
            day_start=hours.day_start,
            day_end=hours.day_end,
            break_start=hours.break_start,
            break_end=hours.break_end,
            slot_minutes=hours.slot_minutes,
            published_through=published_through,
        )
        db.session.add(standing)
    else:
        standing.published_through = max(standing.published_through, published_through)
    db.session.flush()
    record(
        AuditKind.STANDING_HOURS_KEPT,
        actor=actor,
        target=doctor,
        standing_hours_id=standing.id,
        slot_minutes=hours.slot_minutes,
        **_described(standing),
    )
    schedule_news.hours_repeat(doctor, actor, _in_words(standing))
    return standing


def weekly_hours(standing: StandingHours) -> availability.WeeklyHours:
    return availability.WeeklyHours(
        tuple(standing.weekday_list),
        standing.day_start,
        standing.day_end,
        standing.slot_minutes,
        standing.break_start,
        standing.break_end,
    )


def _described(standing: StandingHours) -> dict:
    """The set's days and hours, as the audit trail keeps them."""
    details = {
        "weekdays": standing.weekday_list,
        "day_start": standing.day_start.isoformat("minutes"),
        "day_end": standing.day_end.isoformat("minutes"),
    }
    if standing.break_start is not None and standing.break_end is not None:
        details["break_start"] = standing.break_start.isoformat("minutes")
        details["break_end"] = standing.break_end.isoformat("minutes")
    return details


def _in_words(standing: StandingHours) -> str:
    return schedule_news.hours(
        standing.weekday_list,
        standing.day_start,
        standing.day_end,
        standing.break_start,
        standing.break_end,
    )


def stop(doctor: DoctorProfile, standing_id: int, *, actor: User) -> None:
    """These hours repeat no more; the slots already published stay (time off removes them).
    NotFound for hours that are not this doctor's (or are stopped already)."""
    standing = db.session.get(StandingHours, standing_id)
    if standing is None or standing.doctor_id != doctor.id:
        raise NotFound("These hours do not repeat every week (any more).")
    db.session.delete(standing)
    record(
        AuditKind.STANDING_HOURS_STOPPED,
        actor=actor,
        target=doctor,
        standing_hours_id=standing_id,
        **_described(standing),
    )
    schedule_news.hours_stopped(doctor, actor, _in_words(standing))


def due_ids(now: datetime) -> list[int]:
    """The standing hours with days left to publish, of doctors whose account is on (a
    switched-off one's wait, and are not looked at every minute meanwhile)."""
    query = (
        select(StandingHours.id)
        .join(DoctorProfile, DoctorProfile.id == StandingHours.doctor_id)
        .join(User, User.id == DoctorProfile.user_id)
        .where(StandingHours.published_through < horizon(now), User.active.is_(True))
    )
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
    hours = weekly_hours(standing)
    created = 0
    while first <= last:
        through = min(first + timedelta(days=CHUNK_DAYS - 1), last)
        created += availability.publish_weekly(
            doctor, hours, first, through, actor=None, now=now
        ).created
        first = through + timedelta(days=1)
    standing.published_through = last
    return Extended(created, last)
