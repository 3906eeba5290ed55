"""The doctor directory patients search: active doctor accounts only."""

from datetime import datetime
from functools import cache

from sqlalchemy import Row, Select, bindparam, func, select
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.models import DoctorProfile, Role, User
from app.repositories import scheduling

LIKE_ESCAPE = "/"


def _active(query: Select) -> Select:
    """`query` over doctor profiles, joined to their users and kept to active doctor accounts."""
    return query.join(DoctorProfile.user).where(User.active.is_(True), User.role == Role.DOCTOR)


def _matching(query: Select, by_name: bool, by_specialization: bool) -> Select:
    """Active doctors, by bound "name" (a case-insensitive substring, passed through
    `like_literal`) and bound "specialization", as asked."""
    query = _active(query)
    if by_name:
        query = query.where(User.full_name.icontains(bindparam("name"), escape=LIKE_ESCAPE))
    if by_specialization:
        query = query.where(DoctorProfile.specialization == bindparam("specialization"))
    return query


def _search(name: str | None, specialization: str | None, **values) -> dict:
    """The values bound to `_matching`'s conditions (and any others given)."""
    if name:
        values["name"] = like_literal(name)
    if specialization:
        values["specialization"] = specialization
    return values


def like_literal(text: str) -> str:
    """`text` for a LIKE pattern with escape LIKE_ESCAPE, its wildcards matching themselves
    (what SQLAlchemy's autoescape=True does to a literal, for a bound value)."""
    return (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


def listing(
    name: str | None,
    specialization: str | None,
    earliest: datetime,
    latest: datetime,
    limit: int,
    offset: int,
) -> list[Row]:
    """A page of the directory's rows, by name: plain columns, which is all a page of it shows,
    and `next_open`, the doctor's first open slot in [earliest, latest], as one more column."""
    values = _search(
        name, specialization, earliest=earliest, latest=latest, limit=limit, offset=offset
    )
    return list(db.session.execute(_listing(bool(name), bool(specialization)), values))


def count(name: str | None, specialization: str | None) -> int:
    values = _search(name, specialization)
    return db.session.scalar(_count(bool(name), bool(specialization)), values)


# The directory's statements are built once per process for each kind of search, their values
# bound at each run: building one and working out its cache key cost about 0.3 ms, on every view.


@cache
def _listing(by_name: bool, by_specialization: bool) -> Select:
    next_open = scheduling.first_open_start(bindparam("earliest"), bindparam("latest"))
    columns = select(
        DoctorProfile.id,
        User.full_name,
        DoctorProfile.specialization,
        DoctorProfile.years_of_experience,
        next_open.label("next_open"),
    )
    return (
        _matching(columns, by_name, by_specialization)
        .order_by(User.full_name, DoctorProfile.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


@cache
def _count(by_name: bool, by_specialization: bool) -> Select:
    return _matching(select(func.count(DoctorProfile.id)), by_name, by_specialization)


def active_doctor(doctor_id: int) -> DoctorProfile | None:
    """The doctor with their user, loaded by the same join that filters on it."""
    return db.session.scalar(_active_doctor(), {"doctor_id": doctor_id})


@cache
def _active_doctor() -> Select:
    """Built once per process (a doctor's page runs it on every view), the id bound."""
    return (
        _active(select(DoctorProfile))
        .options(contains_eager(DoctorProfile.user))
        .where(DoctorProfile.id == bindparam("doctor_id"))
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
