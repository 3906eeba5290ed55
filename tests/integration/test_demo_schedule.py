"""`flask seed-demo` gives each demo doctor a week of slots and a few bookings, once."""

from datetime import time, timedelta

from sqlalchemy import func, select

from app.models import Appointment, AvailabilitySlot, DoctorProfile, User
from app.services import accounts, availability
from app.services.demo import APPLICANT, DEMO_HISTORY, DEMO_PASSWORD, DOCTORS
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
    listed = select(DoctorProfile.id).where(DoctorProfile.approved_at.is_not(None))
    for doctor_id in db.session.scalars(listed):
        everything = [
            to_local(s)
            for s in db.session.scalars(
                select(AvailabilitySlot.start_at).where(AvailabilitySlot.doctor_id == doctor_id)
            )
        ]
        starts = [s for s in everything if s.date() > local_today()]  # the past is history
        assert len(everything) == 5 * 6 + len(DEMO_HISTORY)
        assert len(starts) == 5 * 6  # every weekday of the coming week, 09:00 to 12:00
        assert {s.weekday() for s in starts} == {0, 1, 2, 3, 4}
        assert {s.time() for s in starts} == {time(h, m) for h in (9, 10, 11) for m in (0, 30)}
        assert min(s.date() for s in starts) >= tomorrow
        assert max(s.date() for s in starts) <= tomorrow + timedelta(days=6)

    everyone = db.session.scalars(select(Appointment)).all()
    appointments = [a for a in everyone if a.status.value == "booked"]
    assert len(appointments) == 2 * len(DOCTORS)
    assert all(to_local(a.start_at).date() >= tomorrow for a in appointments)
    assert len({a.patient_id for a in appointments}) == len(appointments)
    assert len({a.doctor_id for a in appointments}) == len(DOCTORS)
    per_doctor = 2 + len(DEMO_HISTORY)
    # and the applicant waiting for approval has published her week too, nobody booked in it
    slots = ((30 + len(DEMO_HISTORY)) * len(DOCTORS) + 30, per_doctor * len(DOCTORS))
    assert counts(db) == slots
    applicant = db.session.scalar(select(DoctorProfile).where(DoctorProfile.approved_at.is_(None)))
    assert applicant.user.email == APPLICANT[1]
    theirs = select(func.count(AvailabilitySlot.id)).where(
        AvailabilitySlot.doctor_id == applicant.id
    )
    assert db.session.scalar(theirs) == 30

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert counts(db) == slots


def test_each_demo_doctor_has_seen_one_of_their_patients_before(runner, db):
    """The first patient booked with each doctor came three weeks ago (so the coming visit is
    not marked as a first one, and the doctor's notes of it are on the record); another missed
    a visit. The history sent no email."""
    from app.models import OutboxMessage

    assert runner.invoke(args=["seed-demo"]).exit_code == 0

    everyone = db.session.scalars(select(Appointment)).all()
    for doctor_id in {a.doctor_id for a in everyone}:
        mine = [a for a in everyone if a.doctor_id == doctor_id]
        booked = sorted((a for a in mine if a.status.value == "booked"), key=lambda a: a.start_at)
        [completed] = [a for a in mine if a.status.value == "completed"]
        [missed] = [a for a in mine if a.status.value == "no_show"]
        assert completed.patient_id == booked[0].patient_id
        assert completed.visit_notes and missed.patient_id != completed.patient_id
        assert completed.start_at < missed.start_at < booked[0].start_at
    emails = db.session.scalars(select(OutboxMessage.payload)).all()
    booked_emails = [p for p in emails if p.get("action") == "BOOKING_CONFIRMATION"]
    assert len(booked_emails) == 2 * 2 * len(DOCTORS)  # both sides of the coming bookings only


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
    others = len(DOCTORS) - 1
    history = len(DEMO_HISTORY)
    applicant = 30  # her week, unbooked
    assert counts(db) == (1 + (30 + history) * others + applicant, (2 + history) * others)
