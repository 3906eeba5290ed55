"""The doctor directory patients search: active doctor accounts only."""

from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.models import DoctorProfile, Role, User


def _active() -> Select[tuple[DoctorProfile]]:
    """Doctors whose account is active, the user loaded by the same join that filters on it."""
    return (
        select(DoctorProfile)
        .join(DoctorProfile.user)
        .options(contains_eager(DoctorProfile.user))
        .where(User.active.is_(True), User.role == Role.DOCTOR)
    )


def search(name: str | None = None, specialization: str | None = None) -> Select:
    """Name is a case-insensitive substring (LIKE wildcards in it are literal)."""
    query = _active()
    if name:
        query = query.where(User.full_name.icontains(name, autoescape=True))
    if specialization:
        query = query.where(DoctorProfile.specialization == specialization)
    return query.order_by(User.full_name, DoctorProfile.id)


def active_doctor(doctor_id: int) -> DoctorProfile | None:
    return db.session.scalar(_active().where(DoctorProfile.id == doctor_id))


def specializations() -> list[str]:
    """The distinct specializations of active doctors, for the search filter."""
    return list(
        db.session.scalars(
            select(DoctorProfile.specialization)
            .join(DoctorProfile.user)
            .where(User.active.is_(True), User.role == Role.DOCTOR)
            .distinct()
            .order_by(DoctorProfile.specialization)
        )
    )
