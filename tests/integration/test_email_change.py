"""Changing one's own sign-in email: asked with the password, confirmed from the new mailbox."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from sqlalchemy import select

from app.models import AuditEvent, User
from app.timeutil import utcnow
from tests.factories import PASSWORD
from tests.helpers import text_of
from tests.integration.outbox_helpers import messages

NEW = "grace.new@example.org"


@pytest.fixture
def grace(make, client, login_as):
    user = make.patient(user__full_name="Grace Hopper", user__email="grace@example.com").user
    login_as(client, user)
    return user


def ask(client, new_email=NEW, password=PASSWORD):
    return client.post("/auth/email", data={"new_email": new_email, "current_password": password})


def sent(db, action: str) -> list[dict]:
    return [m.payload for m in messages(db) if m.payload["action"] == action]


def link(db) -> str:
    return urlsplit(sent(db, "EMAIL_CHANGE_CONFIRM")[-1]["data"]["confirm_url"]).path


def email_of(db, user) -> str:
    db.session.expire_all()
    return db.session.get(User, user.id).email


def test_every_signed_in_page_of_settings_leads_to_it(client, grace):
    for page in ("/patient/profile", "/auth/password"):
        assert 'href="/auth/email"' in client.get(page).get_data(as_text=True), page
    form = client.get("/auth/email")
    assert form.status_code == 200
    assert "grace@example.com" in text_of(form)


def test_the_new_address_gets_a_link_and_nothing_changes_until_it_is_used(client, db, grace):
    response = ask(client, "Grace.New@Example.org")

    assert response.status_code == 302
    assert f"We have sent a link to {NEW}" in text_of(client.get(response.headers["Location"]))
    [confirm] = sent(db, "EMAIL_CHANGE_CONFIRM")
    assert confirm["to"] == NEW
    assert confirm["data"]["valid_for"] == "24 hours"
    assert email_of(db, grace) == "grace@example.com"
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.kind == "account.email_change_requested")
    )
    assert event.details == {"new": NEW}

    page = client.get(link(db))
    assert page.status_code == 200
    assert f"you will sign in with <strong>{NEW}</strong>" in text_of(page)
    assert email_of(db, grace) == "grace@example.com"  # opening it changes nothing


def test_confirming_switches_the_sign_in_and_tells_both_addresses(app, client, db, grace):
    ask(client)
    path = link(db)

    response = app.test_client().post(path)  # opened on a phone where nobody is signed in

    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert email_of(db, grace) == NEW
    assert {p["to"] for p in sent(db, "EMAIL_CHANGED")} == {"grace@example.com", NEW}
    fresh = app.test_client()
    old = fresh.post("/auth/login", data={"email": "grace@example.com", "password": PASSWORD})
    new = fresh.post("/auth/login", data={"email": NEW, "password": PASSWORD})
    assert (old.status_code, new.status_code) == (400, 302)
    assert client.get("/patient/").status_code == 200  # this browser's session goes on
    again = client.post(path)
    assert again.status_code == 400
    assert "already been used" in text_of(again)


@pytest.mark.parametrize(
    ("new_email", "password", "field", "message"),
    [
        (NEW, "wrong password", "current_password", "Your current password is not correct."),
        ("grace@example.com", PASSWORD, "new_email", "That is the email you already sign in with."),
        ("taken@example.com", PASSWORD, "new_email", "An account with this email already exists."),
        ("not an address", PASSWORD, "new_email", "Invalid email address."),
        ("", PASSWORD, "new_email", "This field is required."),
    ],
)
def test_bad_requests_are_400_next_to_the_field(
    client, db, grace, make, new_email, password, field, message
):
    make.doctor(user__email="taken@example.com")

    response = ask(client, new_email, password)

    assert response.status_code == 400
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert message in text_of(response)
    assert sent(db, "EMAIL_CHANGE_CONFIRM") == []


def test_an_address_taken_before_the_link_is_opened_is_a_409(client, db, grace, make):
    ask(client)
    make.patient(user__email=NEW)

    response = client.post(link(db))

    assert response.status_code == 409
    assert "An account with this email already exists." in text_of(response)
    assert email_of(db, grace) == "grace@example.com"


def test_a_password_reset_meanwhile_ends_the_link(app, client, db, grace):
    ask(client)
    path = link(db)
    client.post(
        "/auth/password",
        data={
            "current_password": PASSWORD,
            "new_password": "another long passphrase",
            "confirm_password": "another long passphrase",
        },
    )

    assert client.post(path).status_code == 400
    assert email_of(db, grace) == "grace@example.com"


def test_the_link_expires(app, client, db, grace):
    with time_machine.travel(utcnow(), tick=False) as clock:
        ask(client)
        path = link(db)
        clock.shift(timedelta(hours=25))
        response = app.test_client().get(path)

    assert response.status_code == 400
    assert "This link has expired." in text_of(response)


@pytest.mark.parametrize("token", ["garbage", "a" * 600], ids=["garbage", "long"])
def test_a_broken_link_is_a_clear_400(client, token):
    response = client.get(f"/auth/email/confirm/{token}")

    assert response.status_code == 400
    assert 'href="/auth/email"' in response.get_data(as_text=True)


def test_a_password_reset_link_is_no_email_link(app, client, db, grace):
    """Each kind of link has its own salt: a reset token cannot confirm an address."""
    from app.services import password_reset

    with app.test_request_context():
        token = password_reset.make_token(grace)

    assert client.get(f"/auth/email/confirm/{token}").status_code == 400
