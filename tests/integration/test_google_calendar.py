"""Calendar events for bookings: one per connected Google account, removed on cancellation,
moved on reschedule, never duplicated, never left behind by a race with a cancellation."""

from datetime import timedelta

import pytest
from googleapiclient.http import HttpMockSequence
from sqlalchemy import select

from app.extensions import db
from app.models import Appointment, DoctorProfile, OutboxKind, OutboxMessage, PatientProfile, User
from app.services import booking, calendar_sync
from tests.integration.calendar_flow import (
    CLINIC_ZONE,
    EVENTS_PATH,
    appointment,
    book,
    cancel,
    deliver,
    messages,
    slot_start,
)
from tests.integration.google_fakes import calls, connect_google, error, ok


def test_booking_adds_an_event_to_each_connected_calendar(gctx, parties):
    doctor, patient, slot = parties
    connect_google(doctor.user, sub="sub-doctor", access="doctor-access")
    connect_google(patient.user, sub="sub-patient", access="patient-access")
    appointment_id = book(gctx, patient, slot)

    creates = messages(OutboxKind.CALENDAR_CREATE)
    assert [m.payload["roles"] for m in creates] == [["doctor"], ["patient"]]
    sent = {}
    for message in creates:
        http = deliver(gctx, message, ok({"id": "ignored"}))
        [call] = calls(http)
        sent[message.payload["roles"][0]] = call

    doctor_call, patient_call = sent["doctor"], sent["patient"]
    assert doctor_call.method == patient_call.method == "POST"
    assert doctor_call.path == EVENTS_PATH
    assert doctor_call.query["sendUpdates"] == ["none"]
    assert doctor_call.headers["authorization"] == "Bearer doctor-access"
    assert patient_call.headers["authorization"] == "Bearer patient-access"
    body = doctor_call.body
    assert body["summary"] == "Appointment with Noah Williams (Cardiology)"
    assert patient_call.body["summary"] == "Appointment with Dr. Amara Okafor (Cardiology)"
    assert body["start"]["timeZone"] == body["end"]["timeZone"] == "America/New_York"
    local_start = slot.start_at.astimezone(CLINIC_ZONE)
    assert body["start"]["dateTime"] == local_start.isoformat()
    assert body["end"]["dateTime"] == (local_start + timedelta(minutes=30)).isoformat()
    assert "Chest pain after running" in body["description"]
    assert body["extendedProperties"] == {"private": {"hmsAppointmentId": str(appointment_id)}}

    stored = appointment(appointment_id)
    assert stored.google_event_id_doctor == body["id"]
    assert stored.google_event_id_patient == patient_call.body["id"]
    assert stored.google_event_id_doctor != stored.google_event_id_patient


def test_only_connected_participants_get_events_and_later_connections_are_not_filled(gctx, parties):
    doctor, patient, slot = parties
    connect_google(patient.user, sub="sub-patient")
    broken = connect_google(doctor.user, sub="sub-doctor")
    broken.google_connection_broken = True
    db.session.commit()
    appointment_id = book(gctx, patient, slot)
    assert [m.payload["roles"] for m in messages(OutboxKind.CALENDAR_CREATE)] == [["patient"]]

    # The doctor reconnects after the booking: the old appointment is not added for them, so
    # there is nothing of theirs to delete either.
    connect_google(db.session.get(User, doctor.user_id), sub="sub-doctor")
    cancel(gctx, appointment_id, patient.user)
    assert [m.payload["roles"] for m in messages(OutboxKind.CALENDAR_DELETE)] == [["patient"]]


def test_cancellation_removes_the_events(gctx, parties):
    doctor, patient, slot = parties
    connect_google(doctor.user, sub="sub-doctor", access="doctor-access")
    connect_google(patient.user, sub="sub-patient", access="patient-access")
    appointment_id = book(gctx, patient, slot)
    for message in messages(OutboxKind.CALENDAR_CREATE):
        deliver(gctx, message, ok())
    event_ids = appointment(appointment_id)

    cancel(gctx, appointment_id, doctor.user)
    deletes = messages(OutboxKind.CALENDAR_DELETE)
    assert len(deletes) == 2
    seen = set()
    for message in deletes:
        [call] = calls(deliver(gctx, message, ({"status": "204"}, "")))
        assert call.method == "DELETE"
        seen.add((call.path, call.headers["authorization"]))
    assert seen == {
        (f"{EVENTS_PATH}/{event_ids.google_event_id_doctor}", "Bearer doctor-access"),
        (f"{EVENTS_PATH}/{event_ids.google_event_id_patient}", "Bearer patient-access"),
    }


@pytest.mark.parametrize("status", [404, 410])
def test_an_event_already_gone_counts_as_deleted(gctx, parties, status):
    doctor, patient, slot = parties
    connect_google(patient.user, sub="sub-patient")
    appointment_id = book(gctx, patient, slot)
    deliver(gctx, messages(OutboxKind.CALENDAR_CREATE)[0], ok())
    cancel(gctx, appointment_id, patient.user)
    [call] = calls(deliver(gctx, messages(OutboxKind.CALENDAR_DELETE)[0], error(status)))
    assert call.method == "DELETE"


