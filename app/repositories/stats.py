"""Aggregate queries behind the admin dashboard.

Every figure is one GROUP BY (or one COUNT) in the database, so the dashboard costs the same
handful of queries whether the clinic has ten appointments or ten million.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select

from app.extensions import db
from app.models import Appointment, AppointmentStatus, AvailabilitySlot, DoctorProfile, Role, User
from app.repositories.scheduling import ACTIVE, slot_is_open


@dataclass(frozen=True)
class StatusCount:
    status: AppointmentStatus
    total: int
    future: int  # of `total`, how many start after `now`


@dataclass(frozen=True)
class DayCount:
    index: int  # position in the `bounds` given to bookings_by_day
    booked: int
    cancelled: int  # of `booked`, how many have been cancelled since


@dataclass(frozen=True)
class DoctorUtilisation:
    doctor_id: int
    full_name: str
    specialization: str
    published: int
    booked: int


@dataclass(frozen=True)
class UserCounts:
    by_role: dict[Role, int]
    doctors_waiting: int  # active doctor accounts the front desk has not approved yet


def user_counts() -> UserCounts:
    """Accounts by role, and the doctors waiting for approval, in one pass over the users."""
    waiting = case(
        (and_(DoctorProfile.id.is_not(None), DoctorProfile.approved_at.is_(None), User.active), 1)
    )
    rows = db.session.execute(
        select(User.role, func.count(User.id), func.count(waiting))
        .outerjoin(DoctorProfile, DoctorProfile.user_id == User.id)
        .group_by(User.role)
    ).all()
    return UserCounts(
        by_role={Role(role): count for role, count, _ in rows},
        doctors_waiting=sum(waiting for _, _, waiting in rows),
    )


def appointments_by_status(now: datetime) -> list[StatusCount]:
    future = func.sum(case((Appointment.start_at > now, 1), else_=0))
    rows = db.session.execute(
        select(Appointment.status, func.count(Appointment.id), future).group_by(Appointment.status)
    )
    return [StatusCount(AppointmentStatus(s), total, int(ahead or 0)) for s, total, ahead in rows]


def open_slot_count(now: datetime) -> int:
    return db.session.scalar(
        select(func.count(AvailabilitySlot.id)).where(
            AvailabilitySlot.start_at > now, slot_is_open()
        )
    )


def bookings_by_day(bounds: Sequence[datetime]) -> list[DayCount]:
    """Appointments created in each [bounds[i], bounds[i+1]) window.

    The windows are clinic days computed by the caller (23 or 25 hours long across DST), so
    the bucketing is the same on PostgreSQL and SQLite without time-zone functions in SQL. The
    bucket is computed in a subquery: PostgreSQL cannot match a parameterised GROUP BY
    expression to the same expression in the select list.
    """
    if len(bounds) < 2:
        return []
    bucket = case(
        *((Appointment.created_at < bound, index) for index, bound in enumerate(bounds[1:])),
    )
    cancelled = case((Appointment.status == AppointmentStatus.CANCELLED, 1), else_=0)
    windowed = (
        select(bucket.label("day"), cancelled.label("cancelled"))
        .where(Appointment.created_at >= bounds[0], Appointment.created_at < bounds[-1])
        .subquery()
    )
    rows = db.session.execute(
        select(windowed.c.day, func.count(), func.sum(windowed.c.cancelled))
        .group_by(windowed.c.day)
        .order_by(windowed.c.day)
    )
    return [DayCount(index, booked, int(gone or 0)) for index, booked, gone in rows]


def slot_utilisation(start: datetime, end: datetime, limit: int) -> list[DoctorUtilisation]:
    """Published and booked slots per doctor starting in [start, end), busiest doctors first.

    The partial unique index allows one active appointment per slot, so counting the joined
    appointments counts booked slots.
    """
    booked = func.count(Appointment.id)
    published = func.count(AvailabilitySlot.id)
    rows = db.session.execute(
        select(DoctorProfile.id, User.full_name, DoctorProfile.specialization, published, booked)
        .select_from(AvailabilitySlot)
        .join(DoctorProfile, DoctorProfile.id == AvailabilitySlot.doctor_id)
        .join(User, User.id == DoctorProfile.user_id)
        .outerjoin(Appointment, and_(Appointment.slot_id == AvailabilitySlot.id, ACTIVE))
        .where(AvailabilitySlot.start_at >= start, AvailabilitySlot.start_at < end)
        .group_by(DoctorProfile.id, User.full_name, DoctorProfile.specialization)
        .order_by(booked.desc(), published.desc(), User.full_name, DoctorProfile.id)
        .limit(limit)
    )
    return [DoctorUtilisation(*row) for row in rows]


def bookings_by_specialization(since: datetime, limit: int) -> list[tuple[str, int]]:
    """Appointments booked since `since` and not cancelled, per specialization, busiest first."""
    count = func.count(Appointment.id)
    rows = db.session.execute(
        select(DoctorProfile.specialization, count)
        .select_from(Appointment)
        .join(DoctorProfile, DoctorProfile.id == Appointment.doctor_id)
        .where(Appointment.created_at >= since, ACTIVE)
        .group_by(DoctorProfile.specialization)
        .order_by(count.desc(), DoctorProfile.specialization)
        .limit(limit)
    )
    return [(name, total) for name, total in rows]
