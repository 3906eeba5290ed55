"""A patient changes what the doctor should know, up to the appointment's start."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.models import Appointment, AuditEvent, OutboxKind, User
from app.services import booking
from tests.helpers import table_rows, text_of
from tests.integration.calendar_flow import book, deliver, messages
from tests.integration.google_fakes import calls, connect_google, ok


@pytest.fixture
def patient(make, client, login_as):
    patient = make.patient(user__full_name="Grace Hopper")
    login_as(client, patient.user)
    return patient


@pytest.fixture
def appointment(make, patient):
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    doctor = make.doctor(user__full_name="Dr. Ada Byron")
    return make.appointment(
        slot=make.slot(doctor=doctor, start_at=start), patient=patient, notes="Knee pain"
    )


def note_of(db, appointment) -> str | None:
    db.session.expire_all()
    return db.session.get(Appointment, appointment.id).notes


def test_the_patient_rewrites_their_note_and_the_doctor_reads_it(
    client, db, make, login_as, patient, appointment
):
    url = f"/booking/appointments/{appointment.id}/note"
    page = text_of(client.get(url))
    assert "With <strong>Dr. Ada Byron</strong>" in page and "\nKnee pain</textarea>" in page

    response = client.post(url, data={"notes": "  Knee pain, worse on stairs; on ibuprofen. "})

    assert response.status_code == 302
    assert response.headers["Location"] == "/patient/appointments"
    assert note_of(db, appointment) == "Knee pain, worse on stairs; on ibuprofen."
    assert "Your note for Dr. Ada Byron is saved." in text_of(client.get("/patient/appointments"))
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.kind == "appointment.note_changed")
    )
    assert (event.actor_id, event.target_id, event.details) == (
        patient.user.id,
        appointment.id,
        {},  # that it changed, never what it says
    )
    doctor_user = db.session.scalar(select(User).where(User.full_name == "Dr. Ada Byron"))
    login_as(client, doctor_user)
    day = appointment.start_at.date().isoformat()
    rows = table_rows(text_of(client.get(f"/doctor/day?date={day}")), "data-table", "day")
    assert rows[1][2] == "Knee pain, worse on stairs; on ibuprofen."


def test_an_empty_note_removes_it_and_the_lists_offer_to_add_one(client, db, appointment):
    assert "Edit note</a>" in text_of(client.get("/patient/"))

    client.post(f"/booking/appointments/{appointment.id}/note", data={"notes": "  "})

    assert note_of(db, appointment) is None
    assert "Add a note</a>" in text_of(client.get("/patient/appointments"))


def test_the_note_can_change_inside_the_cancel_cut_off_but_not_once_started(
    client, db, make, patient
):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    soon, started = (
        make.appointment(slot=make.slot(start_at=now + minutes), patient=patient, notes="Hi")
        for minutes in (timedelta(minutes=40), timedelta(minutes=-10))
    )
    assert text_of(client.get("/patient/appointments")).count("Edit note</a>") == 1

    url = "/booking/appointments/{}/note"
    assert client.post(url.format(soon.id), data={"notes": "Running late"}).status_code == 302
    refused = client.post(url.format(started.id), data={"notes": "Too late"})
    assert refused.status_code == 409
    assert "Only the note of an upcoming appointment can be changed." in text_of(refused)
    assert (note_of(db, soon), note_of(db, started)) == ("Running late", "Hi")


def test_a_cancelled_appointments_note_stays_as_it_was(client, db, patient, appointment):
    booking.cancel(appointment.id, actor=patient.user)
    _db.session.commit()

    response = client.post(f"/booking/appointments/{appointment.id}/note", data={"notes": "x"})

    assert response.status_code == 409
    assert note_of(db, appointment) == "Knee pain"
    assert "note</a>" not in text_of(client.get("/patient/appointments"))


def test_a_note_too_long_is_a_400_next_to_the_field(client, db, appointment):
    response = client.post(
        f"/booking/appointments/{appointment.id}/note", data={"notes": "x" * 1001}
    )
    assert response.status_code == 400
    assert "longer than 1000" in text_of(response)
    assert note_of(db, appointment) == "Knee pain"


def test_connected_calendars_get_the_new_note(gctx, parties):
    doctor, patient, slot = parties
    connect_google(patient.user, sub="sub-p", access="patient-access")
    appointment_id = book(gctx, patient, slot)
    [create] = messages(OutboxKind.CALENDAR_CREATE)
    deliver(gctx, create, ok())

    with gctx():
        user = _db.session.get(User, patient.user.id)
        booking.change_note(appointment_id, "Bring the ECG from March", actor=user)
        _db.session.commit()

    [update] = messages(OutboxKind.CALENDAR_UPDATE)
    [patch] = calls(deliver(gctx, update, ok()))
    assert patch.method == "PATCH"
    assert "Notes: Bring the ECG from March" in patch.body["description"]
