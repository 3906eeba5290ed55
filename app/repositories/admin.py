"""The admin console's searches: users, appointments and the audit trail.

Each returns a Select that already loads everything its page shows (contains_eager over the
joins the filters need anyway), so a page costs one query for its rows and one for the count
however many rows it shows. The CSV export runs the same Select unpaginated.
"""

import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import aliased, contains_eager

from app.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    DoctorProfile,
    PatientProfile,
    Role,
    User,
)

DoctorUser = aliased(User, name="doctor_user")
PatientUser = aliased(User, name="patient_user")
CancelledBy = aliased(User, name="cancelled_by_user")
MAX_ID = 2**31 - 1  # ids are INTEGER columns: a bigger number is a name search, not a DB error
# A whole address (the Users list links each person's appointments by it): that account only,
# not every address containing it ("emma@…" is not "jemma@…").
WHOLE_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _person(user, text: str, *, by_email_part: bool):
    """`user` (an aliased User) named by `text`: the account with that whole address, or a
    name (and, with `by_email_part`, an address) containing it."""
    if WHOLE_ADDRESS.fullmatch(text):
        return user.email == text.lower()
    matches = [user.full_name.icontains(text, autoescape=True)]
    if by_email_part:
        matches.append(user.email.icontains(text, autoescape=True))
    return or_(*matches)


def _between(column, start: datetime | None, end: datetime | None) -> list:
    conditions = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column < end)
    return conditions


def user_search(
    q: str | None = None,
    role: Role | None = None,
    active: bool | None = None,
    waiting_approval: bool = False,
    *,
    roles: Iterable[Role] | None = None,
) -> Select:
    """Users whose name or email contains `q` (any case), newest accounts first; with
    `waiting_approval`, the doctors the front desk has not approved yet; with `roles`, only
    accounts of those roles. A doctor's profile is loaded with them (the list says who is
    waiting)."""
    query = select(User).outerjoin(User.doctor_profile).options(contains_eager(User.doctor_profile))
    if waiting_approval:
        query = query.where(DoctorProfile.id.is_not(None), DoctorProfile.approved_at.is_(None))
    if q:
        query = query.where(
            or_(
                User.full_name.icontains(q, autoescape=True),
                User.email.icontains(q, autoescape=True),
            )
        )
    if role is not None:
        query = query.where(User.role == role)
    if roles is not None:
        query = query.where(User.role.in_(list(roles)))
    if active is not None:
        query = query.where(User.active.is_(active))
    return query.order_by(User.created_at.desc(), User.id.desc())


def appointment_search(
    *,
    q: str | None = None,
    doctor: str | None = None,
    patient: str | None = None,
    status: AppointmentStatus | None = None,
    unconfirmed: bool = False,
    start: datetime | None = None,
    end: datetime | None = None,
    earliest_first: bool = False,
) -> Select:
    """Appointments by anyone involved (`q`: doctor's or patient's name, patient's email),
    doctor (id, whole address, or part of the name), patient (whole address, or part of name or
    email), status (`unconfirmed`: the patient has not said they will come) and start time in
    [start, end); latest first (or `earliest_first`), with both parties loaded."""
    query = (
        select(Appointment)
        .join(Appointment.doctor)
        .join(DoctorProfile.user.of_type(DoctorUser))
        .join(Appointment.patient)
        .join(PatientProfile.user.of_type(PatientUser))
        .outerjoin(Appointment.cancelled_by.of_type(CancelledBy))
        .options(
            contains_eager(Appointment.doctor).contains_eager(
                DoctorProfile.user.of_type(DoctorUser)
            ),
            contains_eager(Appointment.patient).contains_eager(
                PatientProfile.user.of_type(PatientUser)
            ),
            contains_eager(Appointment.cancelled_by.of_type(CancelledBy)),
        )
    )
    if q:
        query = query.where(
            or_(
                DoctorUser.full_name.icontains(q, autoescape=True),
                PatientUser.full_name.icontains(q, autoescape=True),
                PatientUser.email.icontains(q, autoescape=True),
            )
        )
    if doctor:
        if doctor.isascii() and doctor.isdigit() and int(doctor) <= MAX_ID:
            query = query.where(Appointment.doctor_id == int(doctor))
        else:
            query = query.where(_person(DoctorUser, doctor, by_email_part=False))
    if patient:
        query = query.where(_person(PatientUser, patient, by_email_part=True))
    if status is not None:
        query = query.where(Appointment.status == status)
    if unconfirmed:
        query = query.where(Appointment.attendance_confirmed_at.is_(None))
    query = query.where(*_between(Appointment.start_at, start, end))
    if earliest_first:  # the front desk's day, in the order patients come
        return query.order_by(Appointment.start_at, Appointment.id)
    return query.order_by(Appointment.start_at.desc(), Appointment.id.desc())


def audit_search(
    *,
    q: str | None = None,
    actor: str | None = None,
    kind: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Select:
    """Audit events, newest first, by actor (part of the name or of the email recorded with
    the event, which failed logins carry without an account), kind and time; `q` also
    matches the IP address, to follow one source of failed logins."""
    query = select(AuditEvent).outerjoin(AuditEvent.actor).options(contains_eager(AuditEvent.actor))
    if q:
        query = query.where(
            or_(_actor_matches(q), AuditEvent.ip_address.icontains(q, autoescape=True))
        )
    if actor:
        query = query.where(_actor_matches(actor))
    if kind:
        query = query.where(AuditEvent.kind == kind)
    query = query.where(*_between(AuditEvent.created_at, start, end))
    return query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


def _actor_matches(text: str):
    return or_(
        AuditEvent.actor_email.icontains(text, autoescape=True),
        User.full_name.icontains(text, autoescape=True),
        User.email.icontains(text, autoescape=True),
    )
