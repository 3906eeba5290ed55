"""Clinic closures: a public holiday clears every doctor's open slots and keeps new ones out."""

import threading
from datetime import UTC, datetime, time, timedelta
from time import sleep

import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models import (
    Appointment,
    AuditEvent,
    AvailabilitySlot,
    ClinicClosure,
    DoctorProfile,
    User,
)
from app.services import DomainError, availability, closures
from app.timeutil import local_today
from tests.helpers import table_rows, text_of
from tests.integration.outbox_helpers import messages
from tests.integration.races import run_together

CLOSURES = "/admin/closures"


def day(offset: int):
    return local_today() + timedelta(days=offset)


def at(offset: int, hour: int) -> datetime:
    return datetime.combine(day(offset), time(hour), tzinfo=UTC)  # the suite's clinic is UTC


@pytest.fixture
def admin(client, make, login_as):
    admin = make.admin(full_name="Ada Admin")
    login_as(client, admin)
    return admin


def open_slots_on(db, offset: int) -> int:
    db.session.expire_all()
    held = select(Appointment.slot_id).where(Appointment.status != "cancelled")
    return db.session.scalar(
        select(func.count(AvailabilitySlot.id)).where(
            AvailabilitySlot.start_at >= at(offset, 0),
            AvailabilitySlot.start_at < at(offset + 1, 0),
            AvailabilitySlot.id.not_in(held.where(Appointment.slot_id.is_not(None))),
        )
    )


def test_closing_a_day_clears_every_doctors_open_slots_and_keeps_bookings(client, db, make, admin):
    doctors = [make.doctor() for _ in range(3)]
    for doctor in doctors:
        make.slot(doctor=doctor, start_at=at(10, 9))
        make.slot(doctor=doctor, start_at=at(11, 9))  # the next day stays
    booked = make.appointment(slot=make.slot(doctor=doctors[0], start_at=at(10, 11)))

    response = client.post(CLOSURES, data={"day": day(10).isoformat(), "reason": "Boxing Day"})

    assert response.status_code == 302
    assert (open_slots_on(db, 10), open_slots_on(db, 11)) == (0, 3)
    assert db.session.get(Appointment, booked.id).status == "booked"
    page = text_of(client.get(CLOSURES))
    assert f"The clinic is closed on {day(10):%A %d %B %Y}. Removed 3 open slots." in page
    assert "1 upcoming appointment stands as booked that day" in page
    rows = table_rows(page, "data-table", "closures")
    assert rows[1][:2] == [f"{day(10):%A %d %B %Y}", "Boxing Day"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "clinic.closed"))
    assert event.details == {
        "day": day(10).isoformat(),
        "removed": 3,
        "cancelled": 0,
        "kept_booked": 1,
    }
    cleared = select(func.count()).where(AuditEvent.kind == "slot.cleared")
    assert db.session.scalar(cleared) == 3  # one per doctor, as their own time off


def test_closing_can_cancel_the_days_bookings_too(client, db, make, admin):
    patient = make.patient(user__email="grace@example.com")
    booked = make.appointment(slot=make.slot(start_at=at(10, 11)), patient=patient)

    client.post(
        CLOSURES,
        data={"day": day(10).isoformat(), "reason": "Strike", "cancel_booked": "y"},
    )

    assert db.session.get(Appointment, booked.id).status == "cancelled"
    assert db.session.get(Appointment, booked.id).cancel_reason == "Strike"
    told = {(m.payload["action"], m.payload["to"]) for m in messages(db)}
    assert ("BOOKING_CANCELLED", "grace@example.com") in told
    assert {m.payload["data"].get("cancel_reason") for m in messages(db)} == {"Strike"}
    assert "and cancelled 1 booked appointment (both sides emailed)" in text_of(
        client.get(CLOSURES)
    )


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"day": "", "reason": "x"}, 400, "This field is required."),
        ({"day": "-1", "reason": "Too late"}, 400, "That day has already passed."),
        ({"day": "10", "reason": "  "}, 400, "Say why"),
        ({"day": "10", "reason": "Again"}, 409, "The clinic is already closed on"),
    ],
)
def test_refusals_answer_next_to_the_form(client, db, admin, data, status, message):
    _db.session.add(ClinicClosure(day=day(10), reason="Holiday"))
    _db.session.commit()
    if data["day"]:
        data = {**data, "day": day(int(data["day"])).isoformat()}

    response = client.post(CLOSURES, data=data)

    assert response.status_code == status
    assert message in text_of(response)
    assert db.session.scalar(select(func.count(ClinicClosure.id))) == 1


