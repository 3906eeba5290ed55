"""Queries over slots and appointments, and the row locks the booking rules rely on.

`FOR UPDATE` is what makes booking race-safe on PostgreSQL; SQLite ignores it, and there the
partial unique index on appointments is what refuses a double booking.
"""

from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from typing import NamedTuple

from sqlalchemy import (
    Exists,
    Row,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    AvailabilitySlot,
    ClinicClosure,
    DoctorProfile,
    PatientProfile,
    User,
    WaitlistEntry,
)

# The value written into the SQL, not bound: it is the partial unique index's own predicate, and
# a plan made without the value (a prepared statement's generic plan) could not use that index.
ACTIVE = Appointment.status != literal(
    AppointmentStatus.CANCELLED, Appointment.status.type, literal_execute=True
)


def _locked(query: Select) -> Select:
    """FOR UPDATE, and overwrite any copy already in the session with the row as locked.

    Without populate_existing an object loaded earlier in the transaction keeps its stale
    attributes (say, status "booked" after another transaction cancelled it).
    """
    return query.with_for_update().execution_options(populate_existing=True)


def lock_slot(slot_id: int) -> AvailabilitySlot | None:
    return db.session.scalar(
        _locked(select(AvailabilitySlot).where(AvailabilitySlot.id == slot_id))
    )


def lock_slot_with_doctor(slot_id: int) -> AvailabilitySlot | None:
    """The slot, locked, with its doctor and the doctor's user loaded by the same statement (the
    lock is on the slot row alone): what a booking reads first."""
    return db.session.scalar(_slot_with_doctor(locked=True), {"slot_id": slot_id})


def slot_with_doctor(slot_id: int) -> AvailabilitySlot | None:
    """The slot with its doctor and the doctor's user, in one query (no lock: for display)."""
    return db.session.scalar(_slot_with_doctor(locked=False), {"slot_id": slot_id})


# The booking's statements are built once per process, their values bound at each run, as the
# pages' are: building one and working out its cache key cost about as much as running it.


@cache
def _slot_with_doctor(*, locked: bool) -> Select[tuple[AvailabilitySlot]]:
    query = (
        select(AvailabilitySlot)
        .options(joinedload(AvailabilitySlot.doctor))
        .where(AvailabilitySlot.id == bindparam("slot_id"))
    )
    if locked:
        query = query.with_for_update(of=AvailabilitySlot)
        query = query.execution_options(populate_existing=True)
    return query


def lock_slots(slot_ids: Iterable[int]) -> dict[int, AvailabilitySlot]:
    """Lock several slots in ascending id order, so two movers never deadlock each other."""
    ids = sorted(set(slot_ids))
    rows = db.session.scalars(
        _locked(
            select(AvailabilitySlot)
            .where(AvailabilitySlot.id.in_(ids))
            .order_by(AvailabilitySlot.id)
        )
    ).all()
    return {slot.id: slot for slot in rows}


def lock_doctor(doctor_id: int) -> DoctorProfile | None:
    """Serialises slot creation per doctor, so two tabs cannot publish overlapping slots."""
    return db.session.scalar(
        select(DoctorProfile)
        .where(DoctorProfile.id == doctor_id)
        .with_for_update(of=DoctorProfile)
        .execution_options(populate_existing=True)
    )


class PatientLock(NamedTuple):
    missed: int  # appointments missed (no-shows) since `missed_since`
    waiting: bool  # on the doctor's waitlist for the day being booked


def lock_patient(patient_id: int, missed_since: datetime, doctor_id: int, day: date) -> PatientLock:
    """Serialises one patient's bookings, so two tabs cannot book overlapping times, and in the
    same statement counts the appointments they missed (no-shows) starting from `missed_since`
    and says whether they wait for a place with `doctor_id` on `day` or after. Only the row is
    locked: nothing is loaded (the signed-in patient is in the session already)."""
    values = {
        "patient_id": patient_id,
        "missed_since": missed_since,
        "doctor_id": doctor_id,
        "day": day,
    }
    _, missed, waiting = db.session.execute(_lock_patient(), values).one()
    return PatientLock(missed, bool(waiting))


