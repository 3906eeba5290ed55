"""BOOKING_MAX_UPCOMING: how many appointments ahead a patient may hold when booking online."""

from collections import Counter

import pytest
from sqlalchemy import func, select

from app.models import Appointment, DoctorProfile, OutboxMessage, WaitlistEntry
from app.services import waitlist
from tests.helpers import days_from_now, text_of
from tests.integration.races import booking_attempt, run_together

LIMIT = 2
REFUSAL = (
    "You already have 2 appointments booked ahead, and online booking allows 2 at a time. "
    "Please cancel one you no longer need, or call the front desk on +1 555 0100."
)


@pytest.fixture(autouse=True)
def limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "BOOKING_MAX_UPCOMING", LIMIT)


@pytest.fixture
def patient(make):
    return make.patient(user__full_name="Grace Hopper")


@pytest.fixture
def slot(make):
    return make.slot(doctor=make.doctor(), start_at=days_from_now(10))


def ahead(make, patient, *days: float, status: str = "booked") -> list[Appointment]:
    return [
        make.appointment(
            slot=make.slot(start_at=days_from_now(day)), patient=patient, status=status
        )
        for day in days
    ]


def booked(db, patient) -> int:
    db.session.expire_all()
    query = select(func.count(Appointment.id)).where(
        Appointment.patient_id == patient.id, Appointment.status == "booked"
    )
    return db.session.scalar(query)


def test_a_patient_at_the_limit_is_told_before_confirming_and_refused(
    client, db, make, login_as, patient, slot
):
    ahead(make, patient, 3, 5)
    login_as(client, patient.user)

    confirm = client.get(f"/booking/slots/{slot.id}")
    assert confirm.status_code == 409
    assert REFUSAL in text_of(confirm)
    assert "Confirm booking" not in text_of(confirm)
    # no other time would help: the page points to their appointments, not to other times
    assert "no other open slots" not in text_of(confirm)
    assert 'href="/patient/appointments">My appointments</a>' in text_of(confirm)

    response = client.post(f"/booking/slots/{slot.id}", data={"notes": "Please"})
    assert response.status_code == 409
    assert REFUSAL in text_of(response)
    assert booked(db, patient) == 2


def test_only_booked_appointments_still_ahead_count(client, db, make, login_as, patient, slot):
    ahead(make, patient, 4)
    ahead(make, patient, 6, status="cancelled")
    ahead(make, patient, -3, status="completed")
    ahead(make, patient, -2, status="no_show")
    ahead(make, patient, -1)  # booked, but over: nobody marked it yet
    login_as(client, patient.user)

    assert client.get(f"/booking/slots/{slot.id}").status_code == 200
    assert client.post(f"/booking/slots/{slot.id}").status_code == 302

    last = make.slot(start_at=days_from_now(12))
    refused = client.post(f"/booking/slots/{last.id}")
    assert refused.status_code == 409
    assert REFUSAL in text_of(refused)


def test_cancelling_one_makes_room_for_another(client, db, make, login_as, patient, slot):
    first, _ = ahead(make, patient, 3, 5)
    login_as(client, patient.user)
    assert client.post(f"/booking/slots/{slot.id}").status_code == 409

    assert client.post(f"/booking/appointments/{first.id}/cancel").status_code == 302

    assert client.post(f"/booking/slots/{slot.id}").status_code == 302
    assert booked(db, patient) == 2


def test_moving_an_appointment_is_not_a_new_one(client, db, make, login_as, patient, slot):
    first, _ = ahead(make, patient, 3, 5)
    later = make.slot(
        doctor=db.session.get(DoctorProfile, first.doctor_id), start_at=days_from_now(8)
    )
    login_as(client, patient.user)

    response = client.post(
        f"/booking/appointments/{first.id}/reschedule", data={"slot_id": str(later.id)}
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Appointment, first.id).slot_id == later.id
    assert booked(db, patient) == 2


def test_the_singular_and_a_limit_already_passed_read_right(
    app, client, db, make, login_as, patient, slot, monkeypatch
):
    ahead(make, patient, 3)
    login_as(client, patient.user)
    monkeypatch.setitem(app.config, "BOOKING_MAX_UPCOMING", 1)
    one = client.post(f"/booking/slots/{slot.id}")
    assert "You already have 1 appointment booked ahead, and online booking allows 1 at" in (
        text_of(one)
    )

    ahead(make, patient, 5, 7)  # the desk booked these
    over = text_of(client.get(f"/booking/slots/{slot.id}"))
    assert "You already have 3 appointments booked ahead, and online booking allows 1 at" in over


