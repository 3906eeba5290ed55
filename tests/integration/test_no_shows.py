"""A patient who keeps missing appointments books through the front desk for a while."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.models import Appointment, OutboxMessage, WaitlistEntry
from app.services import waitlist
from tests.helpers import days_from_now, text_of

REFUSAL = (
    "You have missed 3 appointments in the last 180 days, so new bookings are made by the "
    "front desk: please call +1 555 0100."
)


def days_ago(days: int) -> datetime:
    return (datetime.now(UTC) - timedelta(days=days)).replace(second=0, microsecond=0)


@pytest.fixture
def patient(make):
    return make.patient(user__full_name="Grace Hopper")


@pytest.fixture
def slot(make):
    return make.slot(doctor=make.doctor())


def missed(make, patient, *ages: int) -> None:
    for age in ages:
        make.appointment(slot=make.slot(start_at=days_ago(age)), patient=patient, status="no_show")


def booked(db, patient) -> int:
    query = select(func.count(Appointment.id)).where(
        Appointment.patient_id == patient.id, Appointment.status == "booked"
    )
    return db.session.scalar(query)


def test_three_no_shows_in_the_window_send_the_patient_to_the_desk(
    client, db, make, login_as, patient, slot
):
    missed(make, patient, 5, 40, 170)
    make.appointment(slot=make.slot(start_at=days_ago(20)), patient=patient, status="completed")
    login_as(client, patient.user)

    confirm = client.get(f"/booking/slots/{slot.id}")
    assert confirm.status_code == 409
    assert REFUSAL in text_of(confirm)
    # no other time would help: the page points to their appointments, not to other times
    assert "no other open slots" not in text_of(confirm)
    assert 'href="/patient/appointments">My appointments</a>' in text_of(confirm)

    response = client.post(f"/booking/slots/{slot.id}", data={"notes": "Please"})
    assert response.status_code == 409
    assert REFUSAL in text_of(response)
    assert booked(db, patient) == 0


@pytest.mark.parametrize("ages", [(5, 40), (5, 40, 181)], ids=["two", "third-out-of-window"])
def test_fewer_no_shows_in_the_window_still_book_online(
    client, db, make, login_as, patient, slot, ages
):
    missed(make, patient, *ages)
    login_as(client, patient.user)

    assert client.get(f"/booking/slots/{slot.id}").status_code == 200
    assert client.post(f"/booking/slots/{slot.id}").status_code == 302
    assert booked(db, patient) == 1


def test_the_rule_follows_the_settings(app, client, db, make, login_as, patient, slot, monkeypatch):
    missed(make, patient, 5, 40, 100)
    login_as(client, patient.user)

    monkeypatch.setitem(app.config, "NO_SHOW_WINDOW_DAYS", 60)  # the third is out of it now
    monkeypatch.setitem(app.config, "NO_SHOW_LIMIT", 2)
    refused = client.post(f"/booking/slots/{slot.id}")
    assert refused.status_code == 409
    assert "You have missed 2 appointments in the last 60 days" in text_of(refused)

    monkeypatch.setitem(app.config, "NO_SHOW_LIMIT", 0)  # off
    assert client.post(f"/booking/slots/{slot.id}").status_code == 302


def test_the_front_desk_still_books_for_them(client, db, make, login_as, patient, slot):
    missed(make, patient, 5, 40, 170)
    login_as(client, make.admin())

    response = client.post(
        f"/admin/users/{patient.user.id}/book?doctor={slot.doctor_id}",
        data={"slot_id": str(slot.id), "notes": "Called; talked it through."},
    )

    assert response.status_code == 302
    assert booked(db, patient) == 1


def test_a_patient_sent_to_the_desk_is_not_told_of_waitlist_places(
    client, db, make, login_as, patient
):
    doctor = make.doctor()
    day = days_from_now(6).date()
    other = make.patient(user__email="other@example.com")
    missed(make, patient, 5, 40)  # two: still books online, and waits like anyone
    for who in (patient, other):
        db.session.add(WaitlistEntry(patient_id=who.id, doctor_id=doctor.id, day=day))
    db.session.commit()
    missed(make, patient, 60)  # the third: from now on the desk books for them

    told = waitlist.slot_freed(make.slot(doctor=doctor, start_at=days_from_now(6, hour=10)))
    db.session.commit()

    assert told == 1
    sent = db.session.scalars(select(OutboxMessage.payload)).all()
    assert [p["to"] for p in sent if p["action"] == "WAITLIST_SLOT_OPEN"] == ["other@example.com"]
    # their place stays; joining anew is refused with the reason, as booking is
    assert db.session.scalar(select(func.count(WaitlistEntry.id))) == 2
    login_as(client, patient.user)
    later = days_from_now(8).date().isoformat()
    response = client.post(f"/patient/doctors/{doctor.id}/waitlist", data={"date": later})
    assert response.status_code == 409
    assert REFUSAL in text_of(response)
    assert db.session.scalar(select(func.count(WaitlistEntry.id))) == 2


def test_with_the_rule_off_everyone_waiting_is_told(app, db, make, patient, monkeypatch):
    monkeypatch.setitem(app.config, "NO_SHOW_LIMIT", 0)
    doctor = make.doctor()
    missed(make, patient, 5, 40, 60)
    db.session.add(
        WaitlistEntry(patient_id=patient.id, doctor_id=doctor.id, day=days_from_now(6).date())
    )
    db.session.commit()

    assert waitlist.slot_freed(make.slot(doctor=doctor, start_at=days_from_now(6, hour=10))) == 1