@cache
def _lock_patient() -> Select[tuple[int, int, bool]]:
    waiting = exists().where(
        WaitlistEntry.patient_id == bindparam("patient_id"),
        WaitlistEntry.doctor_id == bindparam("doctor_id"),
        WaitlistEntry.day >= bindparam("day"),
    )
    return (
        select(PatientProfile.id, _missed().scalar_subquery(), waiting)
        .where(PatientProfile.id == bindparam("patient_id"))
        .with_for_update(of=PatientProfile)
    )


class Standing(NamedTuple):
    missed: int  # appointments missed (no-shows) since `missed_since`
    upcoming: int  # appointments booked that have not started


def standing(patient_id: int, missed_since: datetime, now: datetime) -> Standing:
    """What the online booking rules look at, in one statement: the appointments the patient
    did not come to, starting from `missed_since`, and those they hold that start after `now`."""
    values = {"patient_id": patient_id, "missed_since": missed_since, "now": now}
    return Standing(*db.session.execute(_standing(), values).one())


@cache
def _standing() -> Select[tuple[int, int]]:
    return select(_missed().scalar_subquery(), _upcoming().scalar_subquery())


@cache
def _missed() -> Select[tuple[int]]:
    return missed_count(bindparam("patient_id"), bindparam("missed_since"))


@cache
def _upcoming() -> Select[tuple[int]]:
    return upcoming_count(bindparam("patient_id"), bindparam("now"))


def missed_count(patient_id, since) -> Select[tuple[int]]:
    """How many appointments the patient (an id, a column or a parameter) missed from `since`."""
    return select(func.count(Appointment.id)).where(
        Appointment.patient_id == patient_id,
        Appointment.status == AppointmentStatus.NO_SHOW,
        Appointment.start_at >= since,
    )


def upcoming_count(patient_id, now) -> Select[tuple[int]]:
    """How many booked appointments the patient (an id, a column or a parameter) holds that
    start after `now`."""
    return select(func.count(Appointment.id)).where(
        Appointment.patient_id == patient_id,
        Appointment.status == AppointmentStatus.BOOKED,
        Appointment.start_at > now,
    )


def had_appointment_with(patient_id: int, doctor_id: int) -> bool:
    """Whether the patient has, or had, an appointment with the doctor that was not cancelled:
    the doctor has taken them on."""
    return db.session.scalar(select(taken_on(patient_id, doctor_id)))


def taken_on(patient_id, doctor_id: int) -> Exists:
    """The condition that the patient (an id, or a column of one) has or had an appointment
    with the doctor that was not cancelled."""
    return exists().where(
        Appointment.patient_id == patient_id,
        Appointment.doctor_id == doctor_id,
        Appointment.status != AppointmentStatus.CANCELLED,
    )


def appointment_states(appointment_ids: Iterable[int]) -> dict[int, Row]:
    """(status, start_at, instructions_at) of each appointment, by id, in one statement."""
    ids = set(appointment_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(
            Appointment.id, Appointment.status, Appointment.start_at, Appointment.instructions_at
        ).where(Appointment.id.in_(ids))
    )
    return {row.id: row for row in rows}


def lock_appointment(appointment_id: int) -> Appointment | None:
    return db.session.scalar(_locked(select(Appointment).where(Appointment.id == appointment_id)))


def slot_holder(slot_id: int) -> int | None:
    """The patient of the slot's active appointment, or None while the slot is open."""
    return db.session.scalar(_slot_holder(), {"slot_id": slot_id})


@cache
def _slot_holder() -> Select[tuple[int]]:
    return select(Appointment.patient_id).where(Appointment.slot_id == bindparam("slot_id"), ACTIVE)