def test_a_cancellation_overtaking_its_create_leaves_no_event(gctx, parties):
    doctor, patient, slot = parties
    connect_google(patient.user, sub="sub-patient")
    appointment_id = book(gctx, patient, slot)
    cancel(gctx, appointment_id, patient.user)  # before the create was delivered

    [call] = calls(deliver(gctx, messages(OutboxKind.CALENDAR_DELETE)[0], error(404)))
    assert call.path.startswith(f"{EVENTS_PATH}/hms")  # the id the create would have used
    deliver(gctx, messages(OutboxKind.CALENDAR_CREATE)[0])  # nothing is sent to Google
    assert appointment(appointment_id).google_event_id_patient is None


def test_a_cancellation_during_the_create_removes_the_new_event(gctx, parties):
    doctor, patient, slot = parties
    connect_google(patient.user, sub="sub-patient")
    appointment_id = book(gctx, patient, slot)

    class CancelledWhileGoogleAnswers(HttpMockSequence):
        def request(self, uri, method="GET", *args, **kwargs):
            if method == "POST":
                cancel(gctx, appointment_id, patient.user)
            return super().request(uri, method, *args, **kwargs)

    http = CancelledWhileGoogleAnswers([ok(), ({"status": "204"}, "")])
    with gctx():
        calendar_sync.create_event(messages(OutboxKind.CALENDAR_CREATE)[0].payload, http=http)
    insert, delete = calls(http)
    assert (insert.method, delete.method) == ("POST", "DELETE")
    assert delete.path == f"{EVENTS_PATH}/{insert.body['id']}"


def test_a_create_retried_after_a_lost_answer_does_not_duplicate(gctx, parties):
    doctor, patient, slot = parties
    connect_google(patient.user, sub="sub-patient")
    appointment_id = book(gctx, patient, slot)
    message = messages(OutboxKind.CALENDAR_CREATE)[0]
    first = calls(deliver(gctx, message, ok()))[0].body["id"]
    [retry] = calls(deliver(gctx, message, error(409, "duplicate")))
    assert retry.body["id"] == first  # Google refuses the same id twice: one event
    assert appointment(appointment_id).google_event_id_patient == first


def test_the_same_google_account_on_both_sides_gets_one_event(gctx, parties):
    doctor, patient, slot = parties
    connect_google(doctor.user, sub="same-google-account")
    connect_google(patient.user, sub="same-google-account")
    appointment_id = book(gctx, patient, slot)

    [create] = messages(OutboxKind.CALENDAR_CREATE)
    assert create.payload["roles"] == ["doctor", "patient"]
    [insert] = calls(deliver(gctx, create, ok()))
    assert insert.body["summary"] == "Noah Williams with Dr. Amara Okafor (Cardiology)"
    stored = appointment(appointment_id)
    assert stored.google_event_id_doctor == stored.google_event_id_patient == insert.body["id"]

    cancel(gctx, appointment_id, patient.user)
    [delete] = messages(OutboxKind.CALENDAR_DELETE)
    [call] = calls(deliver(gctx, delete, ({"status": "204"}, "")))
    assert call.path == f"{EVENTS_PATH}/{insert.body['id']}"


def test_a_reschedule_moves_the_event(gctx, parties):
    doctor, patient, slot = parties
    connect_google(patient.user, sub="sub-p", access="patient-access")
    appointment_id = book(gctx, patient, slot)
    [create] = messages(OutboxKind.CALENDAR_CREATE)
    event_id = calls(deliver(gctx, create, ok()))[0].body["id"]

    with gctx():
        moved = db.session.get(Appointment, appointment_id)
        moved.start_at += timedelta(days=1)
        moved.end_at += timedelta(days=1)
        calendar_sync.queue_for(
            "rescheduled",
            moved,
            db.session.get(DoctorProfile, moved.doctor_id),
            db.session.get(PatientProfile, moved.patient_id),
        )
        db.session.commit()
        new_start = moved.start_at

    [update] = messages(OutboxKind.CALENDAR_UPDATE)
    [patch] = calls(deliver(gctx, update, ok()))
    assert patch.method == "PATCH"
    assert patch.path == f"{EVENTS_PATH}/{event_id}"
    assert patch.headers["authorization"] == "Bearer patient-access"
    assert patch.body["start"]["timeZone"] == "America/New_York"
    assert patch.body["start"]["dateTime"] == new_start.astimezone(CLINIC_ZONE).isoformat()
    # An event not created yet (or removed by the user) is no error: the create uses new times.
    calls(deliver(gctx, update, error(404)))


def test_nothing_is_queued_while_google_is_not_configured(app, make):
    doctor = make.doctor()
    patient = make.patient()
    connect_google(doctor.user, sub="sub-d")
    connect_google(patient.user, sub="sub-p")
    start = slot_start()
    slot = make.slot(doctor=doctor, start_at=start, end_at=start + timedelta(minutes=30))
    appointment_id = booking.book(patient, slot.id, actor=patient.user).id
    db.session.commit()
    booking.cancel(appointment_id, actor=patient.user)
    db.session.commit()
    kinds = set(db.session.scalars(select(OutboxMessage.kind)))
    assert kinds == {OutboxKind.EMAIL}
