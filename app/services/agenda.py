"""The lists doctors and patients read: their appointments, a doctor's slots, dashboard counts.

Each function loads what its page shows in a fixed number of queries, however long the list.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from flask_sqlalchemy.pagination import Pagination

from app.extensions import db
from app.models import Appointment, AppointmentStatus, DoctorProfile, PatientProfile, User
from app.pagination import RowsPagination
from app.repositories import scheduling as repo
from app.services import NotFound
from app.services.access import can_manage
from app.services.booking import cancel_refusal, note_refusal
from app.timeutil import local_day_bounds, to_local

DASHBOARD_ITEMS = 10
CANCELLED_NOTICE_DAYS = 7
WHEN = ("upcoming", "past")
# A doctor's list also has the visits that ended without an outcome, to record it.
DOCTOR_WHEN = (*WHEN, "unrecorded")


@dataclass(frozen=True)
class DoctorSummary:
    upcoming: list[Appointment]
    upcoming_count: int
    open_slots: int
    this_week: int
    week: tuple[date, date]  # the clinic-local Monday and Sunday that "this week" counts
    today: int  # active appointments today (booked, or over and recorded)
    arrived: int  # of those, the ones whose patient was checked in
    unrecorded: int  # visits over whose outcome is still to record


@dataclass(frozen=True)
class SlotPage:
    pagination: Pagination
    holders: dict[int, str]  # slot id -> the name of the patient holding it


@dataclass(frozen=True)
class SheetRow:
    start_at: datetime
    end_at: datetime
    appointment: Appointment | None  # None: an open slot


@dataclass(frozen=True)
class DaySheet:
    """A doctor's clinic-local day, every slot in time order: who comes when, and what is open."""

    day: date
    rows: list[SheetRow]
    booked: int
    open: int

    @property
    def previous_day(self) -> date:
        return self.day - timedelta(days=1)

    @property
    def next_day(self) -> date:
        return self.day + timedelta(days=1)


def day_sheet(doctor: DoctorProfile, day: date) -> DaySheet:
    """Two queries whatever the day holds: its slots, and its appointments with their patients."""
    start, end = local_day_bounds(day)
    appointments = repo.active_appointments_starting(doctor.id, start, end)
    held = {a.slot_id: a for a in appointments}
    rows = [SheetRow(a.start_at, a.end_at, a) for a in appointments]
    rows += [
        SheetRow(slot.start_at, slot.end_at, None)
        for slot in repo.doctor_slots_between(doctor.id, start, end)
        if slot.id not in held and start <= slot.start_at
    ]
    rows.sort(key=lambda row: (row.start_at, row.appointment is None))
    booked = len(appointments)
    return DaySheet(day=day, rows=rows, booked=booked, open=len(rows) - booked)


def cancellable_ids(appointments: list[Appointment], actor: User, now: datetime) -> set[int]:
    """The appointments on a page that `actor` may cancel now: where to show a cancel button."""
    return {a.id for a in appointments if cancel_refusal(a, actor, now) is None}


def note_editable_ids(appointments: list[Appointment], actor: User, now: datetime) -> set[int]:
    """The appointments on a page whose note `actor` may change now: where to offer it."""
    return {a.id for a in appointments if note_refusal(a, actor, now) is None}


def movable_ids(appointments: list[Appointment], actor: User, now: datetime) -> set[int]:
    """The appointments on a page that `actor` may move now: where to offer "Move"."""
    from app.services.reschedule import move_refusal

    return {a.id for a in appointments if move_refusal(a, actor, now) is None}


def first_visit_ids(appointments: list[Appointment], doctor: DoctorProfile) -> set[int]:
    """The doctor's appointments on a page that are the patient's first visit to them: no
    completed visit with them started earlier (a new patient needs a longer first look)."""
    mine = [
        a
        for a in appointments
        if a.doctor_id == doctor.id and a.status != AppointmentStatus.CANCELLED
    ]
    seen = repo.first_completed_visits(doctor.id, (a.patient_id for a in mine))
    return {a.id for a in mine if a.patient_id not in seen or seen[a.patient_id] >= a.start_at}


def outcome_ids(appointments: list[Appointment], actor: User, now: datetime) -> set[int]:
    """Started appointments of this doctor with no outcome yet: where to offer the two buttons."""
    profile = actor.doctor_profile if actor.is_doctor else None
    if profile is None:
        return set()
    return {
        a.id
        for a in appointments
        if a.doctor_id == profile.id
        and a.start_at <= now
        and a.status != AppointmentStatus.CANCELLED
    }


@dataclass(frozen=True)
class PatientRecord:
    """One patient as their doctor sees them: who they are, and their appointments with this
    doctor (never with anyone else), the latest first."""

    patient: PatientProfile
    pagination: Pagination
    counts: dict[str, int]  # status value -> appointments with this doctor
    first_visit: datetime | None  # their first completed visit with this doctor