class PatientBookings(NamedTuple):
    clash: int | None  # one of their booked appointments overlapping the time, if any
    upcoming: int  # their booked appointments that have not started


def patient_bookings(
    patient_id: int, start: datetime, end: datetime, now: datetime
) -> PatientBookings:
    """The booking's checks of the patient's other appointments, in one statement. Sent after
    `lock_patient`, not inside it: on PostgreSQL a statement sees what was committed when it
    began, and the lock's statement may have begun while another booking of theirs held it."""
    values = {"patient_id": patient_id, "start": start, "end": end, "now": now}
    return PatientBookings(*db.session.execute(_patient_bookings(), values).one())


@cache
def _patient_bookings() -> Select[tuple[int | None, int]]:
    clash = _patient_overlap(excluding=False).scalar_subquery()
    return select(clash, _upcoming().scalar_subquery())


def patient_overlap(
    patient_id: int, start: datetime, end: datetime, exclude_id: int | None = None
) -> int | None:
    """The id of one of the patient's booked appointments overlapping [start, end), if any,
    leaving out `exclude_id` (the appointment being moved)."""
    values = {"patient_id": patient_id, "start": start, "end": end}
    if exclude_id is not None:
        values["exclude_id"] = exclude_id
    return db.session.scalar(_patient_overlap(excluding=exclude_id is not None), values)


@cache
def _patient_overlap(*, excluding: bool) -> Select[tuple[int]]:
    query = select(Appointment.id).where(
        Appointment.patient_id == bindparam("patient_id"),
        Appointment.status == AppointmentStatus.BOOKED,
        Appointment.start_at < bindparam("end"),
        Appointment.end_at > bindparam("start"),
    )
    if excluding:
        query = query.where(Appointment.id != bindparam("exclude_id"))
    return query.limit(1)


def doctor_slots_between(doctor_id: int, start: datetime, end: datetime) -> list[AvailabilitySlot]:
    """The doctor's slots that touch [start, end): what a new slot must not overlap."""
    return list(
        db.session.scalars(
            select(AvailabilitySlot)
            .where(
                AvailabilitySlot.doctor_id == doctor_id,
                AvailabilitySlot.start_at < end,
                AvailabilitySlot.end_at > start,
            )
            .order_by(AvailabilitySlot.start_at)
        )
    )


def slot_is_open():
    """SQL condition: no active appointment holds the slot (answered by the partial index)."""
    return ~exists().where(Appointment.slot_id == AvailabilitySlot.id, ACTIVE)


def open_slots(
    doctor_id: int, earliest: datetime, latest: datetime, limit: int | None = None
) -> list[Row]:
    """Rows of (id, start_at, end_at), soonest first: what the pages that offer slots show."""
    values = {"doctor_id": doctor_id, "earliest": earliest, "latest": latest}
    if limit is not None:
        values["limit"] = limit
    return list(db.session.execute(_open_slots(limited=limit is not None), values))


@cache
def _open_slots(*, limited: bool) -> Select:
    """Built once per process, its values bound at each run: building a statement and working
    out its cache key cost about 0.2 ms here, a quarter of running this one."""
    query = (
        select(AvailabilitySlot.id, AvailabilitySlot.start_at, AvailabilitySlot.end_at)
        .where(
            AvailabilitySlot.doctor_id == bindparam("doctor_id"),
            AvailabilitySlot.start_at >= bindparam("earliest"),
            AvailabilitySlot.start_at <= bindparam("latest"),
            slot_is_open(),
        )
        .order_by(AvailabilitySlot.start_at)
    )
    return query.limit(bindparam("limit")) if limited else query


def has_open_slot(doctor_id, earliest, latest):
    """SQL condition, correlated like `first_open_start`: the doctor has an open slot starting
    in [earliest, latest]."""
    return exists().where(
        AvailabilitySlot.doctor_id == doctor_id,
        AvailabilitySlot.start_at >= earliest,
        AvailabilitySlot.start_at <= latest,
        slot_is_open(),
    )


