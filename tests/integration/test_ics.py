"""The appointment as an iCalendar file: for its doctor, its patient and admins only."""

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from app.extensions import db
from app.models import AppointmentStatus

START = datetime(2031, 3, 10, 14, 30, tzinfo=UTC)


@pytest.fixture
def appointment(make):
    """The appointment, with its parties' users at hand as `.doctor_user` and `.patient_user`."""
    doctor = make.doctor(user__full_name="Dr. Amara Okafor", specialization="Cardiology")
    patient = make.patient(user__full_name="Noah Williams")
    slot = make.slot(doctor=doctor, start_at=START, end_at=START + timedelta(minutes=45))
    appointment = make.appointment(
        slot=slot, doctor=doctor, patient=patient, notes="Bring previous ECG"
    )
    appointment.doctor_user, appointment.patient_user = doctor.user, patient.user
    return appointment


def url(appointment) -> str:
    return f"/booking/appointments/{appointment.id}.ics"


def event_of(response):
    calendar = Calendar.from_ical(response.data)
    [event] = calendar.walk("VEVENT")
    return calendar, event


@pytest.mark.parametrize(
    ("who", "summary"),
    [
        ("doctor", "Appointment with Noah Williams (Cardiology)"),
        ("patient", "Appointment with Dr. Amara Okafor (Cardiology)"),
        ("admin", "Noah Williams with Dr. Amara Okafor (Cardiology)"),
    ],
)
def test_the_parties_and_admins_download_a_valid_calendar(
    client, make, login_as, appointment, who, summary
):
    user = {
        "doctor": appointment.doctor_user,
        "patient": appointment.patient_user,
        "admin": make.admin(),
    }[who]
    login_as(client, user)
    response = client.get(url(appointment))

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="appointment-{appointment.id}.ics"'
    calendar, event = event_of(response)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(event["UID"]) == f"appointment-{appointment.id}@127.0.0.1"
    assert event.decoded("DTSTART") == START
    assert event.decoded("DTEND") == START + timedelta(minutes=45)
    assert b"DTSTART:20310310T143000Z" in response.data  # written in UTC, not a floating time
    assert str(event["SUMMARY"]) == summary
    assert "Bring previous ECG" in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED"


def test_the_uid_is_stable_and_a_cancelled_appointment_says_so(client, login_as, appointment):
    login_as(client, appointment.patient_user)
    _, before = event_of(client.get(url(appointment)))
    appointment.status = AppointmentStatus.CANCELLED
    db.session.commit()
    _, after = event_of(client.get(url(appointment)))
    assert str(after["UID"]) == str(before["UID"])
    assert str(after["STATUS"]) == "CANCELLED"
    assert after["SEQUENCE"] > before["SEQUENCE"]


def test_times_stay_in_utc_whatever_the_clinic_zone(google_client, login_as, appointment):
    login_as(google_client, appointment.doctor_user)  # this app runs in America/New_York
    _, event = event_of(google_client.get(url(appointment)))
    assert event.decoded("DTSTART") == START


@pytest.mark.parametrize("stranger", ["doctor", "patient"])
def test_other_people_get_404(client, make, login_as, appointment, stranger):
    login_as(client, make.doctor().user if stranger == "doctor" else make.patient().user)
    assert client.get(url(appointment)).status_code == 404


def test_a_missing_appointment_is_404(client, make, login_as):
    login_as(client, make.admin())
    assert client.get("/booking/appointments/999999.ics").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, appointment):
    response = client.get(url(appointment))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")
