"""Checking a patient in on arrival: the front desk (or the doctor) marks it, the doctor's day
sheet shows who is in the waiting room, and a mistake can be taken back."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.models import Appointment, AuditEvent
from app.services import visits
from tests.helpers import text_of

NOW = datetime(2030, 3, 5, 9, 40, tzinfo=UTC)  # the suite's clinic is UTC


@pytest.fixture(autouse=True)
def _morning():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def doctor(make):
    return make.doctor(user__full_name="Dr. Ada Lovelace")


def at(hour: int, minute: int = 0) -> datetime:
    return NOW.replace(hour=hour, minute=minute)


@pytest.fixture
def ten(make, doctor):
    """Grace's 10:00 with Dr. Lovelace."""
    grace = make.patient(user__full_name="Grace Hopper")
    return make.appointment(slot=make.slot(doctor=doctor, start_at=at(10)), patient=grace)


def url(appointment) -> str:
    return f"/booking/appointments/{appointment.id}/check-in"


def test_the_desk_checks_a_patient_in_and_the_doctor_sees_it(
    client, db, make, login_as, doctor, ten
):
    login_as(client, make.admin())
    today = text_of(client.get("/admin/appointments?date_from=2030-03-05&date_to=2030-03-05"))
    assert f'action="{url(ten)}"' in today
    day = "date_from=2030-03-05&amp;date_to=2030-03-05&amp;order=soonest"
    assert f'href="/admin/appointments?{day}">Today' in today

    response = client.post(url(ten), headers={"Referer": "http://localhost/admin/appointments"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/appointments"
    db.session.expire_all()
    assert db.session.get(Appointment, ten.id).checked_in_at == NOW
    assert "Arrived 09:40" in text_of(client.get("/admin/appointments"))
    login_as(client, doctor.user)
    assert "Arrived 09:40" in text_of(client.get("/doctor/day"))
    assert "Arrived 09:40" in text_of(client.get("/doctor/appointments"))
    kinds = db.session.scalars(select(AuditEvent.kind)).all()
    assert kinds == ["appointment.checked_in"]


def test_a_doctor_without_a_desk_checks_in_from_the_day_sheet(client, db, login_as, doctor, ten):
    login_as(client, doctor.user)
    assert f'action="{url(ten)}"' in text_of(client.get("/doctor/day"))

    assert client.post(url(ten)).status_code == 302

    assert db.session.get(Appointment, ten.id).checked_in_at == NOW
    sheet = text_of(client.get("/doctor/day"))
    assert "Check in</button>" not in sheet  # done
    assert "Undo check-in</button>" in sheet  # a slip of the finger can be taken back
    assert client.post(url(ten), data={"undo": "y"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Appointment, ten.id).checked_in_at is None


def test_a_mistaken_check_in_is_taken_back(client, db, make, login_as, ten):
    login_as(client, make.admin())
    client.post(url(ten))

    assert "Undo check-in" in text_of(client.get("/admin/appointments"))
    assert client.post(url(ten), data={"undo": "y"}).status_code == 302

    db.session.expire_all()
    assert db.session.get(Appointment, ten.id).checked_in_at is None
    kinds = db.session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)).all()
    assert kinds == ["appointment.checked_in", "appointment.check_in_undone"]
    assert client.post(url(ten), data={"undo": "y"}).status_code == 409  # nothing to undo


@pytest.mark.parametrize(
    ("start", "status", "message"),
    [
        (at(12), "booked", "from 2 hours before"),  # 2 h 20 min ahead
        (at(9), "booked", "is over"),  # 09:00 to 09:30
        (at(10), "cancelled", "Only a booked appointment"),
    ],
)
def test_a_check_in_outside_its_window_is_refused(
    client, db, make, login_as, doctor, start, status, message
):
    appointment = make.appointment(slot=make.slot(doctor=doctor, start_at=start), status=status)
    login_as(client, make.admin())

    assert f'action="{url(appointment)}"' not in text_of(client.get("/admin/appointments"))
    response = client.post(url(appointment))

    assert response.status_code == 409
    assert message in text_of(response)
    assert db.session.get(Appointment, appointment.id).checked_in_at is None


def test_twice_is_refused(db, make, ten):
    desk = make.admin()
    visits.check_in(ten.id, actor=desk)
    db.session.commit()

    with pytest.raises(visits.Conflict, match="already checked in"):
        visits.check_in(ten.id, actor=desk)
    db.session.rollback()


def test_at_the_window_edges(db, make, doctor):
    early = make.appointment(slot=make.slot(doctor=doctor, start_at=NOW + timedelta(hours=2)))
    late = make.appointment(slot=make.slot(doctor=doctor, start_at=at(9, 10)))  # ends 09:40

    assert visits.check_in_refusal(early, NOW) is None
    assert visits.check_in_refusal(early, NOW - timedelta(seconds=1)) is not None
    assert visits.check_in_refusal(late, NOW - timedelta(seconds=1)) is None
    assert visits.check_in_refusal(late, NOW) == "This appointment is over."


def test_patients_and_other_doctors_cannot(client, make, login_as, ten):
    login_as(client, ten.patient.user)
    assert client.post(url(ten)).status_code == 403
    login_as(client, make.doctor().user)
    assert client.post(url(ten)).status_code == 404