def first_open_start(doctor_id, earliest, latest) -> ScalarSelect:
    """SQL expression, correlated to the column `doctor_id` of an enclosing query: the start of
    the doctor's next open slot.

    For a page of doctors it walks the (doctor_id, start_at) index per doctor and stops at the
    first free slot: the cost follows the page of doctors, not how many slots each has
    published (a min() over every open slot in the booking window read them all). `earliest`
    and `latest` are datetimes or bind parameters.
    """
    return (
        select(AvailabilitySlot.start_at)
        .where(
            AvailabilitySlot.doctor_id == doctor_id,
            AvailabilitySlot.start_at >= earliest,
            AvailabilitySlot.start_at <= latest,
            slot_is_open(),
        )
        .order_by(AvailabilitySlot.start_at)
        .limit(1)
        .scalar_subquery()
    )


def lock_all_doctors() -> list[DoctorProfile]:
    """Every doctor, row-locked in id order: a clinic closure holds every doctor's slot creation
    (which locks its doctor first, `lock_doctor`) until it commits."""
    return list(
        db.session.scalars(
            select(DoctorProfile).order_by(DoctorProfile.id).with_for_update(of=DoctorProfile)
        )
    )


def doctors_with_slots_starting(start: datetime, end: datetime) -> set[int]:
    """The ids of the doctors with a slot starting in [start, end), in one query."""
    return set(
        db.session.scalars(
            select(AvailabilitySlot.doctor_id)
            .where(AvailabilitySlot.start_at >= start, AvailabilitySlot.start_at < end)
            .distinct()
        )
    )


def closure_on(day) -> ClinicClosure | None:
    return db.session.scalar(select(ClinicClosure).where(ClinicClosure.day == day))


def closures_between(first, last) -> dict:
    """The closures of the clinic-local days in [first, last], by day."""
    rows = db.session.scalars(
        select(ClinicClosure).where(ClinicClosure.day >= first, ClinicClosure.day <= last)
    )
    return {closure.day: closure for closure in rows}


def lock_doctor_slots_starting(
    doctor_id: int, start: datetime, end: datetime
) -> list[AvailabilitySlot]:
    """The doctor's slots starting in [start, end), locked in id order (as `lock_slots`)."""
    return list(
        db.session.scalars(
            _locked(
                select(AvailabilitySlot)
                .where(
                    AvailabilitySlot.doctor_id == doctor_id,
                    AvailabilitySlot.start_at >= start,
                    AvailabilitySlot.start_at < end,
                )
                .order_by(AvailabilitySlot.id)
            )
        )
    )


def booked_appointment_ids(doctor_id: int, start: datetime, end: datetime) -> list[int]:
    """The doctor's booked appointments starting in [start, end), in id order (as they are then
    locked one by one: the order every appointment lock follows)."""
    return list(
        db.session.scalars(
            select(Appointment.id)
            .where(
                Appointment.doctor_id == doctor_id,
                Appointment.status == AppointmentStatus.BOOKED,
                Appointment.start_at >= start,
                Appointment.start_at < end,
            )
            .order_by(Appointment.id)
        )
    )


def active_appointments_starting(
    doctor_id: int, start: datetime, end: datetime
) -> list[Appointment]:
    """The doctor's appointments that are not cancelled and start in [start, end), in time
    order, each with its patient and their user (a day sheet)."""
    return list(
        db.session.scalars(
            _appointments_of(doctor_id=doctor_id)
            .where(ACTIVE, Appointment.start_at >= start, Appointment.start_at < end)
            .order_by(Appointment.start_at, Appointment.id)
        )
    )


