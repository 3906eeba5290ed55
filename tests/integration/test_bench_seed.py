"""The benchmark's bulk seeding writes rows the app reads as its own (bench/seed.py).

Only a tiny clinic here: speed is measured by `make bench`, never asserted in tests.
"""

import pytest
from sqlalchemy import func, select

from app.models import Appointment, AppointmentStatus, AvailabilitySlot, DoctorProfile, User
from app.services import accounts
from bench.seed import (
    ADMIN_EMAIL,
    BENCH_PASSWORD,
    MAX_NO_SHOWS,
    doctor_email,
    patient_email,
    seed,
)

pytestmark = pytest.mark.postgres


def test_seeding_a_tiny_clinic_gives_rows_the_app_can_use(app, db, client, make):
    result = seed(app.config["SQLALCHEMY_DATABASE_URI"], scale=0.002, log=lambda _line: None)

    assert result.rows["doctor_profiles"] == 2
    assert result.rows["patient_profiles"] == 40
    assert result.rows["availability_slots"] == 400
    assert db.session.scalar(select(func.count()).select_from(User)) == 43
    assert 0 < result.rows["appointments"] < 400
    assert result.rows["outbox_messages"] == 2 * result.rows["appointments"]

    # one active appointment per slot, times aware and copied from the slot
    active = db.session.scalars(
        select(Appointment).where(Appointment.status != AppointmentStatus.CANCELLED)
    ).all()
    assert len({a.slot_id for a in active}) == len(active)
    slot = db.session.get(AvailabilitySlot, active[0].slot_id)
    assert active[0].start_at == slot.start_at and slot.start_at.tzinfo is not None

    # no patient missed enough appointments to be kept from booking online
    missed = db.session.scalars(
        select(func.count())
        .where(Appointment.status == AppointmentStatus.NO_SHOW)
        .group_by(Appointment.patient_id)
    ).all()
    assert max(missed, default=0) <= MAX_NO_SHOWS < app.config["NO_SHOW_LIMIT"]

    # every account signs in with the one shared password, through the real service
    for email in (ADMIN_EMAIL, doctor_email(1), patient_email(40)):
        assert accounts.authenticate(email, BENCH_PASSWORD).email == email
    doctor = db.session.get(DoctorProfile, result.first_doctor_id)
    assert doctor.user.email == doctor_email(1)

    # the id sequences continue after the copied rows: the app can still add its own
    assert make.patient().id == result.first_patient_id + 40
