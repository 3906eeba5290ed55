"""Time off: a doctor removes the open slots of a run of days in one step; bookings stay."""

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models import (
    Appointment,
    AuditEvent,
    AvailabilitySlot,
    DoctorProfile,
    PatientProfile,
    User,
    WaitlistEntry,
)
from app.services import DomainError, availability, booking
from app.services.reschedule import reschedule
from app.timeutil import local_today
from tests.helpers import text_of
from tests.integration.outbox_helpers import messages
from tests.integration.races import run_together

CLEAR = "/doctor/availability/clear"


@pytest.fixture
def doctor(make, client, login_as):
    doctor = make.doctor(user__full_name="Dr. Ada Lovelace")
    login_as(client, doctor.user)
    return doctor


def at(days: int, hour: int, minute: int = 0) -> datetime:
    day = local_today() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)  # the suite's clinic is UTC


def iso(days: int) -> str:
    return (local_today() + timedelta(days=days)).isoformat()


def slot_starts(db, doctor) -> list[datetime]:
    db.session.expire_all()
    query = select(AvailabilitySlot.start_at).where(AvailabilitySlot.doctor_id == doctor.id)
    return sorted(db.session.scalars(query))


def test_open_slots_on_those_days_go_and_bookings_stay(client, db, doctor, make):
    before = make.slot(doctor=doctor, start_at=at(2, 16))
    opened = [make.slot(doctor=doctor, start_at=at(d, 9)).id for d in (3, 4, 5)]
    opened.append(make.slot(doctor=doctor, start_at=at(5, 23, 30)).id)  # the last day counts whole
    booked = make.appointment(slot=make.slot(doctor=doctor, start_at=at(4, 11)), doctor=doctor)
    after = make.slot(doctor=doctor, start_at=at(6, 0))
    someone_elses = make.slot(start_at=at(4, 9))

    response = client.post(CLEAR, data={"first_day": iso(3), "last_day": iso(5)})

    assert response.status_code == 302
    assert response.headers["Location"] == "/doctor/availability"
    assert slot_starts(db, doctor) == [before.start_at, booked.start_at, after.start_at]
    assert db.session.get(AvailabilitySlot, someone_elses.id) is not None
    assert db.session.get(Appointment, booked.id).status == "booked"
    page = text_of(client.get("/doctor/availability"))
    assert "Removed 4 open slots." in page
    assert "The booked appointment on those days still stands: cancel any" in page
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "slot.cleared"))
    assert event.target_id == doctor.id
    assert event.details == {
        "removed": 4,
        "kept_booked": 1,
        "cancelled": 0,
        "first_day": iso(3),
        "last_day": iso(5),
    }
    assert [db.session.get(AvailabilitySlot, slot_id) for slot_id in opened] == [None] * 4


def test_today_keeps_what_has_started(client, db, doctor, make):
    started, later, today = at(3, 10), at(3, 11), iso(3)
    make.slot(doctor=doctor, start_at=started)
    make.slot(doctor=doctor, start_at=later)

    with time_machine.travel(at(3, 10, 15), tick=False):
        response = client.post(CLEAR, data={"first_day": today, "last_day": today})

    assert response.status_code == 302
    assert slot_starts(db, doctor) == [started]


def test_a_freed_slot_goes_and_its_history_stays(client, db, doctor, make):
    cancelled = make.appointment(
        slot=make.slot(doctor=doctor, start_at=at(3, 9)), doctor=doctor, status="cancelled"
    )

    client.post(CLEAR, data={"first_day": iso(3), "last_day": iso(3)})

    assert slot_starts(db, doctor) == []
    assert db.session.get(Appointment, cancelled.id).slot_id is None


def test_nothing_to_remove_says_so_and_records_nothing(client, db, doctor, make):
    make.appointment(slot=make.slot(doctor=doctor, start_at=at(3, 9)), doctor=doctor)
    make.appointment(slot=make.slot(doctor=doctor, start_at=at(3, 10)), doctor=doctor)

    response = client.post(CLEAR, data={"first_day": iso(3), "last_day": iso(3)})

    assert response.status_code == 302
    page = text_of(client.get("/doctor/availability"))
    assert "There were no open slots to remove on those days." in page
    assert "The 2 booked appointments on those days still stand" in page
    assert len(slot_starts(db, doctor)) == 2
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0


