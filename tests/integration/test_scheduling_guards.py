"""Who may reach each scheduling route: one table of (route, role) -> status.

The world: doctor D (signed in as "doctor") with a free slot S and an appointment A held by
patient P (signed in as "patient"), and an admin. Allowed routes answer what the route answers
to an empty form: 200 for pages, 400 for empty forms, 302 for actions that need no fields.
"""

from datetime import UTC, datetime, timedelta

import pytest

ANON, DOCTOR, PATIENT, ADMIN = "anonymous", "doctor", "patient", "admin"
DOCTOR_ONLY = {ANON: 302, PATIENT: 403, ADMIN: 403}
PATIENT_ONLY = {ANON: 302, DOCTOR: 403, ADMIN: 403}

ROUTES = [
    ("GET", "/doctor/", {**DOCTOR_ONLY, DOCTOR: 200}),
    ("GET", "/doctor/availability", {**DOCTOR_ONLY, DOCTOR: 200}),
    ("POST", "/doctor/availability", {**DOCTOR_ONLY, DOCTOR: 400}),
    ("POST", "/doctor/availability/weekly", {**DOCTOR_ONLY, DOCTOR: 400}),
    ("POST", "/doctor/availability/{slot}/delete", {**DOCTOR_ONLY, DOCTOR: 302}),
    ("GET", "/doctor/appointments", {**DOCTOR_ONLY, DOCTOR: 200}),
    ("GET", "/doctor/profile", {**DOCTOR_ONLY, DOCTOR: 200}),
    ("POST", "/doctor/profile", {**DOCTOR_ONLY, DOCTOR: 400}),
    ("GET", "/patient/", {**PATIENT_ONLY, PATIENT: 200}),
    ("GET", "/patient/doctors", {**PATIENT_ONLY, PATIENT: 200}),
    ("GET", "/patient/doctors/{doctor}", {**PATIENT_ONLY, PATIENT: 200}),
    ("GET", "/patient/appointments", {**PATIENT_ONLY, PATIENT: 200}),
    ("GET", "/patient/profile", {**PATIENT_ONLY, PATIENT: 200}),
    ("POST", "/patient/profile", {**PATIENT_ONLY, PATIENT: 400}),
    ("GET", "/booking/slots/{slot}", {**PATIENT_ONLY, PATIENT: 200}),
    ("POST", "/booking/slots/{slot}", {**PATIENT_ONLY, PATIENT: 302}),
    (
        "POST",
        "/booking/appointments/{appointment}/cancel",
        {ANON: 302, DOCTOR: 302, PATIENT: 302, ADMIN: 302},
    ),
]


@pytest.mark.parametrize("role", [ANON, DOCTOR, PATIENT, ADMIN])
@pytest.mark.parametrize(("method", "url", "expected"), ROUTES, ids=lambda v: str(v)[:40])
def test_route_guard(client, db, make, login_as, role, method, url, expected):
    doctor = make.doctor()
    patient = make.patient()
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    slot = make.slot(doctor=doctor, start_at=start)
    appointment = make.appointment(
        slot=make.slot(doctor=doctor, start_at=start + timedelta(hours=3)), patient=patient
    )
    users = {DOCTOR: doctor.user, PATIENT: patient.user, ADMIN: make.admin()}
    if role != ANON:
        login_as(client, users[role])

    target = url.format(slot=slot.id, doctor=doctor.id, appointment=appointment.id)
    response = client.open(target, method=method)

    assert response.status_code == expected[role]
    if role == ANON:
        assert response.headers["Location"].startswith("/auth/login?next=")


@pytest.fixture
def csrf_client(app, database_url):
    """A client of the same app with CSRF protection on, as in production."""
    from app import create_app
    from config import TestingConfig

    return create_app(
        TestingConfig, {"SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": True}
    ).test_client()


def token_in(page: str, before: str) -> str:
    """The CSRF token of the form that contains `before` (the first token after it)."""
    return page.split(before, 1)[1].split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_scheduling_forms_carry_working_csrf_tokens(csrf_client, db, make, login_as):
    doctor = make.doctor()
    patient = make.patient()
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    slot = make.slot(doctor=doctor, start_at=start)
    login_as(csrf_client, patient.user)

    page = csrf_client.get(f"/booking/slots/{slot.id}").get_data(as_text=True)
    token = page.split('id="csrf_token" name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert csrf_client.post(f"/booking/slots/{slot.id}").status_code == 400  # no token
    booked = csrf_client.post(f"/booking/slots/{slot.id}", data={"csrf_token": token})
    assert booked.status_code == 302

    dashboard = csrf_client.get("/patient/").get_data(as_text=True)
    cancel_url = "/booking/appointments/" + dashboard.split('action="/booking/appointments/')[1]
    cancel_url = cancel_url.split('"', 1)[0]
    cancel_token = token_in(dashboard, f'action="{cancel_url}"')
    response = csrf_client.post(cancel_url, data={"csrf_token": cancel_token})
    assert response.status_code == 302

    login_as(csrf_client, doctor.user)
    page = csrf_client.get("/doctor/availability").get_data(as_text=True)
    weekly_token = token_in(page, 'action="/doctor/availability/weekly"')
    weekly = {
        "start_date": (start + timedelta(days=3)).date().isoformat(),
        "end_date": (start + timedelta(days=3)).date().isoformat(),
        "weekdays": [str(d) for d in range(7)],
        "day_start": "09:00",
        "day_end": "10:00",
        "slot_minutes": "30",
    }
    assert csrf_client.post("/doctor/availability/weekly", data=weekly).status_code == 400
    sent = csrf_client.post(
        "/doctor/availability/weekly", data={**weekly, "csrf_token": weekly_token}
    )
    assert sent.status_code == 302
