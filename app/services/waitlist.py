"""The waitlist: patients queue for a full day with a doctor and hear when a place frees up
(a cancellation, a move) or the doctor publishes one.

Being told is not a reservation: the first to book wins, through the normal booking race.

`booking` imports this module as well; its rules are looked up here when called, not at import.
"""

import uuid
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from app.extensions import db
from app.models import AvailabilitySlot, DoctorProfile, PatientProfile, User, WaitlistEntry
from app.repositories import scheduling as repo
from app.services import Conflict, DomainError, NotFound, booking, new_patients, notifications
from app.services.audit import AuditKind, record
from app.timeutil import local_today, to_local, utcnow

MAX_DAYS = 14  # the longest run of days one request puts a patient on the waitlist for


def join(
    patient: PatientProfile,
    doctor_id: int,
    day: date,
    *,
    last_day: date | None = None,
    actor: User,
    now: datetime | None = None,
) -> list[WaitlistEntry]:
    """Put the patient on the doctor's waitlist for `day`, or for every day from `day` to
    `last_day` ("any day this week"); the days they already wait for stay as they are. Returns
    the new entries."""
    now = now or utcnow()
    last_day = last_day or day
    doctor = db.session.get(DoctorProfile, doctor_id)
    if doctor is None or not doctor.bookable:
        raise NotFound("That doctor does not exist.")
    if day < local_today():
        raise DomainError("That day has already passed.", field="date")
    if last_day < day:
        raise DomainError("The last day must not be before the first.", field="last_date")
    if (last_day - day).days >= MAX_DAYS:
        raise DomainError(f"At most {MAX_DAYS} days at a time.", field="last_date")
    if actor.id == patient.user_id and (refusal := _online_refusal(doctor, patient.id, now)):
        raise Conflict(refusal, field="date")  # they would be told of places they cannot book
    days = [day + timedelta(days=n) for n in range((last_day - day).days + 1)]
    taken = set(
        db.session.scalars(
            select(WaitlistEntry.day).where(
                WaitlistEntry.patient_id == patient.id,
                WaitlistEntry.doctor_id == doctor.id,
                WaitlistEntry.day.between(day, last_day),
            )
        )
    )
    if len(taken) == len(days):
        which = "that day" if len(days) == 1 else "those days"
        raise Conflict(f"You are already on the waitlist for {which}.", field="date")
    entries = [
        WaitlistEntry(patient_id=patient.id, doctor_id=doctor.id, day=wanted, created_at=now)
        for wanted in days
        if wanted not in taken
    ]
    try:
        with db.session.begin_nested():
            db.session.add_all(entries)
    except IntegrityError:  # the same request from another tab, a moment before
        raise Conflict("You are already on the waitlist for that day.", field="date") from None
    for entry in entries:
        record(AuditKind.WAITLIST_JOINED, actor=actor, target=entry, day=entry.day.isoformat())
    return entries


def _online_refusal(doctor: DoctorProfile, patient_id: int, now: datetime) -> str | None:
    """Why the patient could not book the doctor online, or None: a place they could not take
    is not worth waiting for (the front desk books them)."""
    if refusal := new_patients.refusal(doctor, patient_id):
        return refusal
    standing = repo.standing(patient_id, booking.missed_since(now), now)
    return booking.online_refusal(standing)


def leave(patient: PatientProfile, entry_id: int, *, actor: User) -> None:
    entry = db.session.get(WaitlistEntry, entry_id)
    if entry is None or entry.patient_id != patient.id:
        raise NotFound("That waitlist entry does not exist.")
    record(AuditKind.WAITLIST_LEFT, actor=actor, target=entry, day=entry.day.isoformat())
    db.session.delete(entry)
    db.session.flush()


