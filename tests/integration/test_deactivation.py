"""Deactivating an account that still has appointments ahead: the admin sees them first, and
may cancel them with it (a doctor leaving the clinic) or leave them standing (a doctor away)."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db as _db
from app.models import Appointment, AuditEvent, User, WaitlistEntry
from app.services import Conflict, accounts, booking
from app.timeutil import local_today
from tests.factories import PASSWORD
from tests.helpers import count_queries, table_rows, text_of
from tests.integration.outbox_helpers import messages
from tests.integration.races import run_together


@pytest.fixture
def admin(client, make, login_as):
    admin = make.admin(full_name="Ada Admin")
    login_as(client, admin)
    return admin


def at(days: int, hour: int) -> datetime:
    return datetime.combine(local_today() + timedelta(days=days), time(hour), tzinfo=UTC)


def page(user_id: int) -> str:
    return f"/admin/users/{user_id}/deactivate"


def booked(make, doctor, days: int, hour: int, patient=None) -> Appointment:
    slot = make.slot(doctor=doctor, start_at=at(days, hour))
    if patient is None:
        return make.appointment(slot=slot)
    return make.appointment(slot=slot, patient=patient)


def statuses(db, appointments) -> list[str]:
    db.session.expire_all()
    return [db.session.get(Appointment, a.id).status for a in appointments]


def test_the_page_lists_what_a_doctor_still_has_booked(client, db, make, admin):
    doctor = make.doctor(user__full_name="Dr. Leaving")
    names = [f"Patient {n}" for n in range(7)]
    for n, name in enumerate(names):
        booked(make, doctor, 2 + n, 10, patient=make.patient(user__full_name=name))
    booked(make, doctor, -3, 10)  # over
    cancelled = booked(make, doctor, 3, 15)
    cancelled.status = "cancelled"
    db.session.commit()

    response = client.get(page(doctor.user.id) + "?next=/admin/users?role=doctor")

    assert response.status_code == 200
    text = text_of(response)
    assert "Deactivate Dr. Leaving?" in text
    assert "7 upcoming appointments" in text
    rows = table_rows(response.get_data(as_text=True), "data-table", "still-booked")
    assert [row[1] for row in rows[1:]] == names[:5]  # soonest first
    assert "and 2 more:" in text and ">see them all</a>." in text
    html = response.get_data(as_text=True)
    assert f"/admin/appointments?status=booked&amp;date_from={local_today().isoformat()}" in html
    assert f"doctor={doctor.id}" in html
    assert "Also cancel all 7: each patient and doctor is emailed" in text
    assert 'href="/admin/users?role=doctor">Keep the account' in html


def test_an_account_with_nothing_ahead_is_only_asked_about(client, make, admin):
    patient = make.patient()

    response = client.get(page(patient.user.id))

    assert response.status_code == 200
    assert "They have no upcoming appointments." in text_of(response)
    assert 'name="cancel_upcoming"' not in response.get_data(as_text=True)


def test_left_standing_a_doctors_appointments_stay_booked(client, db, make, admin):
    doctor = make.doctor()
    ahead = [booked(make, doctor, 2, 9), booked(make, doctor, 4, 9)]

    response = client.post(page(doctor.user.id), data={"next": "/admin/users?role=doctor"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users?role=doctor"
    assert statuses(db, ahead) == ["booked", "booked"]
    assert not db.session.get(User, doctor.user.id).active
    assert "2 upcoming appointments stand as booked." in text_of(client.get("/admin/users"))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "account.deactivated"))
    assert event.details == {"cancelled": 0, "still_booked": 2}


def test_a_departing_doctors_bookings_are_cancelled_and_the_patients_told(client, db, make, admin):
    doctor = make.doctor(user__email="leaving@example.com")
    patients = [make.patient(user__email=f"p{n}@example.com") for n in range(2)]
    ahead = [booked(make, doctor, 2 + n, 9, patient=p) for n, p in enumerate(patients)]
    started = booked(make, doctor, 0, 0)
    someone_elses = booked(make, make.doctor(), 2, 9)
    waiting = make.patient(user__email="waiting@example.com")
    db.session.add(WaitlistEntry(patient=waiting, doctor=doctor, day=at(2, 9).date()))
    db.session.commit()

    response = client.post(page(doctor.user.id), data={"cancel_upcoming": "y"})

    assert response.status_code == 302
    assert statuses(db, ahead) == ["cancelled", "cancelled"]
    assert statuses(db, [started, someone_elses]) == ["booked", "booked"]
    told = {(m.payload["action"], m.payload["to"]) for m in messages(db)}
    for patient in ("p0@example.com", "p1@example.com"):
        assert ("BOOKING_CANCELLED", patient) in told
    assert ("WAITLIST_SLOT_OPEN", "waiting@example.com") not in told  # no one can book them
    flashed = text_of(client.get("/admin/users"))
    assert "2 upcoming appointments were cancelled with the account" in flashed
    assert "stand as booked" not in flashed
    kinds = db.session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)).all()
    assert kinds == ["appointment.cancelled", "appointment.cancelled", "account.deactivated"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "account.deactivated"))
    assert event.details == {"cancelled": 2, "still_booked": 0}


def test_a_patients_cancelled_times_go_to_the_waitlist(client, db, make, admin):
    patient = make.patient()
    doctor = make.doctor()
    appointment = booked(make, doctor, 3, 11, patient=patient)
    waiting = make.patient(user__email="next.in.line@example.com")
    db.session.add(WaitlistEntry(patient=waiting, doctor=doctor, day=at(3, 11).date()))
    db.session.commit()

    response = client.post(page(patient.user.id), data={"cancel_upcoming": "y"})

    assert response.status_code == 302
    assert statuses(db, [appointment]) == ["cancelled"]
    told = {(m.payload["action"], m.payload["to"]) for m in messages(db)}
    assert ("WAITLIST_SLOT_OPEN", "next.in.line@example.com") in told
    assert "1 upcoming appointment was cancelled with the account" in text_of(
        client.get("/admin/users")
    )


def test_an_appointment_already_under_way_is_left_alone(client, db, make, admin):
    doctor = make.doctor()
    appointment = booked(make, doctor, 3, 10)
    with time_machine.travel(at(3, 10) + timedelta(minutes=10), tick=False):
        response = client.post(page(doctor.user.id), data={"cancel_upcoming": "y"})

    assert response.status_code == 302
    assert statuses(db, [appointment]) == ["booked"]


def test_a_deactivated_patient_is_not_told_of_freed_places(client, db, make, admin):
    doctor = make.doctor()
    appointment = booked(make, doctor, 3, 10)
    gone, staying = make.patient(user__active=False), make.patient()
    for patient in (gone, staying):
        db.session.add(WaitlistEntry(patient=patient, doctor=doctor, day=at(3, 10).date()))
    db.session.commit()

    booking.cancel(appointment.id, actor=admin)
    db.session.commit()

    told = [m.payload["to"] for m in messages(db) if m.payload["action"] == "WAITLIST_SLOT_OPEN"]
    assert told == [staying.user.email]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_oneself_and_the_already_deactivated_are_409(client, make, admin, method):
    inactive = make.patient(user__active=False).user
    for user, message in (
        (admin, "You cannot deactivate your own account."),
        (inactive, f"{inactive.email} is already deactivated."),
    ):
        response = client.open(page(user.id), method=method)
        assert response.status_code == 409
        assert message in text_of(response)


def test_the_pages_queries_do_not_grow_with_the_appointments(client, db, make, admin):
    doctor = make.doctor()
    booked(make, doctor, 2, 9)
    with count_queries(db.engine) as few:
        assert client.get(page(doctor.user.id)).status_code == 200
    for n in range(12):
        booked(make, doctor, 3 + n, 9)
    with count_queries(db.engine) as many:
        assert client.get(page(doctor.user.id)).status_code == 200
    assert len(many) == len(few)


@pytest.mark.postgres
def test_two_admins_switching_one_account_off_at_once_do_it_once(race_app, db, make):
    """As the deactivate page does, each request reads the account before the service locks
    it: the second must see the first's change, not its own earlier copy."""
    patient = make.patient().user
    admins = [make.admin() for _ in range(2)]
    user_id, admin_ids = patient.id, [a.id for a in admins]

    def attempt(i: int, barrier) -> str:
        with race_app.test_request_context():
            admin = _db.session.get(User, admin_ids[i])
            shown = accounts.account(user_id)  # held, as the view holds it
            try:
                barrier.wait()
                accounts.deactivate(user_id, actor=admin)
                _db.session.commit()
                assert not shown.active
                return "done"
            except Conflict:
                _db.session.rollback()
                return "refused"
            finally:
                _db.session.remove()

    assert sorted(run_together(2, attempt)) == ["done", "refused"]
    db.session.expire_all()
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "account.deactivated")
    ).all()
    assert len(events) == 1


def test_a_receptionist_who_leaves_is_switched_off_and_signed_out(app, client, db, make, admin):
    desk = make.desk(email="leaving.desk@example.com")
    theirs = app.test_client()
    signing_in = {"email": desk.email, "password": PASSWORD}
    assert theirs.post("/auth/login", data=signing_in).status_code == 302
    assert theirs.get("/admin/appointments").status_code == 200
    assert "They have no upcoming appointments." in text_of(client.get(page(desk.id)))

    response = client.post(page(desk.id))

    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, desk.id).active
    assert theirs.get("/admin/appointments").status_code == 302  # signed out at once
    assert app.test_client().post("/auth/login", data=signing_in).status_code == 400
