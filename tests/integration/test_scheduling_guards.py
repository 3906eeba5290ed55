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