def test_no_limit_by_default_or_at_zero(
    app, client, db, make, login_as, patient, slot, monkeypatch
):
    ahead(make, patient, 3, 5, 7)
    login_as(client, patient.user)

    monkeypatch.setitem(app.config, "BOOKING_MAX_UPCOMING", 0)
    assert client.post(f"/booking/slots/{slot.id}").status_code == 302

    monkeypatch.delitem(app.config, "BOOKING_MAX_UPCOMING")
    from config import Config

    assert Config.BOOKING_MAX_UPCOMING == 0


def test_the_front_desk_and_the_doctor_book_past_it(client, db, make, login_as, patient, slot):
    ahead(make, patient, 3, 5)
    login_as(client, make.admin())

    by_desk = client.post(
        f"/admin/users/{patient.user.id}/book?doctor={slot.doctor_id}",
        data={"slot_id": str(slot.id), "notes": "Called: needs both."},
    )
    assert by_desk.status_code == 302

    doctor = db.session.get(DoctorProfile, slot.doctor_id)
    follow_up = make.slot(doctor=doctor, start_at=days_from_now(20))
    login_as(client, doctor.user)
    by_doctor = client.post(f"/doctor/patients/{patient.id}/book", data={"slot_id": follow_up.id})
    assert by_doctor.status_code == 302
    assert booked(db, patient) == 4


@pytest.mark.postgres
def test_two_tabs_booking_the_last_place_at_once_get_one(race_app, db, make):
    """The count is read after the patient's lock, in a statement of its own: read in the lock's
    statement, it would miss the booking that the lock waited for, and both tabs would book."""
    race_app.config["BOOKING_MAX_UPCOMING"] = LIMIT
    patient = make.patient()
    ahead(make, patient, 30)  # one place left
    rounds = [
        (
            make.slot(start_at=days_from_now(n + 1)).id,
            make.slot(start_at=days_from_now(n + 1, 14)).id,
        )
        for n in range(10)
    ]
    patient_id = patient.id
    outcomes = Counter()

    for slot_ids in rounds:
        outcomes.update(run_together(2, booking_attempt(race_app, patient_id, slot_ids)))
        db.session.expire_all()
        booked_now = db.session.scalars(
            select(Appointment).where(
                Appointment.slot_id.in_(slot_ids), Appointment.status == "booked"
            )
        ).all()
        assert len(booked_now) == 1, "both tabs booked past the limit"
        (winner,) = booked_now
        winner.status = "cancelled"  # the place is free again for the next round
        db.session.commit()

    assert outcomes == {"booked": len(rounds), REFUSAL: len(rounds)}


def test_a_patient_at_the_limit_is_told_of_waitlist_places_once_they_make_room(
    client, db, make, login_as, patient
):
    doctor = make.doctor()
    day = days_from_now(6).date()
    db.session.add(WaitlistEntry(patient_id=patient.id, doctor_id=doctor.id, day=day))
    first, _ = ahead(make, patient, 3, 5)
    db.session.commit()

    assert waitlist.slot_freed(make.slot(doctor=doctor, start_at=days_from_now(6, hour=10))) == 0
    login_as(client, patient.user)
    later = days_from_now(8).date().isoformat()
    refused = client.post(f"/patient/doctors/{doctor.id}/waitlist", data={"date": later})
    assert refused.status_code == 409
    assert REFUSAL in text_of(refused)

    assert client.post(f"/booking/appointments/{first.id}/cancel").status_code == 302
    db.session.expire_all()
    assert waitlist.slot_freed(make.slot(doctor=doctor, start_at=days_from_now(6, hour=11))) == 1
    assert (
        client.post(f"/patient/doctors/{doctor.id}/waitlist", data={"date": later}).status_code
        == 302
    )
    sent = db.session.scalars(select(OutboxMessage.payload)).all()
    assert [p["to"] for p in sent if p["action"] == "WAITLIST_SLOT_OPEN"] == [patient.user.email]
