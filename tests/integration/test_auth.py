"""Sign-up, sign-in, sign-out and password changes, through HTTP as a user meets them."""

import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, DoctorProfile, OutboxMessage, PatientProfile, Role, User
from tests.factories import PASSWORD

GOOD_PASSWORD = "a long and unusual passphrase"

DOCTOR_FORM = {
    "full_name": "Dr. Jane Doe",
    "email": "Jane.Doe@Example.com",
    "password": GOOD_PASSWORD,
    "confirm_password": GOOD_PASSWORD,
    "specialization": "Cardiology",
    "years_of_experience": "12",
    "phone": "+44 20 7946 0000",
    "bio": "Heart doctor.",
}
PATIENT_FORM = {
    "full_name": "John Smith",
    "email": "john@example.com",
    "password": GOOD_PASSWORD,
    "confirm_password": GOOD_PASSWORD,
    "date_of_birth": "1990-05-17",
    "phone": "",
    "address": "1 High Street",
    "emergency_contact": "Mary Smith +44 1234",
}


def test_doctor_signup_creates_user_profile_welcome_mail_and_audit(client, db):
    response = client.post("/auth/signup/doctor", data=DOCTOR_FORM)

    assert response.status_code == 302
    assert response.headers["Location"] == "/doctor/"
    user = db.session.scalar(select(User))
    assert user.email == "jane.doe@example.com"
    assert user.role == Role.DOCTOR
    assert user.password_hash.startswith("$argon2id$")
    profile = db.session.scalar(select(DoctorProfile))
    assert (profile.user_id, profile.specialization, profile.years_of_experience) == (
        user.id,
        "Cardiology",
        12,
    )
    message = db.session.scalar(select(OutboxMessage))
    assert message.payload["action"] == "SIGNUP_WELCOME"
    assert message.payload["to"] == "jane.doe@example.com"
    kinds = db.session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)).all()
    assert kinds == ["signup", "login.success"]  # created, then signed in
    # and the new doctor is signed in
    assert "Dr. Jane Doe" in client.get("/doctor/").get_data(as_text=True)


def test_patient_signup_creates_user_and_profile(client, db):
    response = client.post("/auth/signup/patient", data=PATIENT_FORM)

    assert response.status_code == 302
    assert response.headers["Location"] == "/patient/"
    profile = db.session.scalar(select(PatientProfile))
    assert profile.date_of_birth.isoformat() == "1990-05-17"
    assert profile.user.phone is None
    assert "John Smith" in client.get("/patient/").get_data(as_text=True)


def test_signing_in_after_signing_up_is_welcome_back(client, db):
    """Signing up is an account's first sign-in: the next one is a return."""
    client.post("/auth/signup/patient", data=PATIENT_FORM)
    client.post("/auth/logout")

    client.post("/auth/login", data={"email": "john@example.com", "password": GOOD_PASSWORD})

    assert "Welcome back, John Smith." in client.get("/patient/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("url", "base", "field", "value", "message"),
    [
        ("/auth/signup/doctor", DOCTOR_FORM, "full_name", "", "This field is required"),
        ("/auth/signup/doctor", DOCTOR_FORM, "full_name", "x" * 121, "longer than 120"),
        ("/auth/signup/doctor", DOCTOR_FORM, "email", "not-an-email", "Invalid email"),
        ("/auth/signup/doctor", DOCTOR_FORM, "email", "", "This field is required"),
        ("/auth/signup/doctor", DOCTOR_FORM, "password", "short", "between 8 and 128"),
        ("/auth/signup/doctor", DOCTOR_FORM, "password", "x" * 129, "between 8 and 128"),
        ("/auth/signup/doctor", DOCTOR_FORM, "password", "password123", "too common"),
        ("/auth/signup/doctor", DOCTOR_FORM, "confirm_password", "different!!", "do not match"),
        ("/auth/signup/doctor", DOCTOR_FORM, "specialization", "", "This field is required"),
        ("/auth/signup/doctor", DOCTOR_FORM, "years_of_experience", "abc", "Not a valid integer"),
        ("/auth/signup/doctor", DOCTOR_FORM, "years_of_experience", "-1", "between 0 and 70"),
        ("/auth/signup/doctor", DOCTOR_FORM, "phone", "call me <maybe>", "Digits"),
        ("/auth/signup/doctor", DOCTOR_FORM, "bio", "b" * 2001, "2000"),
        ("/auth/signup/patient", PATIENT_FORM, "date_of_birth", "2999-01-01", "future"),
        ("/auth/signup/patient", PATIENT_FORM, "date_of_birth", "17/05/1990", "Not a valid date"),
        ("/auth/signup/patient", PATIENT_FORM, "address", "a" * 301, "300"),
        ("/auth/signup/patient", PATIENT_FORM, "emergency_contact", "e" * 201, "200"),
    ],
)
def test_signup_field_errors_answer_400_next_to_the_field(
    client, db, url, base, field, value, message
):
    response = client.post(url, data={**base, field: value})

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert message in page
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_duplicate_email_is_a_field_error_whatever_its_case(client, db, make):
    make.user(email="john@example.com")

    response = client.post(
        "/auth/signup/patient", data={**PATIENT_FORM, "email": "JOHN@example.com"}
    )

    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == 1