def test_doctors_cannot_publish_on_a_closed_day(client, db, make, login_as):
    _db.session.add(ClinicClosure(day=day(10), reason="New Year's Day"))
    _db.session.commit()
    doctor = make.doctor()
    login_as(client, doctor.user)

    page = text_of(client.get("/doctor/availability"))
    assert f"The clinic is closed on {day(10):%a %d %b %Y} (New Year&#39;s Day)" in page

    one = client.post(
        "/doctor/availability",
        data={"date": day(10).isoformat(), "start_time": "09:00", "end_time": "09:30"},
    )
    assert one.status_code == 400
    assert f"The clinic is closed on {day(10):%A %d %B %Y} (New Year&#39;s Day)." in text_of(one)

    weekly = client.post(
        "/doctor/availability/weekly",
        data={
            "start_date": day(9).isoformat(),
            "end_date": day(11).isoformat(),
            "weekdays": [str(d) for d in range(7)],
            "day_start": "09:00",
            "day_end": "10:00",
            "slot_minutes": "30",
        },
    )
    assert weekly.status_code == 302
    assert (open_slots_on(db, 9), open_slots_on(db, 10), open_slots_on(db, 11)) == (2, 0, 2)
    flashed = text_of(client.get("/doctor/availability"))
    assert "Created 4 slots, skipped 0" in flashed
    assert f"The clinic is closed on {day(10):%a %d %b}: nothing was published then." in flashed


def test_reopening_lets_doctors_publish_again(client, db, make, admin, login_as):
    closure = ClinicClosure(day=day(10), reason="Holiday")
    _db.session.add(closure)
    _db.session.commit()

    closure_id = closure.id
    response = client.post(f"{CLOSURES}/{closure_id}/reopen")

    assert response.status_code == 302
    assert db.session.scalar(select(func.count(ClinicClosure.id))) == 0
    kinds = db.session.scalars(select(AuditEvent.kind)).all()
    assert kinds == ["clinic.reopened"]
    doctor = make.doctor()
    availability.create_slot(doctor, day(10), time(9), time(9, 30), actor=doctor.user)
    assert client.post(f"{CLOSURES}/{closure_id}/reopen").status_code == 404


@pytest.mark.postgres
def test_a_slot_published_while_the_clinic_closes_is_refused(race_app, db, make, monkeypatch):
    """Closing locks every doctor, then clears their slots; slot creation locks its doctor, then
    looks for a closure. Doctors publishing while the closure holds their locks wait for it to
    commit and are then refused: no open slot is left on the closed day."""
    from app.repositories import scheduling

    doctors = [make.doctor() for _ in range(4)]
    admin_id = make.admin().id
    ids = [(d.id, d.user.id) for d in doctors]
    locked = threading.Event()
    lock_all = scheduling.lock_all_doctors

    def lock_all_then_linger():
        held = lock_all()
        locked.set()  # the doctors go now, while the closure holds their rows
        sleep(0.5)
        return held

    monkeypatch.setattr(scheduling, "lock_all_doctors", lock_all_then_linger)

    def attempt(i: int, barrier: threading.Barrier) -> str:
        with race_app.app_context():
            try:
                barrier.wait()
                if i == len(ids):
                    closures.close(day(10), "Storm", actor=_db.session.get(User, admin_id))
                    _db.session.commit()
                    return "closed"
                doctor_id, user_id = ids[i]
                doctor = _db.session.get(DoctorProfile, doctor_id)
                user = _db.session.get(User, user_id)
                locked.wait(timeout=10)
                try:
                    availability.create_slot(doctor, day(10), time(9), time(9, 30), actor=user)
                    _db.session.commit()
                    return "published"
                except DomainError:
                    _db.session.rollback()
                    return "refused"
            finally:
                _db.session.remove()

    results = run_together(len(ids) + 1, attempt)

    assert results == ["refused"] * len(ids) + ["closed"]
    assert open_slots_on(db, 10) == 0
