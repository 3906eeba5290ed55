"""The doctor directory patients search: active doctor accounts only."""

from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.models import DoctorProfile, Role, User


def _active(query: Select) -> Select:
    """`query` over doctor profiles, joined to their users and kept to active doctor accounts."""
    return query.join(DoctorProfile.user).where(User.active.is_(True), User.role == Role.DOCTOR)


def _matching(query: Select, name: str | None, specialization: str | None) -> Select:
    """Name is a case-insensitive substring (LIKE wildcards in it are literal)."""
    query = _active(query)
    if name:
        query = query.where(User.full_name.icontains(name, autoescape=True))
    if specialization:
        query = query.where(DoctorProfile.specialization == specialization)
    return query


def listing(
    name: str | None, specialization: str | None, next_open: ColumnElement[datetime]
) -> Select:
    """The directory's rows, by name: plain columns, which is all a page of it shows, and
    `next_open`, an expression correlated to the doctor, as one more column."""
    columns = select(
        DoctorProfile.id,
        User.full_name,
        DoctorProfile.specialization,
        DoctorProfile.years_of_experience,
        next_open.label("next_open"),
    )
    return _matching(columns, name, specialization).order_by(User.full_name, DoctorProfile.id)


def count(name: str | None, specialization: str | None) -> int:
    return db.session.scalar(_matching(select(func.count(DoctorProfile.id)), name, specialization))


def active_doctor(doctor_id: int) -> DoctorProfile | None:
    """The doctor with their user, loaded by the same join that filters on it."""
    return db.session.scalar(
        _active(select(DoctorProfile))
        .options(contains_eager(DoctorProfile.user))
        .where(DoctorProfile.id == doctor_id)
    )


def specializations() -> list[str]:
    """The distinct specializations of active doctors, for the search filter."""
    return list(
        db.session.scalars(
            _active(select(DoctorProfile.specialization))
            .distinct()
            .order_by(DoctorProfile.specialization)
        )
    )