@pytest.mark.parametrize(
    ("role", "dashboard"),
    [(Role.DOCTOR, "/doctor/"), (Role.PATIENT, "/patient/"), (Role.ADMIN, "/admin/")],
)
def test_login_sends_each_role_to_its_dashboard(client, make, role, dashboard):
    user = make.user(role=role, email="who@example.com")

    response = client.post("/auth/login", data={"email": "WHO@example.com", "password": PASSWORD})

    assert response.status_code == 302
    assert response.headers["Location"] == dashboard
    assert user.email in {"who@example.com"}


def test_login_follows_a_safe_next(client, make):
    make.user(email="p@example.com")
    response = client.post(
        "/auth/login?next=/patient/doctors", data={"email": "p@example.com", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/patient/doctors"


@pytest.mark.parametrize(
    "unsafe",
    ["//evil.example", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "evil"],
)
def test_login_ignores_an_unsafe_next(client, make, unsafe):
    make.user(email="p@example.com")
    response = client.post(
        "/auth/login",
        query_string={"next": unsafe},
        data={"email": "p@example.com", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/patient/"


def test_wrong_password_is_refused_with_a_message_and_audited(client, db, make):
    make.user(email="p@example.com")

    response = client.post("/auth/login", data={"email": "p@example.com", "password": "nope-nope"})

    assert response.status_code == 400
    assert "Invalid email or password" in response.get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent))
    assert (event.kind, event.actor_email) == ("login.failure", "p@example.com")
    assert client.get("/patient/").status_code == 302


def test_a_switched_off_account_is_told_whom_to_call_only_with_the_right_password(client, db, make):
    make.user(email="closed@example.com", active=False)

    wrong = client.post("/auth/login", data={"email": "closed@example.com", "password": "x" * 9})
    right = client.post("/auth/login", data={"email": "closed@example.com", "password": PASSWORD})

    assert wrong.status_code == right.status_code == 400
    assert "Invalid email or password" in wrong.get_data(as_text=True)
    assert "This account is closed. To reopen it, call the front desk on +1 555 0100." in (
        right.get_data(as_text=True)
    )
    assert client.get("/patient/").status_code == 302
    reasons = db.session.scalars(
        select(AuditEvent.details).where(AuditEvent.kind == "login.failure")
    ).all()
    assert reasons == [{"reason": "inactive"}, {"reason": "inactive"}]


def test_unknown_email_gets_the_same_message(client, make):
    response = client.post("/auth/login", data={"email": "ghost@example.com", "password": "x" * 9})
    assert response.status_code == 400
    assert "Invalid email or password" in response.get_data(as_text=True)


def test_deactivated_account_cannot_sign_in(client, make):
    make.user(email="gone@example.com", active=False)
    response = client.post("/auth/login", data={"email": "gone@example.com", "password": PASSWORD})
    assert response.status_code == 400


def test_empty_login_form_answers_400(client):
    response = client.post("/auth/login", data={})
    assert response.status_code == 400
    assert 'id="email-error"' in response.get_data(as_text=True)


def test_logout_is_post_only_and_ends_the_session(client, make, login_as):
    login_as(client, make.user())
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/patient/").status_code == 200

    response = client.post("/auth/logout")

    assert response.status_code == 302
    assert client.get("/patient/").status_code == 302


def test_password_change_keeps_this_session_and_ends_the_others(app, client, make, login_as):
    user = make.user(email="p@example.com")
    other_device = app.test_client()
    login_as(other_device, user)
    login_as(client, user)

    response = client.post(
        "/auth/password",
        data={
            "current_password": PASSWORD,
            "new_password": GOOD_PASSWORD,
            "confirm_password": GOOD_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert client.get("/patient/").status_code == 200
    assert other_device.get("/patient/").status_code == 302
    assert client.post("/auth/logout").status_code == 302
    relogin = client.post("/auth/login", data={"email": "p@example.com", "password": GOOD_PASSWORD})
    assert relogin.headers["Location"] == "/patient/"


def test_password_change_needs_the_current_password(client, make, login_as):
    login_as(client, make.user())
    response = client.post(
        "/auth/password",
        data={
            "current_password": "wrong-password",
            "new_password": GOOD_PASSWORD,
            "confirm_password": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 400
    assert "current password is not correct" in response.get_data(as_text=True)


def test_signed_in_user_visiting_signup_goes_to_dashboard(client, make, login_as):
    login_as(client, make.user())
    assert client.get("/auth/signup/doctor").headers["Location"] == "/patient/"
