"""A patient closes their own account: signed out everywhere, their appointments ahead
cancelled with their doctors told, their waitlist places, calendar subscription and Google
connection gone, a confirmation emailed; their record stays, and the front desk can reopen it."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.models import AppointmentStatus, AuditEvent, DoctorProfile, User, WaitlistEntry
from app.services import Conflict, account_closure
from app.timeutil import to_local, utcnow
from tests.factories import PASSWORD
from tests.helpers import text_of
from tests.integration.outbox_helpers import messages

URL = "/patient/account/close"


def hours(offset: float):
    return (utcnow() + timedelta(hours=offset)).replace(minute=0, second=0, microsecond=0)


def emails(action: str) -> list:
    return [m for m in messages(_db) if m.payload["action"] == action]


@pytest.fixture
def leaving(make):
    """Rosa, with two appointments ahead (two doctors), one behind her, a waitlist place and a
    calendar subscription."""
    patient = make.patient(user__full_name="Rosa Parks", user__email="rosa@example.com")
    first, second = make.doctor(user__full_name="Dr. Lin"), make.doctor(user__full_name="Dr. Ode")
    ahead = [
        make.appointment(slot=make.slot(doctor=first, start_at=hours(48)), patient=patient),
        make.appointment(slot=make.slot(doctor=second, start_at=hours(72)), patient=patient),
    ]
    past = make.appointment(
        slot=make.slot(doctor=first, start_at=hours(-48)),
        patient=patient,
        status=AppointmentStatus.COMPLETED,
    )
    _db.session.add(WaitlistEntry(patient=patient, doctor=second, day=to_local(hours(96)).date()))
    patient.user.calendar_feed_nonce = "rosa-feed"
    patient.user.google_sub, patient.user.google_email = "google-rosa", "rosa@gmail.example"
    _db.session.commit()
    return patient, ahead, past


def test_the_page_says_what_goes_with_the_account(client, login_as, leaving):
    patient, ahead, _ = leaving
    login_as(client, patient.user)

    page = text_of(client.get(URL))

    assert "Your 2 upcoming appointments: cancelled" in page
    assert "Dr. Lin" in page and "Dr. Ode" in page
    assert "Your medical record stays with the clinic" in page
    assert "Close your account" in text_of(client.get("/patient/profile"))


def test_closing_signs_out_cancels_what_is_ahead_and_keeps_the_record(client, login_as, leaving):
    patient, ahead, past = leaving
    login_as(client, patient.user)
    version = patient.user.session_version

    response = client.post(URL, data={"current_password": PASSWORD})

    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    user = _db.session.get(User, patient.user.id)
    assert not user.active and user.session_version == version + 1
    assert user.calendar_feed_nonce is None and user.google_sub is None
    for appointment in ahead:
        _db.session.refresh(appointment)
        assert appointment.status == AppointmentStatus.CANCELLED
        assert appointment.cancelled_by_id == user.id
        assert appointment.cancel_reason == "The patient closed their account."
    _db.session.refresh(past)
    assert past.status == AppointmentStatus.COMPLETED  # the record stays
    assert _db.session.scalars(select(WaitlistEntry)).all() == []

    [confirmation] = emails("ACCOUNT_CLOSED")
    assert confirmation.payload["to"] == "rosa@example.com"
    assert confirmation.payload["data"]["cancelled_count"] == "2"
    told = {m.payload["to"] for m in emails("BOOKING_CANCELLED")}
    assert {_db.session.get(DoctorProfile, a.doctor_id).user.email for a in ahead} <= told
    [event] = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "account.closed")
    ).all()
    assert (event.actor_id, event.details) == (user.id, {"cancelled": 2, "waitlist_left": 1})

    assert client.get("/patient/").status_code == 302  # signed out, this browser too
    signed_in = client.post("/auth/login", data={"email": "rosa@example.com", "password": PASSWORD})
    assert signed_in.status_code == 400


def test_a_wrong_password_closes_nothing(client, login_as, leaving):
    patient, ahead, _ = leaving
    login_as(client, patient.user)

    response = client.post(URL, data={"current_password": "not my password"})

    assert response.status_code == 400
    assert "Your password is not correct." in text_of(response)
    assert _db.session.get(User, patient.user.id).active
    assert all(_db.session.get(type(a), a.id).status == AppointmentStatus.BOOKED for a in ahead)
    assert emails("ACCOUNT_CLOSED") == []


def test_an_appointment_inside_the_cut_off_sends_the_patient_to_the_desk(
    client, login_as, make, leaving
):
    patient, _, _ = leaving
    soon = make.appointment(
        slot=make.slot(start_at=hours(2) - timedelta(minutes=30)), patient=patient
    )
    login_as(client, patient.user)

    assert "starts too soon to be cancelled online" in text_of(client.get(URL))
    response = client.post(URL, data={"current_password": PASSWORD})

    assert response.status_code == 409
    assert "please call +1 555 0100" in text_of(response)
    assert _db.session.get(User, patient.user.id).active
    _db.session.refresh(soon)
    assert soon.status == AppointmentStatus.BOOKED


def test_the_freed_places_go_to_others_waiting_not_to_the_patient_leaving(client, login_as, make):
    doctor = make.doctor()
    start = hours(50)
    day = to_local(start).date()
    leaving, waiting = make.patient(), make.patient(user__email="next@example.com")
    make.appointment(slot=make.slot(doctor=doctor, start_at=start), patient=leaving)
    _db.session.add_all(
        [
            WaitlistEntry(patient=leaving, doctor=doctor, day=day, created_at=utcnow()),
            WaitlistEntry(
                patient=waiting, doctor=doctor, day=day, created_at=utcnow() + timedelta(seconds=1)
            ),
        ]
    )
    _db.session.commit()
    login_as(client, leaving.user)

    assert client.post(URL, data={"current_password": PASSWORD}).status_code == 302

    assert [m.payload["to"] for m in emails("WAITLIST_SLOT_OPEN")] == ["next@example.com"]


def test_a_second_close_in_the_same_instant_closes_nothing_more(app, leaving):
    """Two tabs: the second request waited on the row lock and finds the account closed."""
    patient, _, _ = leaving
    with app.test_request_context():
        account_closure.close(patient.user, PASSWORD)
        _db.session.commit()
        with pytest.raises(Conflict):
            account_closure.close(patient.user, PASSWORD)
    _db.session.rollback()
    assert len(emails("ACCOUNT_CLOSED")) == 1
