"""A doctor hears when someone else changes their schedule.

The front desk keeps many doctors' schedules: it publishes a week, clears a day off, deletes a
time, sets hours to repeat. Each change is a line of one email to the doctor
(`notifications.schedule_changed`), so that a sitting at the desk is one email rather than one
a click. A doctor's own changes tell nobody, nor does the worker publishing their standing
hours (no actor), nor a clinic closure (the whole clinic knows). A doctor can turn it off
(`schedule_emails`, `/doctor/emails`).
"""

from datetime import date, datetime

from app.models import DoctorProfile, User
from app.services import notifications
from app.timeutil import format_local, utcnow

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _tell(doctor: DoctorProfile, actor: User | None, change: str, now: datetime | None) -> None:
    if actor is None or actor.id == doctor.user_id or not doctor.schedule_emails:
        return
    notifications.schedule_changed(doctor, f"{actor.full_name} {change}", now or utcnow())


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _days(first: date, last: date) -> str:
    if first == last:
        return f"on {first:%a %d %b}"
    return f"from {first:%a %d %b} to {last:%a %d %b}"


def hours(weekdays, day_start, day_end, break_start=None, break_end=None) -> str:
    """Weekly hours as a line says them: "Mon, Thu 09:00-13:00 (break 10:45-11:15)"."""
    days = ", ".join(WEEKDAY_NAMES[day] for day in sorted(weekdays))
    text = f"{days} {day_start:%H:%M}-{day_end:%H:%M}"
    if break_start is not None and break_end is not None:
        text += f" (break {break_start:%H:%M}-{break_end:%H:%M})"
    return text


def slot_published(doctor, actor, start_at: datetime, now=None) -> None:
    _tell(doctor, actor, f"published a time: {format_local(start_at)}.", now)


def week_published(doctor, actor, created: int, first: date, last: date, now=None) -> None:
    if created:
        _tell(doctor, actor, f"published {_plural(created, 'time')} {_days(first, last)}.", now)


def slot_deleted(doctor, actor, start_at: datetime, now=None) -> None:
    _tell(doctor, actor, f"removed the open time {format_local(start_at)}.", now)


def days_cleared(doctor, actor, removed: int, cancelled: int, first, last, now=None) -> None:
    if not (removed or cancelled):
        return
    done = [f"removed {_plural(removed, 'open time')}"] if removed else []
    if cancelled:
        done.append(f"cancelled {_plural(cancelled, 'booked appointment')} (the patients are told)")
    _tell(doctor, actor, f"{' and '.join(done)} {_days(first, last)}.", now)


def hours_repeat(doctor, actor, described: str, now=None) -> None:
    _tell(doctor, actor, f"set these hours to repeat every week: {described}.", now)


def hours_stopped(doctor, actor, described: str, now=None) -> None:
    _tell(doctor, actor, f"stopped these weekly hours repeating: {described}. The times "
          "already published stay.", now)  # fmt: skip
