"""Availability: the slots a doctor publishes.

Slots are entered in the clinic's wall-clock time and stored in UTC, so a 09:00 slot stays at
09:00 on both sides of a DST change. A doctor's own slots never overlap; creation is serialised
per doctor by locking the doctor's row. The doctor keeps their own schedule, and the front desk
can keep it for them (`doctor_of_account`); the audit trail records who acted.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import AppointmentStatus, AvailabilitySlot, DoctorProfile, User
from app.repositories import doctors as doctor_repo
from app.repositories import scheduling as repo
from app.services import Conflict, DomainError, NotFound, booking, schedule_news, waitlist
from app.services.audit import AuditKind, record
from app.timeutil import (
    NonexistentLocalTime,
    clinic_zone,
    local_day_bounds,
    local_to_utc,
    to_local,
    utcnow,
)

MIN_SLOT_MINUTES = 5
MAX_SLOT_MINUTES = 8 * 60
MAX_TEMPLATE_DAYS = 90
MAX_TEMPLATE_SLOTS = 2000
MAX_DAYS_AHEAD = 366  # how far ahead a doctor may publish; also keeps dates far from year 9999


@dataclass(frozen=True)
class ClearResult:
    removed: int
    kept_booked: int  # booked slots in the period: their appointments stand until cancelled
    cancelled: int = 0  # appointments cancelled first, when asked to (their slots then go too)


@dataclass(frozen=True)
class WeeklyResult:
    created: int
    skipped: int
    closed_days: tuple[date, ...] = ()  # clinic closures left out


def doctor_of_account(user_id: int) -> DoctorProfile:
    """The doctor whose schedule the front desk keeps, approved or not, active or not (a
    switched-off doctor's open slots can still be removed): NotFound unless it is a doctor."""
    doctor = doctor_repo.profile_of(user_id)
    if doctor is None:
        raise NotFound("That doctor does not exist.")
    return doctor


def _refuse_switched_off(doctor: DoctorProfile) -> None:
    """Nobody can book a deactivated doctor: publishing times for them would only mislead."""
    if not doctor.user.active:
        raise Conflict(
            f"{doctor.full_name}'s account is switched off: reactivate it before publishing times."
        )


def _refuse_closed(day: date, field_name: str) -> None:
    """After `lock_doctor`: a closure committed meanwhile is seen (closures.close locks every
    doctor before removing their slots)."""
    closure = repo.closure_on(day)
    if closure is not None:
        raise DomainError(
            f"The clinic is closed on {day:%A %d %B %Y} ({closure.reason}).", field=field_name
        )


def _check_length(start: datetime, end: datetime, field: str = "end_time") -> None:
    if end <= start:
        raise DomainError("The end time must be after the start time.", field=field)
    minutes = (end - start).total_seconds() / 60
    if minutes < MIN_SLOT_MINUTES or minutes > MAX_SLOT_MINUTES:
        raise DomainError(
            f"A slot lasts between {MIN_SLOT_MINUTES} minutes and {MAX_SLOT_MINUTES // 60} hours.",
            field=field,
        )


def _clinic_today(now: datetime) -> date:
    return now.astimezone(clinic_zone()).date()


def _check_not_too_far(day: date, now: datetime, field: str) -> None:
    if day > _clinic_today(now) + timedelta(days=MAX_DAYS_AHEAD):
        raise DomainError(f"Slots can be published up to {MAX_DAYS_AHEAD} days ahead.", field=field)


def create_slot(
    doctor: DoctorProfile,
    day: date,
    start_time: time,
    end_time: time,
    *,
    actor: User,
    now: datetime | None = None,
) -> AvailabilitySlot:
    """Publish one slot; refuses the past, impossible times and overlaps with the doctor's own."""
    now = now or utcnow()
    _check_not_too_far(day, now, "date")
    if day < _clinic_today(now):
        raise DomainError("That date has already passed.", field="date")
    try:
        start = local_to_utc(day, start_time)
        end = local_to_utc(day, end_time)
    except NonexistentLocalTime as error:
        raise DomainError(
            f"{error} in {clinic_zone().key}: the clocks change that night. "
            "Please choose another time."
        ) from None
    _check_length(start, end)
    if start <= now:
        raise DomainError("That time has already passed.", field="start_time")

    repo.lock_doctor(doctor.id)
    _refuse_switched_off(doctor)
    _refuse_closed(day, "date")
    if repo.doctor_slots_between(doctor.id, start, end):
        raise Conflict("This slot overlaps a slot already published.")
    slot = AvailabilitySlot(doctor_id=doctor.id, start_at=start, end_at=end)
    try:
        with db.session.begin_nested():
            db.session.add(slot)
    except IntegrityError:
        raise Conflict("A slot already starts at that time.") from None
    record(AuditKind.SLOT_CREATED, actor=actor, target=slot, start=start.isoformat())
    waitlist.slot_freed(slot, now)  # a place on a day someone is waiting for
    schedule_news.slot_published(doctor, actor, start, now)
    return slot


@dataclass(frozen=True)
class WeeklyHours:
    """Back-to-back slots of `slot_minutes` from `day_start` to `day_end` on `weekdays`; with a
    break (`break_start` to `break_end`, both or neither), none across it, and the afternoon's
    slots start again when it ends."""

    weekdays: tuple[int, ...]
    day_start: time
    day_end: time
    slot_minutes: int
    break_start: time | None = None
    break_end: time | None = None

    @classmethod
    def checked(
        cls,
        weekdays: list[int],
        day_start: time,
        day_end: time,
        slot_minutes: int,
        break_start: time | None = None,
        break_end: time | None = None,
    ) -> "WeeklyHours":
        """The hours a doctor asked for, or a DomainError naming the field that is wrong."""
        if not weekdays or any(d not in range(7) for d in weekdays):
            raise DomainError("Choose at least one weekday.", field="weekdays")
        if not MIN_SLOT_MINUTES <= slot_minutes <= MAX_SLOT_MINUTES:
            raise DomainError(
                f"Slots last between {MIN_SLOT_MINUTES} and {MAX_SLOT_MINUTES} minutes.",
                field="slot_minutes",
            )
        if day_end <= day_start:
            raise DomainError("The day must end after it starts.", field="day_end")
        if break_start is None and break_end is not None:
            raise DomainError("Give the time the break starts, too.", field="break_start")
        if break_end is None and break_start is not None:
            raise DomainError("Give the time the break ends, too.", field="break_end")
        if break_start is not None and break_end is not None:
            if break_end <= break_start:
                raise DomainError("The break must end after it starts.", field="break_end")
            if not day_start < break_start or not break_end < day_end:
                raise DomainError(
                    "The break must start after the day starts and end before the day ends.",
                    field="break_start",
                )
        days = tuple(sorted(set(weekdays)))
        return cls(days, day_start, day_end, slot_minutes, break_start, break_end)

    def spans(self) -> list[tuple[time, time]]:
        """The stretches of the day that slots fill."""
        if self.break_start is None or self.break_end is None:
            return [(self.day_start, self.day_end)]
        return [(self.day_start, self.break_start), (self.break_end, self.day_end)]

    def slots(self, first: date, last: date) -> list[tuple[date, time, time]]:
        """(day, start, end) in clinic-local wall-clock time, from `first` to `last` inclusive."""
        wanted: list[tuple[date, time, time]] = []
        length = timedelta(minutes=self.slot_minutes)
        spans = self.spans()
        day = first
        while day <= last:
            if day.weekday() in self.weekdays:
                for span_start, span_end in spans:
                    cursor = datetime.combine(day, span_start)
                    stop = datetime.combine(day, span_end)
                    while cursor + length <= stop:
                        wanted.append((day, cursor.time(), (cursor + length).time()))
                        cursor += length
            day += timedelta(days=1)
        return wanted


def create_weekly(
    doctor: DoctorProfile,
    *,
    start_date: date,
    end_date: date,
    hours: WeeklyHours,
    actor: User,
    now: datetime | None = None,
) -> WeeklyResult:
    """Fill a date range with `hours` (built by `WeeklyHours.checked`).

    Slots that would overlap existing ones, lie in the past or fall into a DST change are
    skipped and counted, never an error: the doctor sees how many were created and skipped.
    """
    now = now or utcnow()
    if end_date < start_date:
        raise DomainError("The end date must not be before the start date.", field="end_date")
    _check_not_too_far(end_date, now, "end_date")
    if end_date < _clinic_today(now):
        raise DomainError("That period has already passed.", field="end_date")
    if (end_date - start_date).days + 1 > MAX_TEMPLATE_DAYS:
        raise DomainError(
            f"A template covers at most {MAX_TEMPLATE_DAYS} days at a time.", field="end_date"
        )
    wanted = hours.slots(start_date, end_date)
    if len(wanted) > MAX_TEMPLATE_SLOTS:
        raise DomainError(
            f"That would create {len(wanted)} slots; the limit is {MAX_TEMPLATE_SLOTS} at a time.",
            field="slot_minutes",
        )
    return publish_weekly(doctor, hours, start_date, end_date, actor=actor, now=now)


def publish_weekly(
    doctor: DoctorProfile,
    hours: WeeklyHours,
    start_date: date,
    end_date: date,
    *,
    actor: User | None,
    now: datetime,
) -> WeeklyResult:
    """Publish `hours` from `start_date` to `end_date` (checked by the caller), leaving out
    closed days, times in the past or overlapping the doctor's slots, and DST gaps. Audited,
    with no actor when the worker keeps standing hours; the caller commits."""
    repo.lock_doctor(doctor.id)
    _refuse_switched_off(doctor)
    closed = repo.closures_between(start_date, end_date)
    wanted = [want for want in hours.slots(start_date, end_date) if want[0] not in closed]
    # Day bounds, not local_to_utc(day, 00:00): in some zones midnight itself is skipped by DST.
    window_start = local_day_bounds(start_date)[0]
    window_end = local_day_bounds(end_date)[1]
    taken = [
        (s.start_at, s.end_at)
        for s in repo.doctor_slots_between(doctor.id, window_start, window_end)
    ]
    created: list[AvailabilitySlot] = []
    skipped = 0
    for day, start_time, end_time in wanted:
        try:
            start = local_to_utc(day, start_time)
            end = local_to_utc(day, end_time)
        except NonexistentLocalTime:
            skipped += 1
            continue
        if (
            start <= now
            # Across a fall-back hour a wall-clock slot lasts longer than asked: leave it out.
            or end - start != timedelta(minutes=hours.slot_minutes)
            or any(start < t_end and end > t_start for t_start, t_end in taken)
        ):
            skipped += 1
            continue
        taken.append((start, end))
        created.append(AvailabilitySlot(doctor_id=doctor.id, start_at=start, end_at=end))
    db.session.add_all(created)
    db.session.flush()
    # Whoever waits for one of these days hears once, of its first new slot, not once a slot.
    first_of_day: dict[date, AvailabilitySlot] = {}
    for slot in created:
        first_of_day.setdefault(to_local(slot.start_at).date(), slot)
    for slot in first_of_day.values():
        waitlist.slot_freed(slot, now)
    if created or actor is not None:
        record(
            AuditKind.SLOTS_CREATED_WEEKLY,
            actor=actor,
            target=doctor,
            created=len(created),
            skipped=skipped,
            start_date=start_date.isoformat(),
            end_date=end_date.isoformat(),
        )
    schedule_news.week_published(doctor, actor, len(created), start_date, end_date, now)
    closed_days = tuple(sorted(day for day in closed if day.weekday() in hours.weekdays))
    return WeeklyResult(created=len(created), skipped=skipped, closed_days=closed_days)


def delete_slot(doctor: DoctorProfile, slot_id: int, *, actor: User) -> None:
    """Delete a free slot of the doctor's; a booked one stays (409)."""
    slot = repo.lock_slot(slot_id)
    if slot is None or slot.doctor_id != doctor.id:
        raise NotFound("That slot does not exist.")
    if repo.slot_holder(slot.id) is not None:
        raise Conflict("This slot is booked. Cancel the appointment first if you must free it.")
    record(AuditKind.SLOT_DELETED, actor=actor, target=slot, start=slot.start_at.isoformat())
    schedule_news.slot_deleted(doctor, actor, slot.start_at)
    db.session.delete(slot)
    db.session.flush()


def clear_open_slots(
    doctor: DoctorProfile,
    *,
    first_day: date,
    last_day: date,
    actor: User,
    now: datetime | None = None,
    cancel_booked: bool = False,
    reason: str | None = None,
    tell_doctor: bool = True,
) -> ClearResult:
    """Time off: delete the doctor's open slots on these days (clinic dates, inclusive) that
    have not started. Booked ones stay, unless `cancel_booked`: then their appointments are
    cancelled first, each as the doctor would one by one (the patient is emailed, with `reason`
    when given; the calendar event and the reminder withdrawn), but no waitlist is offered a slot
    about to go. Someone else's clearing is news to the doctor unless not `tell_doctor` (a
    clinic closure, which everyone hears of).

    Appointments are locked before slots, as a reschedule does, so the two cannot deadlock. The
    slots are locked before they are looked at, so a booking under way either finishes before
    (its slot then counts as booked and stays) or finds its slot gone afterwards (409).
    """
    now = now or utcnow()
    if last_day < first_day:
        raise DomainError("The last day must not be before the first.", field="last_day")
    _check_not_too_far(last_day, now, "last_day")
    if last_day < _clinic_today(now):
        raise DomainError("Those days have already passed.", field="last_day")
    start = max(local_day_bounds(first_day)[0], now)
    end = local_day_bounds(last_day)[1]
    cancelled = 0
    if cancel_booked:
        for appointment_id in repo.booked_appointment_ids(doctor.id, start, end):
            appointment = repo.lock_appointment(appointment_id)
            still_there = start <= appointment.start_at < end
            if appointment.status != AppointmentStatus.BOOKED or not still_there:
                continue  # moved or cancelled by the patient a moment ago: theirs to keep
            booking.cancel(
                appointment_id, actor=actor, now=now, offer_to_waitlist=False, reason=reason
            )
            cancelled += 1
    slots = repo.lock_doctor_slots_starting(doctor.id, start, end)
    booked = repo.booked_slot_ids([slot.id for slot in slots])
    removed = [slot for slot in slots if slot.id not in booked]
    for slot in removed:
        db.session.delete(slot)
    db.session.flush()
    if removed or cancelled:
        record(
            AuditKind.SLOTS_CLEARED,
            actor=actor,
            target=doctor,
            removed=len(removed),
            kept_booked=len(booked),
            cancelled=cancelled,
            first_day=first_day.isoformat(),
            last_day=last_day.isoformat(),
        )
        if tell_doctor:
            schedule_news.days_cleared(
                doctor, actor, len(removed), cancelled, first_day, last_day, now
            )
    return ClearResult(removed=len(removed), kept_booked=len(booked), cancelled=cancelled)
