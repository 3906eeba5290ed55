"""The clinic's usage figures, as the admin dashboard and its charts show them.

Counting happens in SQL (app.repositories.stats); this module names the figures, fills the
days nobody booked, and turns counts into rates, so the page, the charts and their text
alternatives all read the same numbers.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.caching import cached_for
from app.models import AppointmentStatus, Role
from app.repositories import outbox as outbox_repo
from app.repositories import stats as repo
from app.timeutil import clinic_zone, local_day_bounds, utcnow

BOOKING_DAYS = 30
UTILISATION_DAYS = 14
TOP = 10
# Whole-table aggregates, asked for five times per view (the page and its four charts): up to
# half a minute old is as good for a usage dashboard.
CACHE_SETTING = "ADMIN_STATS_CACHE_SECONDS"
# A message pending longer than this is not being sent: the outbox worker is not running (it
# sends within seconds, or marks a failure for a retry).
EMAIL_STALLED_AFTER = timedelta(minutes=5)


def percent(part: int, whole: int) -> float | None:
    """A percentage rounded to one decimal; None when there is nothing to divide by."""
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class Overview:
    doctors: int
    patients: int
    admins: int
    upcoming: int
    completed: int
    cancelled: int
    no_show: int
    awaiting_outcome: int  # booked, already started, no outcome recorded yet
    open_slots: int
    doctors_waiting: int  # for the front desk's approval

    @property
    def past(self) -> int:
        """Appointments that were due to happen by now (cancelled ones never were)."""
        return self.completed + self.no_show + self.awaiting_outcome

    @property
    def completion_rate(self) -> float | None:
        return percent(self.completed, self.past)

    @property
    def no_show_rate(self) -> float | None:
        return percent(self.no_show, self.past)


@dataclass(frozen=True)
class Bookings:
    booked: int
    cancelled: int  # of `booked`, how many have been cancelled since

    @property
    def cancellation_rate(self) -> float | None:
        return percent(self.cancelled, self.booked)


@dataclass(frozen=True)
class Day(Bookings):
    day: date


@dataclass(frozen=True)
class Utilisation:
    full_name: str
    specialization: str
    published: int
    booked: int

    @property
    def rate(self) -> float:
        return percent(self.booked, self.published) or 0.0


@cached_for(CACHE_SETTING)
def overview(now: datetime | None = None) -> Overview:
    now = now or utcnow()
    users = repo.user_counts()
    roles = users.by_role
    statuses = {row.status: row for row in repo.appointments_by_status(now)}

    def total(status: AppointmentStatus) -> int:
        return statuses[status].total if status in statuses else 0

    booked = statuses.get(AppointmentStatus.BOOKED)
    upcoming = booked.future if booked else 0
    return Overview(
        doctors=roles.get(Role.DOCTOR, 0),
        patients=roles.get(Role.PATIENT, 0),
        admins=roles.get(Role.ADMIN, 0),
        upcoming=upcoming,
        completed=total(AppointmentStatus.COMPLETED),
        cancelled=total(AppointmentStatus.CANCELLED),
        no_show=total(AppointmentStatus.NO_SHOW),
        awaiting_outcome=total(AppointmentStatus.BOOKED) - upcoming,
        open_slots=repo.open_slot_count(now),
        doctors_waiting=users.doctors_waiting,
    )


@cached_for(CACHE_SETTING)
def daily_bookings(now: datetime | None = None, days: int = BOOKING_DAYS) -> list[Day]:
    """Bookings made on each of the last `days` clinic days (today included), oldest first."""
    now = now or utcnow()
    today = now.astimezone(clinic_zone()).date()
    calendar = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
    bounds = [local_day_bounds(day)[0] for day in calendar] + [local_day_bounds(today)[1]]
    counts = {row.index: row for row in repo.bookings_by_day(bounds)}
    return [
        Day(booked=counts[i].booked, cancelled=counts[i].cancelled, day=day)
        if i in counts
        else Day(booked=0, cancelled=0, day=day)
        for i, day in enumerate(calendar)
    ]


def window_total(days: list[Day]) -> Bookings:
    """The whole window as one figure: how many of its bookings were cancelled."""
    return Bookings(sum(d.booked for d in days), sum(d.cancelled for d in days))


@cached_for(CACHE_SETTING)
def slot_utilisation(
    now: datetime | None = None, days: int = UTILISATION_DAYS, limit: int = TOP
) -> list[Utilisation]:
    """Booked / published slots per doctor over the coming `days`, the busiest `limit` doctors."""
    now = now or utcnow()
    rows = repo.slot_utilisation(now, now + timedelta(days=days), limit)
    return [Utilisation(r.full_name, r.specialization, r.published, r.booked) for r in rows]


@cached_for(CACHE_SETTING)
def busiest_specializations(
    now: datetime | None = None, days: int = BOOKING_DAYS, limit: int = TOP
) -> list[tuple[str, int]]:
    """Specializations by appointments booked (and still not cancelled) in the last `days`."""
    now = now or utcnow()
    today = now.astimezone(clinic_zone()).date()
    since = local_day_bounds(today - timedelta(days=days - 1))[0]
    return repo.bookings_by_specialization(since, limit)


@dataclass(frozen=True)
class EmailQueue:
    """The outbox as an admin needs it: is email going out? Live, not cached."""

    waiting: int
    retrying: int
    dead: int
    oldest_waiting: datetime | None
    stalled: bool  # something has waited longer than EMAIL_STALLED_AFTER


def email_queue(now: datetime | None = None) -> EmailQueue:
    now = now or utcnow()
    row = outbox_repo.backlog()
    oldest = row.oldest_waiting
    return EmailQueue(
        waiting=row.waiting,
        retrying=row.retrying,
        dead=row.dead,
        oldest_waiting=oldest,
        stalled=oldest is not None and now - oldest > EMAIL_STALLED_AFTER,
    )
