"""A patient downloads their own data: their account and details, every appointment (with who
cancelled it and why), their waitlist places; never a doctor's visit notes, never someone
else's appointments; the same statements however much there is."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db as _db
from app.models import AppointmentStatus, WaitlistEntry
from tests.helpers import count_queries

URL = "/patient/account/data.json"
START = datetime(2031, 3, 10, 14, 30, tzinfo=UTC)


@pytest.fixture
def rosa(make):
    doctor = make.doctor(user__full_name="Dr. Lin Chen", specialization="Dermatology")
    patient = make.patient(
        user__full_name="Rosa Parks",
        user__email="rosa@example.com",
        address="12 Cleveland Ave",
        emergency_contact="Raymond, +1 555 0199",
    )
    seen = make.appointment(
        slot=make.slot(doctor=doctor, start_at=START - timedelta(days=60)),
        patient=patient,
        status=AppointmentStatus.COMPLETED,
        notes="Rash on the left arm",
        attendance_confirmed_at=START - timedelta(days=61),
        visit_notes="Contact dermatitis; hydrocortisone 1%.",
    )
    cancelled = make.appointment(
        slot=make.slot(doctor=doctor, start_at=START),
        patient=patient,
        status=AppointmentStatus.CANCELLED,
        cancelled_by_id=doctor.user_id,
        cancelled_at=START - timedelta(days=2),
        cancel_reason="Conference",
    )
    make.appointment(slot=make.slot(doctor=doctor, start_at=START + timedelta(hours=1)))
    _db.session.add(WaitlistEntry(patient=patient, doctor=doctor, day=START.date()))
    _db.session.commit()
    return patient, seen, cancelled


def download(client) -> dict:
    response = client.get(URL)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="hms-my-data-')
    assert response.headers["Cache-Control"] == "no-store"
    return json.loads(response.data)


def test_a_patient_downloads_what_they_gave_and_were_told(client, login_as, rosa):
    patient, seen, cancelled = rosa
    login_as(client, patient.user)

    data = download(client)

    assert data["format"] == "hms.patient-data/1"
    assert data["account"]["email"] == "rosa@example.com"
    assert data["details"]["address"] == "12 Cleveland Ave"
    assert data["details"]["emergency_contact"] == "Raymond, +1 555 0199"
    assert [a["id"] for a in data["appointments"]] == [seen.id, cancelled.id]  # only hers
    first, second = data["appointments"]
    assert first["doctor"] == "Dr. Lin Chen"
    assert first["status"] == "completed"
    assert first["notes"] == "Rash on the left arm"
    assert first["start"] == (START - timedelta(days=60)).isoformat()
    assert first["attendance_confirmed_at"] == (START - timedelta(days=61)).isoformat()
    assert second["attendance_confirmed_at"] is None
    assert (second["status"], second["cancelled_by"], second["cancel_reason"]) == (
        "cancelled",
        "your doctor",
        "Conference",
    )
    assert data["waitlist"] == [
        {
            "doctor": "Dr. Lin Chen",
            "day": START.date().isoformat(),
            "joined_at": data["waitlist"][0]["joined_at"],
        }
    ]


def test_a_doctors_visit_notes_are_not_in_it(client, login_as, rosa):
    patient, _, _ = rosa
    login_as(client, patient.user)

    assert b"hydrocortisone" not in client.get(URL).data


def test_it_sends_the_same_statements_however_many_appointments(client, db, login_as, make, rosa):
    patient, _, _ = rosa
    login_as(client, patient.user)
    with count_queries(db.engine) as few:
        download(client)
    for n in range(10):
        make.appointment(
            slot=make.slot(doctor=make.doctor(), start_at=START + timedelta(days=n + 1)),
            patient=patient,
        )
    with count_queries(db.engine) as many:
        assert len(download(client)["appointments"]) == 12

    assert len(many) == len(few)


def test_the_details_page_links_it(client, login_as, rosa):
    login_as(client, rosa[0].user)
    assert URL in client.get("/patient/profile").get_data(as_text=True)
