"""Sessions end when they should, including copies (ASVS 3.3.1, 3.3.3, 3.5.2 by analogy).

Sessions live in signed cookies, so "ending" one means the server refusing the cookie: both the
session cookie and Flask-Login's remember-me cookie carry `User.get_id()` = "<id>:<version>",
and the user loader refuses a version that is not the account's current one. The version moves
at sign-out, password change and deactivation. Each test replays cookies copied beforehand, as
someone who stole them would.

test_auth.py and test_web_security.py cover the rest: this browser signed out, other sessions
ending at a password change, idle and absolute timeouts, the session bound to its client.
"""

from datetime import timedelta

import pytest
import time_machine
from flask_login.utils import decode_cookie

from app.models import User
from app.timeutil import utcnow
from tests.factories import PASSWORD

NEW_PASSWORD = "a long unusual passphrase"
EMAIL = "p@example.com"


def sign_in(app, remember: bool = True):
    client = app.test_client()
    data = {"email": EMAIL, "password": PASSWORD, **({"remember": "y"} if remember else {})}
    assert client.post("/auth/login", data=data).status_code == 302
    return client


def cookies(client) -> dict[str, str]:
    return {name: client.get_cookie(name).value for name in ("session", "remember_token")}


def replay(app, stolen: dict[str, str], only: str | None = None):
    """A fresh browser holding copies of the cookies (or only one of them)."""
    thief = app.test_client()
    for name, value in stolen.items():
        if only in (None, name):
            thief.set_cookie(name, value)
    return thief


def signed_in(client) -> bool:
    return client.get("/patient/").status_code == 200


@pytest.fixture
def user(make):
    return make.user(email=EMAIL)


def test_the_remember_cookie_carries_the_session_version(app, db, user):
    client = sign_in(app)

    assert decode_cookie(cookies(client)["remember_token"]) == f"{user.id}:{user.session_version}"


def test_a_remember_cookie_alone_restores_the_session(app, user):
    stolen = cookies(sign_in(app))

    assert signed_in(replay(app, stolen, only="remember_token"))


def test_a_password_change_ends_copied_session_and_remember_cookies(app, db, user):
    victim = sign_in(app)
    stolen = cookies(victim)
    change = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    assert victim.post("/auth/password", data=change).status_code == 302

    assert not signed_in(replay(app, stolen, only="session"))
    assert not signed_in(replay(app, stolen, only="remember_token"))
    assert signed_in(victim)  # the browser that changed it stays signed in


def test_deactivation_ends_copied_cookies_and_reactivation_does_not_revive_them(
    app, db, make, login_as, user
):
    stolen = cookies(sign_in(app))
    admin = login_as(app.test_client(), make.admin())
    assert admin.post(f"/admin/users/{user.id}/deactivate").status_code == 302

    assert not signed_in(replay(app, stolen, only="session"))
    assert not signed_in(replay(app, stolen, only="remember_token"))

    assert admin.post(f"/admin/users/{user.id}/activate").status_code == 302
    assert not signed_in(replay(app, stolen))


def test_sign_out_ends_copied_session_and_remember_cookies(app, db, user):
    victim = sign_in(app)
    stolen = cookies(victim)
    version = user.session_version

    response = victim.post("/auth/logout")

    assert response.status_code == 302
    assert victim.get_cookie("remember_token") is None  # "keep me signed in" is forgotten
    assert not signed_in(victim)
    assert not signed_in(replay(app, stolen, only="session"))
    assert not signed_in(replay(app, stolen, only="remember_token"))
    db.session.expire_all()
    assert db.session.get(User, user.id).session_version == version + 1


def test_after_sign_out_the_person_can_sign_in_again(app, user):
    sign_in(app).post("/auth/logout")
    assert signed_in(sign_in(app, remember=False))


def test_an_idle_timeout_asks_a_remember_me_user_to_sign_in_again(app, user):
    with time_machine.travel(utcnow(), tick=False) as clock:
        client = sign_in(app)
        clock.shift(timedelta(minutes=app.config["SESSION_IDLE_TIMEOUT_MINUTES"] + 1))

        response = client.get("/patient/")

        assert response.headers["Location"].startswith("/auth/login")
        assert client.get_cookie("remember_token") is None
        assert not signed_in(client)


def test_the_absolute_limit_asks_a_remember_me_user_to_sign_in_again(app, user):
    with time_machine.travel(utcnow(), tick=False) as clock:
        client = sign_in(app)
        for _ in range(app.config["SESSION_ABSOLUTE_TIMEOUT_HOURS"] * 3 + 1):
            clock.shift(timedelta(minutes=20))  # never idle
            response = client.get("/patient/")

        assert response.headers["Location"].startswith("/auth/login")
        assert client.get_cookie("remember_token") is None
        assert not signed_in(client)