def doctor_patients(
    doctor: DoctorProfile, name: str, *, now: datetime, page: int, per_page: int
) -> RowsPagination:
    """A page of the doctor's patients (those `own_patient` lets them open), by name, each with
    their last and next appointment and their completed visits: one query, and a count only when
    the page cannot tell the total."""
    rows = partial(repo.doctor_patients, doctor.id, name, now)
    count = partial(repo.doctor_patient_count, doctor.id, name, now)
    return RowsPagination(rows, count, page=page, per_page=per_page)


def own_patient(doctor: DoctorProfile, patient_id: int) -> PatientProfile:
    """One of `doctor`'s patients: NotFound unless the two have had an appointment together
    (whatever became of it), so a doctor cannot look up the clinic's other patients."""
    return _own_patient(doctor, patient_id)[0]


def _own_patient(doctor: DoctorProfile, patient_id: int):
    counts, first_visit = repo.history_counts(doctor.id, patient_id)
    patient = db.session.get(PatientProfile, patient_id) if counts else None
    if patient is None:
        raise NotFound("That patient has no appointments with you.")
    return patient, counts, first_visit


def patient_record(
    doctor: DoctorProfile, patient_id: int, *, page: int, per_page: int
) -> PatientRecord:
    """A patient's record for `doctor` (`own_patient`'s rule)."""
    patient, counts, first_visit = _own_patient(doctor, patient_id)
    query = repo.appointments(doctor=doctor, patient=patient).order_by(
        Appointment.start_at.desc(), Appointment.id.desc()
    )
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return PatientRecord(patient, pagination, counts, first_visit)


def appointment_for(appointment_id: int, actor: User) -> Appointment:
    """One appointment with both parties loaded, if `actor` may manage it; else NotFound."""
    appointment = db.session.scalar(repo.appointments().where(Appointment.id == appointment_id))
    if appointment is None or not can_manage(appointment, actor):
        raise NotFound("That appointment does not exist.")
    return appointment


def doctor_summary(doctor: DoctorProfile, now: datetime) -> DoctorSummary:
    """The doctor dashboard: the next appointments and three counts ("this week" is clinic-local,
    Monday to Sunday)."""
    today = to_local(now).date()
    monday = today - timedelta(days=today.weekday())
    week_start = local_day_bounds(monday)[0]
    week_end = local_day_bounds(monday + timedelta(days=6))[1]
    counts = repo.doctor_counts(doctor.id, now, (week_start, week_end), local_day_bounds(today))
    return DoctorSummary(
        upcoming=repo.next_booked(doctor=doctor, now=now, limit=DASHBOARD_ITEMS),
        upcoming_count=counts.upcoming,
        open_slots=counts.open_slots,
        this_week=counts.this_week,
        week=(monday, monday + timedelta(days=6)),
        today=counts.today,
        arrived=counts.arrived,
        unrecorded=counts.unrecorded,
    )


def patient_upcoming(patient: PatientProfile, now: datetime) -> list[Appointment]:
    return repo.next_booked(patient=patient, now=now, limit=DASHBOARD_ITEMS)


def cancelled_by_others(patient: PatientProfile, now: datetime) -> list[Appointment]:
    """For the patient's dashboard: coming appointments their doctor or the clinic cancelled in
    the last CANCELLED_NOTICE_DAYS, so a missed email does not leave them expecting a visit."""
    since = now - timedelta(days=CANCELLED_NOTICE_DAYS)
    return repo.cancelled_for_patient(patient, now=now, since=since, limit=DASHBOARD_ITEMS)


def listing(
    when: str | None,
    *,
    now: datetime,
    page: int,
    per_page: int,
    doctor: DoctorProfile | None = None,
    patient: PatientProfile | None = None,
) -> tuple[str, Pagination]:
    """An appointments page as asked for by `?when=` (anything unknown reads as upcoming;
    `unrecorded` is a doctor's)."""
    when = when if when in (DOCTOR_WHEN if doctor is not None else WHEN) else "upcoming"
    return when, appointments_page(
        when=when, now=now, page=page, per_page=per_page, doctor=doctor, patient=patient
    )


def appointments_page(
    *,
    when: str,
    now: datetime,
    page: int,
    per_page: int,
    doctor: DoctorProfile | None = None,
    patient: PatientProfile | None = None,
) -> Pagination:
    """Upcoming (soonest first) or past (latest first) appointments of a doctor or a patient,
    every status included so that cancelled ones stay visible; or (`unrecorded`) those over and
    still booked, the latest first."""
    query = repo.appointments(doctor=doctor, patient=patient)
    if when == "unrecorded":
        query = repo.unrecorded(query, now)
    else:
        query = repo.past(query, now) if when == "past" else repo.upcoming(query, now)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def doctor_slots_page(doctor: DoctorProfile, *, now: datetime, page: int, per_page: int):
    """The doctor's own slots, upcoming first, with who holds each booked one."""
    pagination = db.paginate(
        repo.doctor_slots(doctor.id, now), page=page, per_page=per_page, error_out=False
    )
    return SlotPage(pagination, repo.holders_of_slots([s.id for s in pagination.items]))