def first_completed_visits(doctor_id: int, patient_ids: Iterable[int]) -> dict[int, datetime]:
    """When each of these patients was first seen by the doctor (their earliest completed
    appointment with them), in one query; patients never seen are left out."""
    ids = set(patient_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Appointment.patient_id, func.min(Appointment.start_at))
        .where(
            Appointment.doctor_id == doctor_id,
            Appointment.patient_id.in_(ids),
            Appointment.status == AppointmentStatus.COMPLETED,
        )
        .group_by(Appointment.patient_id)
    )
    return dict(rows.all())


def history_counts(doctor_id: int, patient_id: int) -> tuple[dict[str, int], datetime | None]:
    """How many appointments this patient has had with this doctor, by status, and when their
    first completed visit was, in one query ({} when they have never had one)."""
    rows = db.session.execute(
        select(Appointment.status, func.count(), func.min(Appointment.start_at))
        .where(Appointment.doctor_id == doctor_id, Appointment.patient_id == patient_id)
        .group_by(Appointment.status)
    ).all()
    counts = {AppointmentStatus(status).value: number for status, number, _ in rows}
    completed = [start for status, _, start in rows if status == AppointmentStatus.COMPLETED]
    return counts, completed[0] if completed else None


def _not_started_booked(now: datetime, doctor_id: int | None, patient_id: int | None) -> list:
    party = (
        Appointment.doctor_id == doctor_id
        if doctor_id is not None
        else Appointment.patient_id == patient_id
    )
    return [party, Appointment.status == AppointmentStatus.BOOKED, Appointment.start_at > now]


def not_started_booked(
    *, now: datetime, limit: int, doctor_id: int | None = None, patient_id: int | None = None
) -> tuple[int, list[Appointment]]:
    """How many booked appointments of a doctor or of a patient have not started, and the first
    `limit` of them with the other party: what deactivating the account would leave standing."""
    conditions = _not_started_booked(now, doctor_id, patient_id)
    total = db.session.scalar(select(func.count(Appointment.id)).where(*conditions))
    if not total or not limit:
        return total, []
    first = db.session.scalars(
        _appointments_of(doctor_id, patient_id)
        .where(*conditions)
        .order_by(Appointment.start_at, Appointment.id)
        .limit(limit)
    )
    return total, list(first)


def not_started_booked_ids(
    *, now: datetime, doctor_id: int | None = None, patient_id: int | None = None
) -> list[int]:
    """Their ids, in id order: the order every appointment lock follows."""
    conditions = _not_started_booked(now, doctor_id, patient_id)
    return list(
        db.session.scalars(select(Appointment.id).where(*conditions).order_by(Appointment.id))
    )


def booked_slot_ids(slot_ids: list[int]) -> set[int]:
    """Which of these slots hold an active appointment, in one query."""
    if not slot_ids:
        return set()
    return set(
        db.session.scalars(
            select(Appointment.slot_id).where(and_(Appointment.slot_id.in_(slot_ids), ACTIVE))
        )
    )


def doctor_slots(doctor_id: int, now: datetime) -> Select:
    """A doctor's slots, upcoming ones first (soonest first), then past ones (latest first)."""
    upcoming = AvailabilitySlot.start_at >= now
    return (
        select(AvailabilitySlot)
        .where(AvailabilitySlot.doctor_id == doctor_id)
        .order_by(
            case((upcoming, 0), else_=1),
            case((upcoming, AvailabilitySlot.start_at)),
            AvailabilitySlot.start_at.desc(),
        )
    )


def holders_of_slots(slot_ids: list[int]) -> dict[int, str]:
    """Slot id → the name of the patient holding it, for a page of slots in one query."""
    if not slot_ids:
        return {}
    rows = db.session.execute(
        select(Appointment.slot_id, User.full_name)
        .join(PatientProfile, PatientProfile.id == Appointment.patient_id)
        .join(User, User.id == PatientProfile.user_id)
        .where(Appointment.slot_id.in_(slot_ids), ACTIVE)
    ).all()
    return dict(rows)