def served(patient_id: int, doctor_id: int, day: date, *, actor: User) -> None:
    """The patient now has an appointment with the doctor on `day`: their places on that day's
    waitlist and on the days after it go, so they are not told of places they no longer need.
    Those on earlier days stay: the waitlist goes on looking for something sooner."""
    entries = db.session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.patient_id == patient_id,
            WaitlistEntry.doctor_id == doctor_id,
            WaitlistEntry.day >= day,
        )
    ).all()
    for entry in entries:
        details = {"day": entry.day.isoformat(), "booked": True}
        record(AuditKind.WAITLIST_LEFT, actor=actor, target=entry, **details)
        db.session.delete(entry)
    db.session.flush()


def entries_for(patient: PatientProfile) -> list[WaitlistEntry]:
    """The patient's current entries (today onwards), with their doctors, in one query."""
    values = {"patient_id": patient.id, "today": local_today()}
    return list(db.session.scalars(_entries_for(), values))


@cache
def _entries_for() -> Select[tuple[WaitlistEntry]]:
    """Built once per process (the patient dashboard runs it on every view), values bound."""
    return (
        select(WaitlistEntry)
        .options(joinedload(WaitlistEntry.doctor).joinedload(DoctorProfile.user))
        .where(
            WaitlistEntry.patient_id == bindparam("patient_id"),
            WaitlistEntry.day >= bindparam("today"),
        )
        .order_by(WaitlistEntry.day)
    )


def waiting(doctor_id: int, first_day: date) -> dict[date, int]:
    """How many patients (active accounts: the ones a new slot would be offered to) wait for
    a place with this doctor, by day from `first_day`, in one query."""
    query = (
        select(WaitlistEntry.day, func.count())
        .join(WaitlistEntry.patient)
        .join(PatientProfile.user)
        .where(
            WaitlistEntry.doctor_id == doctor_id,
            WaitlistEntry.day >= first_day,
            User.active.is_(True),
        )
        .group_by(WaitlistEntry.day)
        .order_by(WaitlistEntry.day)
    )
    return {day: number for day, number in db.session.execute(query)}


def waiting_on(doctor_id: int, day: date) -> list[WaitlistEntry]:
    """Who waits for a place with this doctor on `day` (active accounts), first come first, with
    their names and phones: the day sheet lists them, so a gap can be filled by a phone call."""
    return list(
        db.session.scalars(
            select(WaitlistEntry)
            .join(WaitlistEntry.patient)
            .join(PatientProfile.user)
            .options(contains_eager(WaitlistEntry.patient).contains_eager(PatientProfile.user))
            .where(
                WaitlistEntry.doctor_id == doctor_id,
                WaitlistEntry.day == day,
                User.active.is_(True),
            )
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        )
    )


def slot_freed(slot: AvailabilitySlot, now: datetime | None = None) -> int:
    """Tell everyone waiting for this slot's doctor and day who could book it online (their
    account active, and the online rules letting them), earliest first; returns how many."""
    now = now or utcnow()
    if slot.start_at <= now:
        return 0
    day = to_local(slot.start_at).date()
    query = (
        select(WaitlistEntry)
        .join(WaitlistEntry.patient)
        .join(PatientProfile.user)
        .where(
            WaitlistEntry.doctor_id == slot.doctor_id,
            WaitlistEntry.day == day,
            User.active.is_(True),  # a deactivated account keeps its place, unsent, until back
        )
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    )
    if db.session.get(DoctorProfile, slot.doctor_id).closed_to_new_patients:
        # someone new to the doctor, waiting since before the list closed, could not book it:
        # their place waits, unsent, until the doctor takes new patients again
        query = query.where(repo.taken_on(WaitlistEntry.patient_id, slot.doctor_id))
    # nor is anyone the online rules hold back now (too many missed visits, as many booked
    # ahead as the clinic allows): their place waits for when they may book again
    query = query.where(*booking.within_online_limits(WaitlistEntry.patient_id, now))
    entries = db.session.scalars(query).all()
    event_id = uuid.uuid4().hex[:12]
    for entry in entries:
        notifications.waitlist_slot_open(entry, slot, event_id)
        entry.last_notified_at = now
    return len(entries)