@pytest.mark.parametrize(
    ("first", "last", "field", "message"),
    [
        ("", "", "first_day", "This field is required."),
        (3, "", "last_day", "This field is required."),
        (3, "not a date", "last_day", "Use the format YYYY-MM-DD."),
        (5, 3, "last_day", "The last day must not be before the first."),
        (-3, -1, "last_day", "Those days have already passed."),
        (3, 400, "last_day", "Slots can be published up to 366 days ahead."),
    ],
)
def test_bad_days_are_400_next_to_the_field(client, db, doctor, make, first, last, field, message):
    slot = make.slot(doctor=doctor, start_at=at(4, 9))
    data = {
        "first_day": iso(first) if isinstance(first, int) else first,
        "last_day": iso(last) if isinstance(last, int) else last,
    }

    response = client.post(CLEAR, data=data)

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message in text_of(response)
    assert db.session.get(AvailabilitySlot, slot.id) is not None


def test_the_page_offers_it_with_its_own_field_names(client, db, doctor):
    html = client.get("/doctor/availability").get_data(as_text=True)

    assert f'action="{CLEAR}"' in html
    assert 'name="first_day"' in html and 'name="last_day"' in html
    assert html.count('id="start_date"') == 1  # the weekly form's, not repeated
    assert "data-confirm=" in html.split(f'action="{CLEAR}"')[1].split(">")[0]


def test_a_sick_day_cancels_the_booked_appointments_too_when_asked(client, db, doctor, make):
    grace = make.patient(user__email="grace@example.com")
    alan = make.patient(user__email="alan@example.com")
    cancelled = [
        make.appointment(slot=make.slot(doctor=doctor, start_at=at(3, h)), patient=p)
        for h, p in ((9, grace), (10, alan))
    ]
    elsewhere = make.appointment(slot=make.slot(doctor=doctor, start_at=at(4, 9)), patient=grace)
    make.slot(doctor=doctor, start_at=at(3, 11))
    db.session.add(WaitlistEntry(patient=make.patient(), doctor=doctor, day=at(3, 0).date()))
    db.session.commit()

    response = client.post(
        CLEAR,
        data={
            "first_day": iso(3),
            "last_day": iso(3),
            "cancel_booked": "y",
            "reason": "  Unwell,\n sorry ",
        },
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert [db.session.get(Appointment, a.id).status for a in cancelled] == ["cancelled"] * 2
    assert {db.session.get(Appointment, a.id).cancel_reason for a in cancelled} == {"Unwell, sorry"}
    reasons = {m.payload["data"].get("cancel_reason") for m in messages(db)}
    assert reasons == {"Unwell, sorry"}
    assert db.session.get(Appointment, elsewhere.id).status == "booked"
    assert slot_starts(db, doctor) == [at(4, 9)]
    told = {(m.payload["action"], m.payload["to"]) for m in messages(db)}
    assert {
        ("BOOKING_CANCELLED", "grace@example.com"),
        ("BOOKING_CANCELLED", "alan@example.com"),
    } <= told
    assert not any(action == "WAITLIST_SLOT_OPEN" for action, _ in told)  # the slots are gone
    page = text_of(client.get("/doctor/availability"))
    assert "Removed 3 open slots. Cancelled 2 booked appointments first" in page
    kinds = db.session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)).all()
    assert kinds == ["appointment.cancelled", "appointment.cancelled", "slot.cleared"]


def test_a_started_appointment_is_not_cancelled_by_time_off_today(client, db, doctor, make):
    started = make.appointment(slot=make.slot(doctor=doctor, start_at=at(3, 10)))
    with time_machine.travel(at(3, 10, 15), tick=False):
        response = client.post(
            CLEAR, data={"first_day": iso(3), "last_day": iso(3), "cancel_booked": "y"}
        )

    assert response.status_code == 302
    assert db.session.get(Appointment, started.id).status == "booked"