def appointments(
    *, doctor: DoctorProfile | None = None, patient: PatientProfile | None = None
) -> Select[tuple[Appointment]]:
    """Appointments, of `doctor` or of `patient` if given, with both parties and their users.

    The party given is not joined again: every row points to that profile, which is in the
    session already, and `appointment.doctor` (or `.patient`) finds it in the identity map
    without SQL (`raise_on_sql`). The other party comes in the same query."""
    return _appointments_of(doctor.id if doctor else None, patient.id if patient else None)


def _appointments_of(doctor_id=None, patient_id=None) -> Select[tuple[Appointment]]:
    """`appointments()` by id (a value or a bind parameter): a party whose id is given is kept
    to and not joined, a party whose id is not is joined."""
    query = select(Appointment)
    if doctor_id is None:
        query = query.options(joinedload(Appointment.doctor))
    else:
        query = query.where(Appointment.doctor_id == doctor_id)
    if patient_id is None:
        query = query.options(joinedload(Appointment.patient))
    else:
        query = query.where(Appointment.patient_id == patient_id)
    return query


def upcoming(query: Select, now: datetime, *, booked_only: bool = False) -> Select:
    """Not yet over, soonest first; an appointment in progress still counts as upcoming."""
    query = query.where(Appointment.end_at > now).order_by(Appointment.start_at, Appointment.id)
    if booked_only:
        query = query.where(Appointment.status == AppointmentStatus.BOOKED)
    return query


def past(query: Select, now: datetime) -> Select:
    return query.where(Appointment.end_at <= now).order_by(
        Appointment.start_at.desc(), Appointment.id.desc()
    )


def cancelled_for_patient(
    patient: PatientProfile, *, now: datetime, since: datetime, limit: int
) -> list[Appointment]:
    """The patient's appointments still ahead that someone else (their doctor, the clinic)
    cancelled from `since`, soonest first, with their doctors: what they may not have read."""
    return list(
        db.session.scalars(
            _appointments_of(patient_id=patient.id)
            .where(
                Appointment.status == AppointmentStatus.CANCELLED,
                Appointment.start_at > now,
                Appointment.cancelled_at >= since,
                Appointment.cancelled_by_id != patient.user_id,
            )
            .order_by(Appointment.start_at, Appointment.id)
            .limit(limit)
        )
    )


def next_booked(
    *,
    now: datetime,
    limit: int,
    doctor: DoctorProfile | None = None,
    patient: PatientProfile | None = None,
) -> list[Appointment]:
    """The first `limit` booked appointments of `doctor` or of `patient` not yet over, soonest
    first, with the other party (the dashboards): `appointments(...)` made `upcoming`, in a
    statement built once per process."""
    of, party = ("doctor", doctor) if doctor is not None else ("patient", patient)
    values = {"party_id": party.id, "now": now, "limit": limit}
    return list(db.session.scalars(_next_booked(of), values))


@cache
def _next_booked(of: str) -> Select[tuple[Appointment]]:
    query = _appointments_of(**{f"{of}_id": bindparam("party_id")})
    return upcoming(query, bindparam("now"), booked_only=True).limit(bindparam("limit"))


class DoctorCounts(NamedTuple):
    upcoming: int  # booked appointments not yet over
    open_slots: int  # open future slots
    this_week: int  # active appointments starting in the week
    today: int  # active appointments starting today
    arrived: int  # of today's, those whose patient was checked in
    unrecorded: int  # booked appointments that are over: their outcome is still to record


def doctor_counts(
    doctor_id: int,
    now: datetime,
    week: tuple[datetime, datetime],
    day: tuple[datetime, datetime],
) -> DoctorCounts:
    """The doctor dashboard's figures in one statement; `week` and `day` are [start, end)."""
    values = {
        "doctor_id": doctor_id,
        "now": now,
        "week_start": week[0],
        "week_end": week[1],
        "day_start": day[0],
        "day_end": day[1],
    }
    return DoctorCounts(*db.session.execute(_doctor_counts(), values).one())


