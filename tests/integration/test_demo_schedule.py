"""`flask seed-demo` gives each demo doctor a week of slots and a few bookings, once."""

from datetime import time, timedelta

from sqlalchemy import func, select

from app.models import Appointment, AvailabilitySlot, DoctorProfile, User
from app.services import accounts, availability
from app.services.demo import DEMO_PASSWORD, DOCTORS
from app.timeutil import local_today, to_local


def counts(db) -> tuple[int, int]:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count(AvailabilitySlot.id))),
        db.session.scalar(select(func.count(Appointment.id))),
    )


def test_seed_demo_publishes_a_week_of_slots_and_books_some(runner, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", "Asia/Tokyo")

    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    tomorrow = local_today() + timedelta(days=1)
    for doctor_id in db.session.scalars(select(DoctorProfile.id)):
        starts = [
            to_local(s)
            for s in db.session.scalars(
                select(AvailabilitySlot.start_at).where(AvailabilitySlot.doctor_id == doctor_id)
            )
        ]
        assert len(starts) == 5 * 6  # every weekday of the coming week, 09:00 to 12:00
        assert {s.weekday() for s in starts} == {0, 1, 2, 3, 4}
        assert {s.time() for s in starts} == {time(h, m) for h in (9, 10, 11) for m in (0, 30)}
        assert min(s.date() for s in starts) >= tomorrow
        assert max(s.date() for s in starts) <= tomorrow + timedelta(days=6)

    appointments = db.session.scalars(select(Appointment)).all()
    assert len(appointments) == 2 * len(DOCTORS)
    assert {a.status.value for a in appointments} == {"booked"}
    assert len({a.patient_id for a in appointments}) == len(appointments)
    assert len({a.doctor_id for a in appointments}) == len(DOCTORS)

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert counts(db) == (30 * len(DOCTORS), 2 * len(DOCTORS))


def test_seed_demo_leaves_a_doctor_with_slots_alone(runner, db):
    name, email, specialization, years = DOCTORS[0]
    user = accounts.sign_up_doctor(
        accounts.NewUser(name, email, DEMO_PASSWORD),
        specialization=specialization,
        years_of_experience=years,
    )
    availability.create_slot(
        user.doctor_profile,
        local_today() + timedelta(days=2),
        time(14),
        time(14, 30),
        actor=user,
    )
    db.session.commit()

    assert runner.invoke(args=["seed-demo"]).exit_code == 0

    own = select(func.count(AvailabilitySlot.id)).join(DoctorProfile).join(User)
    assert db.session.scalar(own.where(User.email == email)) == 1
    assert counts(db) == (1 + 30 * (len(DOCTORS) - 1), 2 * (len(DOCTORS) - 1))
