"""Password rules as ASVS 4.0.3 V2.1 asks: long passphrases welcome and never truncated, any
characters, no composition rules, common passwords refused, the current password asked for.

test_auth.py has the rest: the 12..128 bounds on sign-up, a common password on sign-up, a wrong
current password, other sessions ending after a change.
"""

import pytest
from sqlalchemy import func, select

from app.models import User
from tests.factories import PASSWORD

# Lower-case words only: no digits, capitals or symbols are demanded (ASVS 2.1.9).
WORDS = "quiet harbour lanterns drift over sleeping orchards "


def exact(length: int) -> str:
    text = (WORDS * (length // len(WORDS) + 1))[:length]
    return text[:-1] + "s"  # no trailing space: what is typed is what is stored


def sign_up(client, password: str, email: str = "long@example.com"):
    return client.post(
        "/auth/signup/patient",
        data={
            "full_name": "Long Passphrase",
            "email": email,
            "password": password,
            "confirm_password": password,
        },
    )


def sign_in(client, email: str, password: str):
    return client.post("/auth/login", data={"email": email, "password": password})


@pytest.mark.parametrize("length", [64, 128])
def test_long_passphrases_are_accepted_and_never_truncated(app, db, length):
    password = exact(length)
    assert len(password) == length
    client = app.test_client()

    assert sign_up(client, password).status_code == 302
    client.post("/auth/logout")

    for prefix in {password[:-1], password[:56], password[:72]} - {password}:
        # 72 bytes: where bcrypt would have cut it; 56 and one short for good measure
        assert sign_in(app.test_client(), "long@example.com", prefix).status_code == 400
    assert sign_in(app.test_client(), "long@example.com", password).status_code == 302


@pytest.mark.parametrize(
    "password",
    [
        "quiet harbour lanterns",  # lower-case words and spaces only
        "abcdefgk",  # eight letters, the minimum (ASVS 5.0 6.2.1), nothing else asked
        "Ünïcödé pässwörd ☂ 雨傘",  # any printable Unicode (ASVS 2.1.4)
    ],
)
def test_no_composition_rules(client, db, password):
    assert sign_up(client, password).status_code == 302
    assert db.session.scalar(select(func.count(User.id))) == 1


@pytest.mark.parametrize("password", ["password", "Password1", "qwerty123", "iloveyou", "1qaz2wsx"])
def test_common_passwords_are_refused_at_sign_up_whatever_their_case(client, db, password):
    response = sign_up(client, password)

    assert response.status_code == 400
    assert "too common" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == 0


def change(client, current: str, new: str, confirm: str | None = None):
    return client.post(
        "/auth/password",
        data={
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("football", "too common"),
        ("Sunshine1", "too common"),
        ("seven c", "between 8 and 128"),
        ("x" * 129, "between 8 and 128"),
    ],
)
def test_a_new_password_meets_the_same_rules(client, db, make, login_as, new, message):
    user = make.user()
    old_hash = user.password_hash
    login_as(client, user)

    response = change(client, PASSWORD, new)

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == old_hash


def test_password_change_asks_for_the_current_password(client, db, make, login_as):
    user = make.user()
    old_hash = user.password_hash
    login_as(client, user)

    missing = change(client, "", exact(128))

    assert missing.status_code == 400
    assert 'id="current_password-error"' in missing.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == old_hash


def test_password_change_tells_password_managers_whose_password_it_is(client, db, make, login_as):
    user = make.user(email="grace@example.com")
    login_as(client, user)

    page = client.get("/auth/password").get_data(as_text=True)

    username = page.split('autocomplete="username"')[0].rsplit("<input", 1)[1]
    assert "name=" not in username  # shown to password managers, never posted
    assert 'value="grace@example.com"' in page.split('autocomplete="username"')[1].split(">")[0]


def test_password_change_accepts_a_128_character_passphrase(app, client, db, make, login_as):
    user = make.user(email="changer@example.com")
    login_as(client, user)
    new = exact(128)

    assert change(client, PASSWORD, new).status_code == 302

    assert sign_in(app.test_client(), "changer@example.com", PASSWORD).status_code == 400
    assert sign_in(app.test_client(), "changer@example.com", new).status_code == 302


class CountingHasher:
    """Stands in for the argon2 hasher and counts the expensive calls."""

    def __init__(self, real):
        self.real, self.calls = real, []

    def hash(self, password):
        self.calls.append("hash")
        return self.real.hash(password)

    def verify(self, stored, password):
        self.calls.append("verify")
        return self.real.verify(stored, password)


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("known@example.com", PASSWORD),
        ("known@example.com", "wrong password"),
        ("nobody@example.com", "wrong password"),
    ],
)
def test_every_sign_in_costs_one_argon2_call_so_timing_tells_nothing(
    client, make, monkeypatch, email, password
):
    """An unknown email must not answer faster than a known one (account enumeration)."""
    from app.services import passwords

    make.user(email="known@example.com")
    counting = CountingHasher(passwords._hasher())
    monkeypatch.setattr(passwords, "_hasher", lambda: counting)

    sign_in(client, email, password)

    assert len(counting.calls) == 1