@cache
def _doctor_counts() -> Select:
    """Six scalar subqueries, built once per process (the doctor dashboard runs it each view)."""

    def count(column, *conditions) -> ScalarSelect[int]:
        return select(func.count(column)).where(*conditions).scalar_subquery()

    doctor_id, now = bindparam("doctor_id"), bindparam("now")
    mine = Appointment.doctor_id == doctor_id
    today = (
        Appointment.start_at >= bindparam("day_start"),
        Appointment.start_at < bindparam("day_end"),
    )
    return select(
        count(
            Appointment.id,
            mine,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.end_at > now,
        ),
        count(
            AvailabilitySlot.id,
            AvailabilitySlot.doctor_id == doctor_id,
            AvailabilitySlot.start_at > now,
            slot_is_open(),
        ),
        count(
            Appointment.id,
            mine,
            ACTIVE,
            Appointment.start_at >= bindparam("week_start"),
            Appointment.start_at < bindparam("week_end"),
        ),
        count(Appointment.id, mine, ACTIVE, *today),
        count(Appointment.id, mine, ACTIVE, Appointment.checked_in_at.is_not(None), *today),
        count(Appointment.id, mine, *_unrecorded(now)),
    )


def _unrecorded(now) -> tuple:
    """Over and still booked: nobody has said whether the visit happened."""
    return (Appointment.status == AppointmentStatus.BOOKED, Appointment.end_at <= now)


def unrecorded(query: Select, now: datetime) -> Select:
    """The visits whose outcome is still to record, the latest first."""
    return query.where(*_unrecorded(now)).order_by(
        Appointment.start_at.desc(), Appointment.id.desc()
    )


def _doctor_patients(doctor_id: int, name: str, now: datetime) -> Select:
    """Each patient who has had an appointment with the doctor (whatever became of it, as
    `agenda.own_patient` counts them), with their last appointment before `now` that was not
    cancelled, their next booked one and their completed visits: one aggregate over the doctor's
    appointments (its doctor_id index), joined to the patients and their users."""
    past = and_(Appointment.start_at < now, ACTIVE)
    ahead = and_(Appointment.start_at >= now, Appointment.status == AppointmentStatus.BOOKED)
    history = (
        select(
            Appointment.patient_id.label("patient_id"),
            func.max(case((past, Appointment.start_at))).label("last_visit"),
            func.min(case((ahead, Appointment.start_at))).label("next_visit"),
            func.count(case((Appointment.status == AppointmentStatus.COMPLETED, 1))).label(
                "visits"
            ),
        )
        .where(Appointment.doctor_id == doctor_id)
        .group_by(Appointment.patient_id)
        .subquery()
    )
    query = (
        select(
            history.c.patient_id,
            User.full_name,
            User.phone,
            User.active,
            PatientProfile.date_of_birth,
            history.c.last_visit,
            history.c.next_visit,
            history.c.visits,
        )
        .join(PatientProfile, PatientProfile.id == history.c.patient_id)
        .join(User, User.id == PatientProfile.user_id)
    )
    if name:
        query = query.where(User.full_name.icontains(name, autoescape=True))
    return query


def doctor_patients(doctor_id: int, name: str, now: datetime, limit: int, offset: int) -> list[Row]:
    """A page of `_doctor_patients`, by name."""
    query = _doctor_patients(doctor_id, name, now).order_by(User.full_name, PatientProfile.id)
    return list(db.session.execute(query.limit(limit).offset(offset)))


def doctor_patient_count(doctor_id: int, name: str, now: datetime) -> int:
    subquery = _doctor_patients(doctor_id, name, now).subquery()
    return db.session.scalar(select(func.count()).select_from(subquery))
