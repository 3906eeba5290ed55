"""The front desk gives an account a new sign-in email: a lost mailbox, a typo at sign-up."""

import pytest
from sqlalchemy import select

from app.models import AuditEvent, User
from tests.factories import PASSWORD
from tests.helpers import text_of
from tests.integration.outbox_helpers import messages


@pytest.fixture
def desk(client, make, login_as):
    admin = make.admin()
    login_as(client, admin)
    return admin


def change(client, user, email):
    return client.post(f"/admin/users/{user.id}/email", data={"email": email})


def test_the_user_list_leads_to_the_form(client, desk, make):
    """An admin's row links it; a patient's through their details page, a doctor's through
    their profile page."""
    user = make.patient(user__full_name="Grace Hopper", user__email="grace@example.com").user
    doctor = make.doctor().user
    other_admin = make.admin()

    listing = client.get("/admin/users").get_data(as_text=True)
    details = client.get(f"/admin/users/{user.id}/details").get_data(as_text=True)
    profile = client.get(f"/admin/users/{doctor.id}/profile").get_data(as_text=True)
    page = client.get(f"/admin/users/{user.id}/email")

    assert f'href="/admin/users/{other_admin.id}/email"' in listing
    assert f'href="/admin/users/{user.id}/details"' in listing
    assert f'href="/admin/users/{user.id}/email"' in details
    assert f'href="/admin/users/{doctor.id}/profile"' in listing
    assert f'href="/admin/users/{doctor.id}/email"' in profile
    assert page.status_code == 200
    assert "Change the sign-in email of Grace Hopper" in text_of(page)
    assert "grace@example.com" in text_of(page)


def test_the_new_address_signs_in_and_both_addresses_are_told(app, client, desk, make, db):
    user = make.patient(user__full_name="Grace Hopper", user__email="grace@old.example").user

    response = change(client, user, "Grace@New.Example")

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users?q=grace@new.example"
    assert "now signs in with grace@new.example" in text_of(
        client.get(response.headers["Location"])
    )
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "grace@new.example"
    notices = [m.payload for m in messages(db) if m.payload["action"] == "EMAIL_CHANGED"]
    assert sorted(n["to"] for n in notices) == ["grace@new.example", "grace@old.example"]
    assert {n["data"]["new_email"] for n in notices} == {"grace@new.example"}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "account.email_changed"))
    assert (event.actor_id, event.target_id) == (desk.id, user.id)
    assert event.details == {"old": "grace@old.example", "new": "grace@new.example"}
    fresh = app.test_client()
    old = fresh.post("/auth/login", data={"email": "grace@old.example", "password": PASSWORD})
    new = fresh.post("/auth/login", data={"email": "grace@new.example", "password": PASSWORD})
    assert (old.status_code, new.status_code) == (400, 302)


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "This field is required."),
        ("not an address", "Invalid email address."),
        ("taken@example.com", "An account with this email already exists."),
        ("TAKEN@example.com", "An account with this email already exists."),
        ("grace@example.com", "email already"),
    ],
)
def test_a_bad_or_taken_address_is_a_400_next_to_the_field(client, desk, make, db, email, message):
    user = make.patient(user__email="grace@example.com").user
    make.doctor(user__email="taken@example.com")

    response = change(client, user, email)

    assert response.status_code == 400
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert message in text_of(response)
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "grace@example.com"
    assert [m for m in messages(db) if m.payload["action"] == "EMAIL_CHANGED"] == []


def test_a_missing_account_is_a_404(client, desk):
    assert client.get("/admin/users/999999/email").status_code == 404
    assert (
        client.post("/admin/users/999999/email", data={"email": "a@example.com"}).status_code == 404
    )


def test_an_address_can_come_back_more_than_once_and_each_change_is_told(client, desk, make, db):
    """Work address, home address, work again: each change emails both addresses, however often
    one of them has been used before."""
    user = make.patient(user__email="home@example.com").user
    moves = ["work@example.com", "home@example.com", "work@example.com", "home@example.com"]

    assert [change(client, user, email).status_code for email in moves] == [302] * 4

    notices = [m.payload for m in messages(db) if m.payload["action"] == "EMAIL_CHANGED"]
    assert len(notices) == 2 * len(moves)
    assert [n["data"]["new_email"] for n in notices[::2]] == moves
