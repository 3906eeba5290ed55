"""Output encoding (ASVS 5.3.1, 5.3.3): script typed into any free-text field comes back escaped
on every page that shows it, and never raw.

Everything is entered the way a person would: sign-up, profile and booking forms, the waitlist,
a failed sign-in (its email lands in the audit trail an admin reads), search boxes (reflected).
Each marker is a numbered payload that also tries to break out of an HTML attribute.
"""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Appointment, AvailabilitySlot, DoctorProfile, User
from app.timeutil import local_today

PASSWORD = "a long unusual passphrase"
RAW = re.compile(r"<script>alert\(\d+\)</script>")


def xss(n: int) -> str:
    return f'"><script>alert({n})</script>'


def escaped(n: int) -> str:
    return f"&#34;&gt;&lt;script&gt;alert({n})&lt;/script&gt;"


DOCTOR_NAME, SPECIALIZATION, BIO = 1, 2, 3
PATIENT_NAME, ADDRESS, EMERGENCY, NOTES = 4, 5, 6, 7
LOGIN_EMAIL, SEARCH = 8, 9


def day(offset: int) -> str:
    return (local_today() + timedelta(days=offset)).isoformat()


def post(client, url: str, data: dict, expected: int = 302):
    response = client.post(url, data=data)
    assert response.status_code == expected, (url, response.status_code)
    return response


@pytest.fixture
def clinic(app, db, make, login_as):
    """A doctor, a patient and their appointment, every free text holding a payload."""
    doctor = app.test_client()
    doctor_form = {
        "full_name": xss(DOCTOR_NAME),
        "specialization": xss(SPECIALIZATION),
        "years_of_experience": "5",
    }
    post(
        doctor,
        "/auth/signup/doctor",
        {
            **doctor_form,
            "email": "dr@example.com",
            "password": PASSWORD,
            "confirm_password": PASSWORD,
        },
    )
    post(doctor, "/doctor/profile", {**doctor_form, "bio": xss(BIO), "phone": ""})
    for start, end in (("10:00", "10:30"), ("11:00", "11:30")):
        post(doctor, "/doctor/availability", {"date": day(3), "start_time": start, "end_time": end})

    patient = app.test_client()
    patient_form = {
        "full_name": xss(PATIENT_NAME),
        "address": xss(ADDRESS),
        "emergency_contact": xss(EMERGENCY),
    }
    post(
        patient,
        "/auth/signup/patient",
        {
            **patient_form,
            "email": "pat@example.com",
            "password": PASSWORD,
            "confirm_password": PASSWORD,
        },
    )
    post(patient, "/patient/profile", {**patient_form, "date_of_birth": "", "phone": ""})
    first, second = db.session.scalars(select(AvailabilitySlot).order_by(AvailabilitySlot.start_at))
    post(patient, f"/booking/slots/{first.id}", {"notes": xss(NOTES)})
    doctor_id = db.session.scalar(select(DoctorProfile.id))
    post(patient, f"/patient/doctors/{doctor_id}/waitlist", {"date": day(4)})

    post(app.test_client(), "/auth/login", {"email": xss(LOGIN_EMAIL), "password": "x" * 9}, 400)
    admin = login_as(app.test_client(), make.admin())
    return {
        "doctor": doctor,
        "patient": patient,
        "admin": admin,
        "anonymous": app.test_client(),
        "doctor_id": doctor_id,
        "doctor_user_id": db.session.scalar(select(User.id).where(User.email == "dr@example.com")),
        "first_slot": first.id,
        "second_slot": second.id,
        "appointment": db.session.scalar(select(Appointment.id)),
    }


def check(response, shown: set[int]) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code < 500
    assert not RAW.search(html), "a payload came back raw"
    assert '"><script' not in html
    missing = [n for n in sorted(shown) if escaped(n) not in html]
    assert missing == [], "the page should show these fields (escaped)"


q = f"?q={xss(SEARCH)}"
PAGES = [
    ("patient", "/patient/", {PATIENT_NAME, EMERGENCY, DOCTOR_NAME}),
    ("patient", "/patient/appointments", {DOCTOR_NAME, SPECIALIZATION}),
    ("patient", "/patient/doctors", {DOCTOR_NAME, SPECIALIZATION}),
    ("patient", "/patient/doctors" + q, {SEARCH}),
    ("patient", "/patient/doctors/{doctor_id}", {DOCTOR_NAME, SPECIALIZATION, BIO}),
    ("patient", "/patient/profile", {PATIENT_NAME, ADDRESS, EMERGENCY}),
    ("patient", "/booking/slots/{second_slot}", {DOCTOR_NAME, SPECIALIZATION}),
    ("patient", "/booking/slots/{first_slot}", {DOCTOR_NAME, SPECIALIZATION}),  # 409: yours
    ("patient", "/booking/appointments/{appointment}/reschedule", {DOCTOR_NAME, PATIENT_NAME}),
    ("doctor", "/doctor/", {DOCTOR_NAME, SPECIALIZATION, PATIENT_NAME, NOTES}),
    ("doctor", "/doctor/appointments", {PATIENT_NAME, NOTES}),
    ("doctor", "/doctor/availability", {PATIENT_NAME}),
    ("doctor", "/doctor/profile", {DOCTOR_NAME, SPECIALIZATION, BIO}),
    ("admin", "/admin/", {DOCTOR_NAME, SPECIALIZATION}),
    ("admin", "/admin/users", {DOCTOR_NAME, PATIENT_NAME}),
    ("admin", "/admin/users" + q, {SEARCH}),
    ("admin", "/admin/appointments", {DOCTOR_NAME, SPECIALIZATION, PATIENT_NAME}),
    ("admin", "/admin/appointments" + q, {SEARCH}),
    ("admin", "/admin/audit", {LOGIN_EMAIL, DOCTOR_NAME, PATIENT_NAME}),
    ("admin", "/admin/audit" + q, {SEARCH}),
    ("admin", "/booking/appointments/{appointment}/reschedule", {DOCTOR_NAME, PATIENT_NAME}),
    ("anonymous", f"/auth/login?next={xss(SEARCH)}", set()),  # URL-encoded into the form action
    ("anonymous", f"/nowhere/{xss(SEARCH)}", set()),  # the 404 page
]


@pytest.mark.parametrize(("who", "path", "shown"), PAGES, ids=lambda v: str(v)[:50])
def test_pages_show_typed_script_escaped(clinic, who, path, shown):
    check(clinic[who].get(path.format(**clinic)), shown)


def test_a_refused_form_shows_the_typed_value_escaped(clinic):
    response = clinic["anonymous"].post(
        "/auth/login", data={"email": xss(LOGIN_EMAIL), "password": "x" * 9}
    )
    assert response.status_code == 400
    check(response, {LOGIN_EMAIL})


def test_flash_messages_escape_names(clinic):
    response = clinic["admin"].post(
        f"/admin/users/{clinic['doctor_user_id']}/deactivate", follow_redirects=True
    )
    check(response, {DOCTOR_NAME})


def test_charts_are_xml_escaped(clinic):
    response = clinic["admin"].get("/admin/charts/specializations.svg")
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert not RAW.search(svg)
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in svg


def test_csv_is_data_with_the_text_as_typed(clinic):
    response = clinic["admin"].get("/admin/appointments.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "<script>alert(1)</script>" in response.get_data(as_text=True)