@pytest.mark.postgres
def test_time_off_and_patients_moving_out_of_it_at_once_never_deadlock(race_app, db, make):
    """A reschedule locks its appointment, then the slots; time off locks the appointments,
    then the slots. Locked the other way round, a patient moving out of the day off and the
    doctor clearing it would each hold what the other waits for."""
    doctor = make.doctor()
    doctor_id = doctor.id
    moves = []
    for n in range(6):
        patient = make.patient()
        appointment = make.appointment(
            slot=make.slot(doctor=doctor, start_at=at(3, 9 + n)), patient=patient
        )
        target = make.slot(doctor=doctor, start_at=at(5, 9 + n))  # out of the day off
        moves.append((appointment.id, patient.user.id, target.id))
    day = local_today() + timedelta(days=3)

    def attempt(i: int, barrier: threading.Barrier) -> str:
        with race_app.app_context():
            try:
                if i == len(moves):
                    me = _db.session.get(DoctorProfile, doctor_id)
                    user = me.user
                    barrier.wait()
                    result = availability.clear_open_slots(
                        me, first_day=day, last_day=day, actor=user, cancel_booked=True
                    )
                    _db.session.commit()
                    return f"cancelled {result.cancelled}"
                appointment_id, user_id, slot_id = moves[i]
                user = _db.session.get(User, user_id)
                barrier.wait()
                try:
                    reschedule(appointment_id, slot_id, actor=user)
                    _db.session.commit()
                    return "moved"
                except DomainError:
                    _db.session.rollback()
                    return "refused"
            finally:
                _db.session.remove()

    results = run_together(len(moves) + 1, attempt)

    db.session.expire_all()
    statuses = [db.session.get(Appointment, a).status for a, _, _ in moves]
    moved = results[:-1].count("moved")
    assert results[-1] == f"cancelled {len(moves) - moved}", results
    assert statuses.count("booked") == moved and statuses.count("cancelled") == len(moves) - moved
    assert [r for r in results[:-1] if r not in ("moved", "refused")] == []
    booked = [db.session.get(Appointment, a) for a, _, _ in moves]
    assert all(a.start_at >= at(5, 0) for a in booked if a.status == "booked")


@pytest.mark.postgres
def test_a_booking_racing_time_off_is_either_kept_or_refused(race_app, db, make):
    """The slots are locked before they are looked at: a booking that got there first stays
    (its slot with it), one that comes second finds the slot gone. Never a booking of a deleted
    slot."""
    doctor = make.doctor()
    doctor_id = doctor.id
    patient_ids = [make.patient().id for _ in range(6)]
    slot_ids = [make.slot(doctor=doctor, start_at=at(3, 9 + n)).id for n in range(6)]
    day = local_today() + timedelta(days=3)

    def attempt(i: int, barrier: threading.Barrier) -> str:
        with race_app.app_context():
            try:
                if i == len(slot_ids):
                    me = _db.session.get(DoctorProfile, doctor_id)
                    user = me.user
                    barrier.wait()
                    result = availability.clear_open_slots(
                        me, first_day=day, last_day=day, actor=user
                    )
                    _db.session.commit()
                    return f"cleared {result.removed}, kept {result.kept_booked}"
                patient = _db.session.get(PatientProfile, patient_ids[i])
                user = patient.user
                barrier.wait()
                try:
                    booking.book(patient, slot_ids[i], actor=user)
                    _db.session.commit()
                    return "booked"
                except DomainError:
                    _db.session.rollback()
                    return "refused"
            finally:
                _db.session.remove()

    results = run_together(len(slot_ids) + 1, attempt)

    booked = results[:-1].count("booked")
    assert results[-1] == f"cleared {len(slot_ids) - booked}, kept {booked}", results
    db.session.expire_all()
    remaining = db.session.scalars(
        select(AvailabilitySlot.id).where(AvailabilitySlot.doctor_id == doctor_id)
    ).all()
    appointments = db.session.scalars(select(Appointment)).all()
    assert len(remaining) == len(appointments) == booked
    assert all(a.slot_id in remaining and a.status == "booked" for a in appointments)
