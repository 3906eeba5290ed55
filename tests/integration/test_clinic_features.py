"""Rescheduling, booking rules, reminders, waitlist and visit outcomes, at the service level."""

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models import (
    Appointment,
    AppointmentChange,
    AppointmentStatus,
    DoctorProfile,
    OutboxMessage,
    OutboxStatus,
    PatientProfile,
    WaitlistEntry,
)
from app.services import Conflict, DomainError, NotFound, booking, reminders, visits, waitlist
from app.services.reschedule import reschedule
from app.timeutil import to_local, utcnow

HOUR = timedelta(hours=1)


def emails(db, action):
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    return [m for m in rows if m.payload.get("action") == action]


@pytest.fixture
def clinic(make):
    """A doctor with three future slots and a patient."""
    doctor = make.doctor()
    start = (utcnow() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    slots = [make.slot(doctor=doctor, start_at=start + i * HOUR) for i in range(3)]
    return doctor, slots, make.patient()


# --- booking rules at their boundaries -------------------------------------------------------


def test_min_notice_boundary(app, db, make):
    doctor, patient = make.doctor(), make.patient()
    now = utcnow().replace(microsecond=0)
    notice = timedelta(minutes=app.config["BOOKING_MIN_NOTICE_MINUTES"])
    just_inside = make.slot(doctor=doctor, start_at=now + notice - timedelta(minutes=1))
    at_limit = make.slot(doctor=doctor, start_at=now + notice + timedelta(hours=1))
    at_limit.start_at = now + notice
    db.session.commit()

    with pytest.raises(booking.SlotUnavailable, match="notice"):
        booking.book(patient, just_inside.id, actor=patient.user, now=now)
    db.session.rollback()
    booking.book(patient, at_limit.id, actor=patient.user, now=now)


def test_horizon_boundary(app, db, make):
    doctor, patient = make.doctor(), make.patient()
    now = utcnow().replace(microsecond=0)
    horizon = timedelta(days=app.config["BOOKING_MAX_DAYS_AHEAD"])
    beyond = make.slot(doctor=doctor, start_at=now + horizon + timedelta(minutes=1))
    last = make.slot(doctor=doctor, start_at=now + horizon)

    with pytest.raises(booking.SlotUnavailable, match="days ahead"):
        booking.book(patient, beyond.id, actor=patient.user, now=now)
    db.session.rollback()
    booking.book(patient, last.id, actor=patient.user, now=now)


def test_patient_cutoff_boundary_and_staff_override(app, db, make):
    appointment = make.appointment()
    patient_user = _db.session.get(PatientProfile, appointment.patient_id).user
    doctor_user = _db.session.get(DoctorProfile, appointment.doctor_id).user
    cutoff = timedelta(hours=app.config["PATIENT_CANCEL_CUTOFF_HOURS"])
    inside = appointment.start_at - cutoff + timedelta(minutes=1)
    outside = appointment.start_at - cutoff

    with pytest.raises(booking.CancelRefused, match="front desk"):
        booking.cancel(appointment.id, actor=patient_user, now=inside)
    db.session.rollback()
    booking.cancel(appointment.id, actor=doctor_user, now=inside)
    db.session.rollback()
    booking.cancel(appointment.id, actor=patient_user, now=outside)


# --- reschedule --------------------------------------------------------------------------------


def test_reschedule_moves_keeps_history_and_queues_emails(db, clinic):
    doctor, slots, patient = clinic
    appointment = booking.book(patient, slots[0].id, actor=patient.user)
    db.session.commit()

    reschedule(appointment.id, slots[2].id, actor=patient.user)
    db.session.commit()

    moved = db.session.get(Appointment, appointment.id)
    assert (moved.slot_id, moved.start_at, moved.status) == (
        slots[2].id,
        slots[2].start_at,
        AppointmentStatus.BOOKED,
    )
    change = db.session.scalar(select(AppointmentChange))
    assert (change.from_slot_id, change.to_slot_id) == (slots[0].id, slots[2].id)
    assert change.from_start_at == slots[0].start_at
    sent = emails(db, "BOOKING_RESCHEDULED")
    assert sorted(m.payload["data"]["recipient_role"] for m in sent) == ["doctor", "patient"]


def test_rescheduling_frees_the_old_slot_for_others(db, make, clinic):
    doctor, slots, patient = clinic
    appointment = booking.book(patient, slots[0].id, actor=patient.user)
    db.session.commit()
    reschedule(appointment.id, slots[1].id, actor=patient.user)
    db.session.commit()
    other = make.patient()
    assert booking.book(other, slots[0].id, actor=other.user).slot_id == slots[0].id


def test_reschedule_to_a_taken_slot_is_refused(db, make, clinic):
    doctor, slots, patient = clinic
    mine = booking.book(patient, slots[0].id, actor=patient.user)
    someone = make.patient()
    booking.book(someone, slots[1].id, actor=someone.user)
    db.session.commit()

    with pytest.raises(booking.SlotTaken):
        reschedule(mine.id, slots[1].id, actor=patient.user)


def test_reschedule_to_another_doctors_slot_is_refused(db, make, clinic):
    doctor, slots, patient = clinic
    mine = booking.book(patient, slots[0].id, actor=patient.user)
    db.session.commit()
    elsewhere = make.slot()
    with pytest.raises(booking.SlotUnavailable):
        reschedule(mine.id, elsewhere.id, actor=patient.user)


def test_doctor_and_strangers_cannot_reschedule(db, make, clinic):
    doctor, slots, patient = clinic
    mine = booking.book(patient, slots[0].id, actor=patient.user)
    db.session.commit()
    for actor in (doctor.user, make.patient().user):
        with pytest.raises(NotFound):
            reschedule(mine.id, slots[1].id, actor=actor)
        db.session.rollback()
    reschedule(mine.id, slots[1].id, actor=make.admin())


@pytest.mark.postgres
def test_two_patients_swapping_slots_concurrently_never_deadlock(app, make):
    """Each wants the other's slot: both hold theirs, so both must fail cleanly, every time."""
    doctor = make.doctor()
    start = (utcnow() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    a_slot, b_slot = (
        make.slot(doctor=doctor, start_at=start),
        make.slot(doctor=doctor, start_at=start + HOUR),
    )
    alice, bob = make.patient(), make.patient()
    a = booking.book(alice, a_slot.id, actor=alice.user)
    b = booking.book(bob, b_slot.id, actor=bob.user)
    _db.session.commit()
    jobs = [(a.id, b_slot.id, alice.user_id), (b.id, a_slot.id, bob.user_id)]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def move(appointment_id, slot_id, user_id):
        with app.app_context():
            from app.models import User

            user = _db.session.get(User, user_id)
            barrier.wait()
            try:
                reschedule(appointment_id, slot_id, actor=user)
                _db.session.commit()
                outcomes.append("moved")
            except Conflict as error:
                _db.session.rollback()
                outcomes.append(type(error).__name__)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=move, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert outcomes == ["SlotTaken", "SlotTaken"]
    _db.session.expire_all()
    assert _db.session.get(Appointment, a.id).slot_id == a_slot.id
    assert _db.session.get(Appointment, b.id).slot_id == b_slot.id


# --- reminders ---------------------------------------------------------------------------------


def test_reminders_once_none_for_cancelled_and_again_when_moved(app, db, make):
    doctor, patient = make.doctor(), make.patient()
    now = utcnow()
    soon = make.slot(doctor=doctor, start_at=now + timedelta(hours=5))
    later = make.slot(doctor=doctor, start_at=now + timedelta(hours=30))
    cancelled_slot = make.slot(doctor=doctor, start_at=now + timedelta(hours=6))
    appointment = make.appointment(slot=soon, patient=patient)
    cancelled = make.appointment(slot=cancelled_slot, status=AppointmentStatus.CANCELLED)
    make.appointment(slot=later)  # beyond 24 h: not yet

    assert reminders.queue_due(now) == 1
    db.session.commit()
    assert reminders.queue_due(now) == 0  # exactly once
    sent = emails(db, "APPOINTMENT_REMINDER")
    assert {m.payload["data"]["appointment_id"] for m in sent} == {appointment.id}
    assert cancelled.id not in {m.payload["data"]["appointment_id"] for m in sent}

    first = {m.payload["data"]["start_display"] for m in sent}

    # moved to a new time within the window: the old unsent reminder is withdrawn, a new one due
    new_slot = make.slot(doctor=doctor, start_at=now + timedelta(hours=8))
    reschedule(appointment.id, new_slot.id, actor=patient.user, now=now)
    db.session.commit()
    assert emails(db, "APPOINTMENT_REMINDER") == []
    assert reminders.queue_due(now) == 1
    db.session.commit()
    fresh = emails(db, "APPOINTMENT_REMINDER")
    assert [m.status for m in fresh] == [OutboxStatus.PENDING] * 2  # patient and doctor
    assert {m.payload["data"]["start_display"] for m in fresh} != first


def test_an_unsent_reminder_is_queued_again_when_the_visit_moves_back_to_its_time(db, make):
    """The email service was down when the reminder was queued: the patient moves the visit,
    then back. The reminder for the original time was never sent, so it goes now."""
    doctor, patient = make.doctor(), make.patient()
    now = utcnow()
    first, other = (make.slot(doctor=doctor, start_at=now + timedelta(hours=h)) for h in (5, 7))
    appointment = make.appointment(slot=first, patient=patient)
    assert reminders.queue_due(now) == 1
    db.session.commit()

    reschedule(appointment.id, other.id, actor=patient.user, now=now)
    db.session.commit()
    reschedule(appointment.id, first.id, actor=patient.user, now=now)
    db.session.commit()

    assert reminders.queue_due(now) == 1
    db.session.commit()
    reminded = emails(db, "APPOINTMENT_REMINDER")
    [to_patient] = [m for m in reminded if m.payload["to"] == patient.user.email]
    assert to_patient.status == OutboxStatus.PENDING
    assert to_patient.payload["data"]["start_display"].startswith(
        to_local(first.start_at).strftime("%A %d %B %Y, %H:%M")
    )


def test_cancelling_withdraws_an_unsent_reminder(db, make):
    appointment = make.appointment(slot=make.slot(start_at=utcnow() + timedelta(hours=5)))
    reminders.queue_due()
    db.session.commit()
    booking.cancel(appointment.id, actor=make.admin())
    db.session.commit()
    assert emails(db, "APPOINTMENT_REMINDER") == []


@pytest.mark.postgres
def test_reminders_are_queued_once_across_concurrent_workers(app, make):
    now = utcnow()
    for i in range(40):
        make.appointment(slot=make.slot(start_at=now + timedelta(hours=2, minutes=i)))
    counts: list[int] = []
    barrier = threading.Barrier(4)

    def worker():
        with app.app_context():
            barrier.wait()
            counts.append(reminders.queue_due(now, limit=15))
            _db.session.commit()
            while (n := reminders.queue_due(now, limit=15)) > 0:
                counts.append(n)
                _db.session.commit()
            _db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(counts) == 40
    with app.app_context():
        keys = _db.session.scalars(select(OutboxMessage.idempotency_key)).all()
        assert len(keys) == 80 == len(set(keys))
        _db.session.remove()


# --- waitlist ----------------------------------------------------------------------------------


def test_waitlist_join_leave_and_duplicates(db, make):
    doctor, patient = make.doctor(), make.patient()
    day = date.today() + timedelta(days=3)
    [entry] = waitlist.join(patient, doctor.id, day, actor=patient.user)
    db.session.commit()
    with pytest.raises(Conflict):
        waitlist.join(patient, doctor.id, day, actor=patient.user)
    db.session.rollback()
    with pytest.raises(DomainError):
        waitlist.join(patient, doctor.id, date.today() - timedelta(days=1), actor=patient.user)
    db.session.rollback()
    with pytest.raises(NotFound):
        waitlist.leave(make.patient(), entry.id, actor=patient.user)
    db.session.rollback()
    waitlist.leave(patient, entry.id, actor=patient.user)
    db.session.commit()
    assert db.session.scalar(select(func.count(WaitlistEntry.id))) == 0


def test_waitlisted_patients_hear_of_a_freed_slot_earliest_first(db, make, clinic):
    doctor, slots, holder = clinic
    appointment = booking.book(holder, slots[1].id, actor=holder.user)
    day = to_local(slots[1].start_at).date()
    first, second = make.patient(), make.patient()
    now = utcnow()
    waitlist.join(first, doctor.id, day, actor=first.user, now=now - timedelta(minutes=5))
    waitlist.join(second, doctor.id, day, actor=second.user, now=now)
    waitlist.join(make.patient(), doctor.id, day + timedelta(days=1), actor=holder.user)
    db.session.commit()
    assert emails(db, "WAITLIST_SLOT_OPEN") == []  # nothing freed yet: no notice

    booking.cancel(appointment.id, actor=holder.user)
    db.session.commit()

    notices = emails(db, "WAITLIST_SLOT_OPEN")
    assert [m.payload["to"] for m in notices] == [first.user.email, second.user.email]
    assert notices[0].payload["data"]["slot_url"].endswith(f"/booking/slots/{slots[1].id}")


# --- visit outcomes ----------------------------------------------------------------------------


def test_outcome_only_after_start_and_only_by_its_doctor(db, make):
    appointment = make.appointment()
    doctor_user = _db.session.get(DoctorProfile, appointment.doctor_id).user
    before = appointment.start_at - timedelta(minutes=1)
    after = appointment.start_at + timedelta(minutes=1)

    with pytest.raises(Conflict, match="started"):
        visits.record_outcome(appointment.id, "completed", actor=doctor_user, now=before)
    db.session.rollback()
    for stranger in (make.doctor().user, make.admin(), make.patient().user):
        with pytest.raises(NotFound):
            visits.record_outcome(appointment.id, "completed", actor=stranger, now=after)
        db.session.rollback()
    with pytest.raises(DomainError):
        visits.record_outcome(appointment.id, "vanished", actor=doctor_user, now=after)
    db.session.rollback()
    visits.record_outcome(appointment.id, "no_show", actor=doctor_user, now=after)
    db.session.commit()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.NO_SHOW


def test_reminders_cli_and_worker_schedule(runner, db, make):
    appointment = make.appointment(slot=make.slot(start_at=utcnow() + timedelta(hours=3)))
    result = runner.invoke(args=["reminders", "send"])
    assert "Queued reminders for 1 appointments" in result.output
    assert runner.invoke(args=["reminders", "send"]).output.startswith("Queued reminders for 0")
    later = make.appointment(slot=make.slot(start_at=utcnow() + timedelta(hours=4)))
    runner.invoke(args=["outbox", "run", "--once"])  # the worker scans before delivering
    ids = {m.payload["data"]["appointment_id"] for m in emails(db, "APPOINTMENT_REMINDER")}
    assert ids == {appointment.id, later.id}
