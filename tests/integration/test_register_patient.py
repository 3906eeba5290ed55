"""The front desk registers a caller new to the clinic, then books for them.

Nobody but the patient ever knows the password: the account gets a random one, and the patient
chooses theirs through an emailed invitation that lasts days and works once."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from sqlalchemy import select

from app.models import AuditEvent, OutboxMessage, User
from app.timeutil import utcnow
from tests.helpers import text_of

NEW = "/admin/patients/new"
CALLER = {
    "full_name": "Grace Hopper",
    "email": "Grace@Example.com",
    "phone": "+1 555 0142",
    "date_of_birth": "1960-12-09",
    "emergency_contact": "Vincent, +1 555 0143",
}
PASSWORD = "a passphrase of her own"


@pytest.fixture
def desk(client, make, login_as):
    admin = make.admin(full_name="Olivia Admin")
    login_as(client, admin)
    return admin


def outbox(db, action: str) -> list[dict]:
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    return [m.payload for m in rows if m.payload["action"] == action]


def invite_path(db) -> str:
    [invite] = outbox(db, "ACCOUNT_INVITE")
    return urlsplit(invite["data"]["set_password_url"]).path


def choose(client, path: str):
    return client.post(path, data={"new_password": PASSWORD, "confirm_password": PASSWORD})


def test_the_desk_registers_a_caller_and_goes_on_to_book_for_them(app, client, db, desk):
    assert f'href="{NEW}">Register a patient</a>' in text_of(client.get("/admin/users"))

    response = client.post(NEW, data=CALLER)

    user = db.session.scalars(select(User).where(User.email == "grace@example.com")).one()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/users/{user.id}/book"
    profile = user.patient_profile
    assert (user.full_name, user.phone, user.role.value) == (
        "Grace Hopper",
        "+1 555 0142",
        "patient",
    )
    assert (profile.date_of_birth.isoformat(), profile.emergency_contact) == (
        "1960-12-09",
        "Vincent, +1 555 0143",
    )
    page = text_of(client.get(response.headers["Location"]))
    assert "Grace Hopper is registered" in page and "Book for Grace Hopper" in page
    [invite] = outbox(db, "ACCOUNT_INVITE")
    assert invite["to"] == "grace@example.com"
    assert invite["data"]["valid_for"] == "7 days"
    assert invite["data"]["set_password_url"].startswith(app.config["PUBLIC_BASE_URL"])
    assert outbox(db, "SIGNUP_WELCOME") == []  # the invitation is her welcome
    signup = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "signup")).one()
    assert (signup.actor_id, signup.target_id) == (desk.id, user.id)
    assert signup.details == {"role": "patient", "by": "front desk"}


def test_the_patient_chooses_a_password_from_the_invitation_days_later(client, db, desk):
    with time_machine.travel(utcnow(), tick=False) as clock:
        client.post(NEW, data=CALLER)
        path = invite_path(db)
        client.post("/auth/logout")
        clock.shift(timedelta(days=6, hours=23))  # a reset link would have expired long ago

        assert client.get(path).status_code == 200
        assert choose(client, path).status_code == 302
        signed_in = client.post(
            "/auth/login", data={"email": "grace@example.com", "password": PASSWORD}
        )
        # her first sign-in ever: not "Welcome back"
        assert "Welcome, Grace Hopper." in text_of(client.get("/patient/"))
        client.post("/auth/logout")
        client.post("/auth/login", data={"email": "grace@example.com", "password": PASSWORD})
        assert "Welcome back, Grace Hopper." in text_of(client.get("/patient/"))

    assert signed_in.status_code == 302
    again = choose(client, path)
    assert again.status_code == 400  # it worked once
    assert "already been used" in text_of(again)


def test_an_invitation_expires(client, db, desk):
    with time_machine.travel(utcnow(), tick=False) as clock:
        client.post(NEW, data=CALLER)
        path = invite_path(db)
        client.post("/auth/logout")
        clock.shift(timedelta(days=7, minutes=1))
        expired = choose(client, path)

    assert expired.status_code == 400
    assert "This link has expired" in text_of(expired)
    assert "send a new one" in text_of(expired)  # "Forgot your password?" takes over


def test_an_address_that_has_an_account_is_refused_next_to_the_field(client, db, make, desk):
    make.patient(user__email="grace@example.com")

    response = client.post(NEW, data=CALLER)

    assert response.status_code == 400
    assert "An account with this email already exists." in text_of(response)
    assert 'id="email-error"' in text_of(response)
    assert outbox(db, "ACCOUNT_INVITE") == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "", "This field is required."),
        ("email", "not an address", "Invalid email address."),
        ("date_of_birth", "2999-01-01", "cannot be in the future"),
        ("phone", "call me", "Digits, spaces"),
    ],
)
def test_bad_details_are_400_next_to_their_field(client, db, desk, field, value, message):
    response = client.post(NEW, data={**CALLER, field: value})

    assert response.status_code == 400
    assert message in text_of(response)
    assert f'id="{field}-error"' in text_of(response)
    assert db.session.scalars(select(User).where(User.role == "patient")).all() == []
