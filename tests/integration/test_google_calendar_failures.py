"""Calendar delivery when things go wrong: expired and revoked grants, Google down or refusing,
users who disconnected, tokens no key opens. Retry what may pass; give up on what cannot."""

from datetime import timedelta

import pytest

from app.extensions import db
from app.models import AppointmentStatus, OutboxKind, User
from app.services import calendar_sync
from app.services.crypto import decrypt
from app.timeutil import utcnow
from tests.integration.calendar_flow import appointment, book, deliver, messages, slot_start
from tests.integration.google_fakes import (
    calls,
    connect_google,
    error,
    hours_from_now,
    ok,
    token_answer,
)


def test_an_expired_token_is_refreshed_and_the_new_one_stored_encrypted(gctx, parties, google):
    doctor, patient, slot = parties
    connect_google(
        patient.user, sub="sub-p", access="old-access", refresh="the-refresh", expires_at=utcnow()
    )
    book(gctx, patient, slot)
    http = deliver(
        gctx, messages(OutboxKind.CALENDAR_CREATE)[0], token_answer("fresh-access"), ok()
    )
    refresh, insert = calls(http)
    assert refresh.method == "POST"
    assert refresh.url == google.token_endpoint
    assert "grant_type=refresh_token" in refresh.body
    assert "refresh_token=the-refresh" in refresh.body
    assert insert.headers["authorization"] == "Bearer fresh-access"
    db.session.expire_all()
    user = db.session.get(User, patient.user_id)
    assert user.google_access_token != "fresh-access"
    assert decrypt(user.google_access_token) == "fresh-access"
    assert user.google_token_expires_at > utcnow() + timedelta(minutes=50)


def test_a_revoked_grant_marks_the_connection_broken_and_stops_retrying(
    gctx, parties, google_client, login_as, make
):
    doctor, patient, slot = parties
    connect_google(doctor.user, sub="sub-d", expires_at=hours_from_now(-1))
    book(gctx, patient, slot)
    revoked = error(400, "invalid_grant")
    revoked = (revoked[0], '{"error": "invalid_grant", "error_description": "Token revoked"}')
    with pytest.raises(calendar_sync.CalendarPermanentError):
        deliver(gctx, messages(OutboxKind.CALENDAR_CREATE)[0], revoked)
    db.session.expire_all()
    assert db.session.get(User, doctor.user_id).google_connection_broken is True

    login_as(google_client, doctor.user)
    page = google_client.get("/doctor/").get_data(as_text=True)
    assert "stopped working" in page
    assert "Reconnect Google Calendar" in page

    # New bookings skip the broken connection until the doctor reconnects.
    later = slot_start(hours_later=2)
    other_slot = make.slot(doctor=doctor, start_at=later, end_at=later + timedelta(minutes=30))
    book(gctx, patient, other_slot, notes=None)
    assert len(messages(OutboxKind.CALENDAR_CREATE)) == 1


@pytest.mark.parametrize(
    "answer",
    [error(503), error(500), error(429), error(403, "rateLimitExceeded")],
    ids=["503", "500", "429", "403-rate-limit"],
)
def test_google_trouble_is_retried_and_the_booking_stands(gctx, parties, answer):
    doctor, patient, slot = parties
    connect_google(patient.user, sub="sub-p")
    appointment_id = book(gctx, patient, slot)
    with pytest.raises(calendar_sync.CalendarTemporaryError):
        deliver(gctx, messages(OutboxKind.CALENDAR_CREATE)[0], answer)
    stored = appointment(appointment_id)
    assert stored.status == AppointmentStatus.BOOKED
    assert stored.google_event_id_patient is None


def test_google_unreachable_is_retried(gctx, parties):
    doctor, patient, slot = parties
    connect_google(patient.user, sub="sub-p")
    appointment_id = book(gctx, patient, slot)
    with gctx(), pytest.raises(calendar_sync.CalendarTemporaryError):
        # No mock: the real transport, against a port nothing listens on.
        calendar_sync.create_event(messages(OutboxKind.CALENDAR_CREATE)[0].payload)
    assert appointment(appointment_id).status == AppointmentStatus.BOOKED


@pytest.mark.parametrize(
    "answer", [error(400, "badRequest"), error(403, "insufficientPermissions")]
)
def test_a_request_google_refuses_is_not_retried(gctx, parties, answer):
    doctor, patient, slot = parties
    connect_google(patient.user, sub="sub-p")
    book(gctx, patient, slot)
    with pytest.raises(calendar_sync.CalendarPermanentError):
        deliver(gctx, messages(OutboxKind.CALENDAR_CREATE)[0], answer)


def test_a_user_who_disconnected_before_delivery_is_left_alone(gctx, parties):
    doctor, patient, slot = parties
    user = connect_google(patient.user, sub="sub-p")
    book(gctx, patient, slot)
    user.google_sub = user.google_access_token = user.google_refresh_token = None
    db.session.commit()
    deliver(gctx, messages(OutboxKind.CALENDAR_CREATE)[0])  # no request at all


def test_tokens_no_key_can_open_break_the_connection(gctx, parties):
    doctor, patient, slot = parties
    user = connect_google(patient.user, sub="sub-p")
    book(gctx, patient, slot)
    user.google_access_token = "gAAAAA-written-under-a-key-since-thrown-away"
    db.session.commit()
    with pytest.raises(calendar_sync.CalendarPermanentError):
        deliver(gctx, messages(OutboxKind.CALENDAR_CREATE)[0])
    db.session.expire_all()
    assert db.session.get(User, patient.user_id).google_connection_broken is True
