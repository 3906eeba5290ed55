"""Time at the edges: the database holds UTC, people see CLINIC_TIMEZONE.

`utcnow()` is the one clock the services read, so tests can move it (time-machine).
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped by a DST change (e.g. 02:30 on a spring-forward night)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["CLINIC_TIMEZONE"])


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC, so say so."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local_to_utc(day: date, at: time, zone: ZoneInfo | None = None) -> datetime:
    """Turn a clinic wall-clock time into UTC, refusing times that do not exist that day."""
    zone = zone or clinic_zone()
    local = datetime.combine(day, at, tzinfo=zone)
    round_trip = local.astimezone(UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise NonexistentLocalTime(f"{day.isoformat()} {at.strftime('%H:%M')} does not exist")
    return local.astimezone(UTC)


def to_local(value: datetime, zone: ZoneInfo | None = None) -> datetime:
    return as_utc(value).astimezone(zone or clinic_zone())


def local_today(zone: ZoneInfo | None = None) -> date:
    return utcnow().astimezone(zone or clinic_zone()).date()


def age_on(born: date, day: date) -> int:
    """Whole years from `born` to `day` (someone born on 29 February ages on 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def local_day_bounds(day: date, zone: ZoneInfo | None = None) -> tuple[datetime, datetime]:
    """The UTC instants at which a clinic day starts and ends (23 or 25 hours on DST days)."""
    zone = zone or clinic_zone()
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def format_local(
    value: datetime | None, fmt: str = "%a %d %b %Y, %H:%M", zone: ZoneInfo | None = None
) -> str:
    if value is None:
        return ""
    return to_local(value, zone).strftime(fmt)
