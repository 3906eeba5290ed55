"""The doctor directory patients search: approved, active doctor accounts only."""

from datetime import datetime
from functools import cache

from sqlalchemy import Row, Select, bindparam, func, literal, select, true
from sqlalchemy.orm import contains_eager, joinedload

from app.extensions import db
from app.models import DoctorProfile, Role, User
from app.repositories import scheduling

LIKE_ESCAPE = "/"

# Written into the SQL, not bound: it is the predicate of the doctors' name index for searches
# (ix_users_doctor_name_trgm), and a plan made without the value (a prepared statement's generic
# plan) could not use that index.
IS_DOCTOR = User.role == literal(Role.DOCTOR, User.role.type, literal_execute=True)


def _active(query: Select) -> Select:
    """`query` over doctor profiles, joined to their users and kept to the doctors patients may
    find: approved, their account active."""
    return query.join(DoctorProfile.user).where(
        User.active.is_(True), IS_DOCTOR, DoctorProfile.approved_at.is_not(None)
    )


def _matching(query: Select, by_name: bool, by_specialization: bool, by_time: bool) -> Select:
    """Active doctors, by bound "name" and bound "specialization", as asked."""
    return _active(query).where(
        *_conditions(
            by_name, by_specialization, by_time, DoctorProfile.specialization, DoctorProfile.id
        )
    )


def _conditions(
    by_name: bool, by_specialization: bool, by_time: bool, specialization, doctor_id
) -> list:
    """The search's conditions on users and on a profile's `specialization` and `doctor_id`
    columns: by bound "name" (a case-insensitive substring, passed through `like_literal`),
    bound "specialization", and an open slot in ["earliest", "latest"], as asked."""
    conditions = []
    if by_name:
        conditions.append(User.full_name.icontains(bindparam("name"), escape=LIKE_ESCAPE))
    if by_specialization:
        conditions.append(specialization == bindparam("specialization"))
    if by_time:
        conditions.append(
            scheduling.has_open_slot(doctor_id, bindparam("earliest"), bindparam("latest"))
        )
    return conditions


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
    *,
    open_only: bool = False,
) -> list[Row]:
    """A page of the directory's rows, by name: plain columns, which is all a page of it shows,
    and `next_open`, the doctor's first open slot in [earliest, latest], as one more column.
    With `open_only`, only the doctors who have one."""
    values = _search(
        name, specialization, earliest=earliest, latest=latest, limit=limit, offset=offset
    )
    statement = _listing(bool(name), bool(specialization), open_only, lateral=_joins_lateral())
    return list(db.session.execute(statement, values))


def count(
    name: str | None,
    specialization: str | None,
    between: tuple[datetime, datetime] | None = None,
) -> int:
    """How many doctors match; with `between`, only those with an open slot in it."""
    values = _search(name, specialization)
    if between is not None:
        values["earliest"], values["latest"] = between
    statement = _count(bool(name), bool(specialization), between is not None)
    return db.session.scalar(statement, values)


# The directory's statements are built once per process for each kind of search, their values
# bound at each run: building one and working out its cache key cost about 0.3 ms, on every view.


def _joins_lateral() -> bool:
    """PostgreSQL joins LATERAL; SQLite (development only) cannot."""
    return db.engine.dialect.name == "postgresql"


@cache
def _listing(by_name: bool, by_specialization: bool, by_time: bool, *, lateral: bool) -> Select:
    """A page of matching doctors by name ("limit" and "offset" bound), then each one's first
    open slot in ["earliest", "latest"]: looked for on the page's rows only, not on the rows an
    offset skips (a page deep in the list looked for 500 of them).

    Without a specialization, PostgreSQL walks the users' (role, full_name) index and fetches
    each doctor's profile, stopping at the end of the page. The profile is joined LATERAL, LIMIT
    1 (a user has at most one) so that it is estimated as one profile per doctor: a plain join
    is estimated from the 21,000 distinct user ids at 1,000 x 1,000 / 21,000 = 48 doctors, and
    for that few PostgreSQL hash-joined and sorted every doctor for every page (1.1 ms against
    0.4 at scale 1). With a specialization, a twelfth of the doctors or so, the plain join finds
    them by the specialization's index and sorts those few, which beats walking the names. So
    does SQLite (`lateral` false), which has no LATERAL.
    """
    profiles = DoctorProfile.__table__
    if by_specialization or not lateral:
        profile = profiles
        on = (profiles.c.user_id == User.id) & profiles.c.approved_at.is_not(None)
    else:
        profile = (
            select(
                profiles.c.id,
                profiles.c.specialization,
                profiles.c.years_of_experience,
                profiles.c.closed_to_new_patients,
            )
            .where(profiles.c.user_id == User.id, profiles.c.approved_at.is_not(None))
            .limit(1)
            .lateral("profile")
        )
        on = true()
    page = (
        select(
            profile.c.id,
            User.full_name,
            profile.c.specialization,
            profile.c.years_of_experience,
            profile.c.closed_to_new_patients,
        )
        .select_from(User)
        .join(profile, on)
        .where(User.active.is_(True), IS_DOCTOR)
        .where(
            *_conditions(
                by_name, by_specialization, by_time, profile.c.specialization, profile.c.id
            )
        )
        .order_by(User.full_name, profile.c.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .subquery("page")
    )
    next_open = scheduling.first_open_start(page.c.id, bindparam("earliest"), bindparam("latest"))
    return select(page, next_open.label("next_open")).order_by(page.c.full_name, page.c.id)


@cache
def _count(by_name: bool, by_specialization: bool, by_time: bool) -> Select:
    return _matching(select(func.count(DoctorProfile.id)), by_name, by_specialization, by_time)


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


def doctor_account(user_id: int) -> User | None:
    """A doctor's account, approved or not, with its profile."""
    return db.session.scalar(
        select(User)
        .options(joinedload(User.doctor_profile))
        .where(User.id == user_id, User.role == Role.DOCTOR)
    )


def profile_of(user_id: int) -> DoctorProfile | None:
    """The doctor profile of account `user_id`, approved or not, active or not, its account
    loaded with it (the profile's own joined load: the account's name is on every page)."""
    return db.session.scalar(select(DoctorProfile).where(DoctorProfile.user_id == user_id))


def lock_profile_of(user_id: int) -> DoctorProfile | None:
    """The doctor profile of account `user_id`, row-locked and read afresh: a request that read
    it before waiting for the lock sees what the holder did to the profile. Its user is loaded
    but not locked, and as the statement first saw it: lock the account too to read it afresh."""
    return db.session.scalar(
        select(DoctorProfile)
        .where(DoctorProfile.user_id == user_id)
        .with_for_update(of=DoctorProfile)
        .execution_options(populate_existing=True)
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


def specialization_spelled(specialization: str, *, besides: int | None = None) -> str | None:
    """How other doctors (all but profile `besides`) spell this specialization, whatever its
    case: the most common spelling, if any. Run at sign-up and profile saves only."""
    query = (
        select(DoctorProfile.specialization)
        .where(func.lower(DoctorProfile.specialization) == specialization.lower())
        .group_by(DoctorProfile.specialization)
        .order_by(func.count().desc(), DoctorProfile.specialization)
        .limit(1)
    )
    if besides is not None:
        query = query.where(DoctorProfile.id != besides)
    return db.session.scalar(query)
