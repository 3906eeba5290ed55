"""A small clinic for the security tests: two of each role, so every object has an owner and a
stranger, and a snapshot of the whole database to prove a refused request changed nothing.

The first doctor and the first patient own everything the tests aim at (their slots, their
appointment, the patient's waitlist entry); the second of each is the stranger trying them.
"""

from dataclasses import dataclass
from datetime import time, timedelta

import pyotp
import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.models import (
    Appointment,
    AvailabilitySlot,
    ClinicClosure,
    DoctorProfile,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    PatientProfile,
    StandingHours,
    User,
    WaitlistEntry,
)
from app.services import crypto
from app.timeutil import local_today, utcnow

ANON, PATIENT, PATIENT2, DOCTOR, DOCTOR2, ADMIN, DESK = (
    "anonymous",
    "patient",
    "patient2",
    "doctor",
    "doctor2",
    "admin",
    "desk",
)
ACTORS = (ANON, PATIENT, PATIENT2, DOCTOR, DOCTOR2, ADMIN, DESK)
SIGNED_IN = ACTORS[1:]
PATIENTS, DOCTORS, ADMINS = (PATIENT, PATIENT2), (DOCTOR, DOCTOR2), (ADMIN,)
STAFF = (ADMIN, DESK)  # the front desk shares some of the admin's pages, not all


@dataclass
class World:
    doctor: DoctorProfile
    doctor2: DoctorProfile
    patient: PatientProfile
    patient2: PatientProfile
    admin: User
    desk: User  # a front-desk account
    inactive: User  # a deactivated patient, for the admin's "activate"
    free_slot: AvailabilitySlot  # the first doctor's, open
    spare_slot: AvailabilitySlot  # the first doctor's, open: where a reschedule goes
    appointment: Appointment  # the first patient's with the first doctor, upcoming
    past_appointment: Appointment  # theirs too, started two hours ago: its outcome can be recorded
    arriving: Appointment  # theirs too, starting in half an hour: the patient can be checked in
    visited: Appointment  # theirs too, completed a week ago: the patient can say how it went
    other_appointment: Appointment  # the second patient's with the second doctor
    entry: WaitlistEntry  # the first patient's, for the first doctor
    other_entry: WaitlistEntry  # the second patient's, for the second doctor
    closure: ClinicClosure  # a public holiday a month ahead
    applicant: DoctorProfile  # signed up, waiting for the front desk's approval
    given_up: OutboxMessage  # the first patient's welcome, which the outbox worker gave up on
    standing: StandingHours  # the first doctor's weekly hours, repeated (the second has none)

    def user(self, actor: str) -> User | None:
        return {
            ANON: None,
            PATIENT: self.patient.user,
            PATIENT2: self.patient2.user,
            DOCTOR: self.doctor.user,
            DOCTOR2: self.doctor2.user,
            ADMIN: self.admin,
            DESK: self.desk,
        }[actor]


def hour(offset_hours: float):
    return (utcnow() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0) + timedelta(
        hours=offset_hours
    )


def build_world(make) -> World:
    doctor, doctor2 = make.doctor(), make.doctor()
    patient, patient2 = make.patient(), make.patient()
    started = utcnow().replace(microsecond=0) - timedelta(hours=2)
    world = World(
        doctor=doctor,
        doctor2=doctor2,
        patient=patient,
        patient2=patient2,
        admin=make.admin(),
        desk=make.desk(),
        inactive=make.patient(user__active=False).user,
        free_slot=make.slot(doctor=doctor, start_at=hour(0)),
        spare_slot=make.slot(doctor=doctor, start_at=hour(2)),
        appointment=make.appointment(
            slot=make.slot(doctor=doctor, start_at=hour(4)), patient=patient
        ),
        past_appointment=make.appointment(
            slot=make.slot(doctor=doctor, start_at=started), patient=patient
        ),
        arriving=make.appointment(
            slot=make.slot(doctor=doctor, start_at=started + timedelta(hours=2, minutes=30)),
            patient=patient,
        ),
        visited=make.appointment(
            slot=make.slot(doctor=doctor, start_at=started - timedelta(days=7)),
            patient=patient,
            status="completed",
        ),
        other_appointment=make.appointment(
            slot=make.slot(doctor=doctor2, start_at=hour(4)), patient=patient2
        ),
        entry=WaitlistEntry(patient=patient, doctor=doctor, day=local_today() + timedelta(days=3)),
        other_entry=WaitlistEntry(
            patient=patient2, doctor=doctor2, day=local_today() + timedelta(days=3)
        ),
        closure=ClinicClosure(day=local_today() + timedelta(days=30), reason="Holiday"),
        applicant=make.doctor(approved_at=None),
        given_up=OutboxMessage(
            kind=OutboxKind.EMAIL,
            payload={"action": "SIGNUP_WELCOME", "to": patient.user.email, "data": {}},
            idempotency_key="given-up-welcome",
            status=OutboxStatus.DEAD,
        ),
        standing=StandingHours(
            doctor_id=doctor.id,
            weekdays=StandingHours.weekday_bits([0, 1, 2, 3, 4]),
            day_start=time(9),
            day_end=time(12),
            slot_minutes=30,
            published_through=local_today() + timedelta(days=90),
        ),
    )
    _db.session.add_all(
        [world.entry, world.other_entry, world.closure, world.given_up, world.standing]
    )
    patient.user.calendar_feed_nonce = "the-first-patients-feed"  # a calendar subscription
    doctor.user.two_step_secret = crypto.encrypt(pyotp.random_base32())  # two-step sign-in on
    doctor.user.two_step_enabled_at = utcnow()
    _db.session.commit()
    return world


@pytest.fixture
def world(make) -> World:
    return build_world(make)


def snapshot() -> dict[str, list[str]]:
    """Every row of every table, read fresh: equal snapshots mean nothing changed."""
    _db.session.rollback()  # end the test's transaction: read what requests committed
    return {
        table.name: sorted(repr(tuple(row)) for row in _db.session.execute(select(table)))
        for table in _db.metadata.sorted_tables
    }
