"""Headers, cookies and session lifetime, asserted on real responses in production configuration."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from sqlalchemy import func, select

from app import create_app
from app.models import Appointment
from app.timeutil import utcnow
from config import ProductionConfig, TestingConfig
from tests.factories import PASSWORD


@pytest.fixture
def production_app(monkeypatch, database_url, app):
    monkeypatch.setenv("SECRET_KEY", "p" * 40)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("EMAIL_SERVICE_SECRET", "e" * 40)
    return create_app(
        ProductionConfig,
        {
            "SECRET_KEY": "p" * 40,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_FAST": True,
            "TRUSTED_HOSTS": ["clinic.example.com"],
        },
    )


BASE = "https://clinic.example.com"


def test_security_headers_in_production(production_app):
    response = production_app.test_client().get("/auth/login", base_url=BASE)

    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


def test_production_cookies_are_secure_httponly_and_lax(production_app, db, make):
    make.user(email="p@example.com")
    client = production_app.test_client()

    response = client.post(
        "/auth/login",
        base_url=BASE,
        data={"email": "p@example.com", "password": PASSWORD, "remember": "y"},
    )

    cookies = {c.split("=")[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        flags = cookies[name].lower()
        assert "secure" in flags and "httponly" in flags and "samesite=lax" in flags, name


def test_untrusted_host_is_refused(production_app):
    response = production_app.test_client().get("/auth/login", base_url="https://evil.example")
    assert response.status_code == 400


def test_signed_in_pages_are_not_cached(app, client, make, login_as):
    login_as(client, make.user())
    assert client.get("/patient/").headers["Cache-Control"] == "no-store"
    anonymous = app.test_client().get("/auth/login")
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")


def _login(client, email):
    return client.post("/auth/login", data={"email": email, "password": PASSWORD})


def test_idle_session_ends(app, client, make):
    make.user(email="p@example.com")
    with time_machine.travel(utcnow(), tick=False) as clock:
        _login(client, "p@example.com")
        assert client.get("/patient/").status_code == 200
        clock.shift(timedelta(minutes=app.config["SESSION_IDLE_TIMEOUT_MINUTES"] - 1))
        assert client.get("/patient/").status_code == 200
        clock.shift(timedelta(minutes=app.config["SESSION_IDLE_TIMEOUT_MINUTES"] + 1))
        response = client.get("/patient/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_a_form_sent_after_the_idle_timeout_is_shown_again_after_signing_in(app, client, db, make):
    # A patient reads the confirmation page for 40 minutes, then confirms: nothing is booked,
    # and signing in again leads back to that page rather than to the dashboard
    make.user(email="p@example.com")
    slot = make.slot(start_at=utcnow().replace(microsecond=0) + timedelta(days=2))
    idle = timedelta(minutes=app.config["SESSION_IDLE_TIMEOUT_MINUTES"] + 10)
    with time_machine.travel(utcnow(), tick=False) as clock:
        _login(client, "p@example.com")
        clock.shift(idle)
        booking = client.post(f"/booking/slots/{slot.id}", data={"notes": ""})
        clock.shift(idle)
        _login(client, "p@example.com")
        clock.shift(idle)
        cancel = client.post("/booking/appointments/1/cancel")  # POST only: nowhere to return

    assert booking.status_code == 302
    assert booking.headers["Location"] == f"/auth/login?next=/booking/slots/{slot.id}"
    assert db.session.scalar(select(func.count(Appointment.id))) == 0
    assert cancel.headers["Location"] == "/auth/login?next=/"


LIST = "http://localhost/patient/appointments?when=past"


@pytest.mark.parametrize(
    ("method", "path", "referrer", "back_to"),
    [
        ("GET", "/patient/doctors?q=ada", None, "/patient/doctors?q=ada"),
        ("POST", "/booking/slots/7", LIST, "/booking/slots/7"),  # the confirmation: book again
        # POST only (a GET there is a 405): back to the page the button was on, if it was ours
        ("POST", "/booking/appointments/7/cancel", LIST, "/patient/appointments?when=past"),
        ("POST", "/booking/appointments/7/cancel", None, "/"),
        ("POST", "/booking/appointments/7/cancel", "https://evil.example/x", "/"),
        ("POST", "/booking/appointments/7/cancel", "http://localhost//evil.example/x", "/"),
    ],
)
def test_signed_out_visitors_come_back_to_a_page_that_answers_get(
    client, db, method, path, referrer, back_to
):
    headers = {"Referer": referrer} if referrer else {}

    response = client.open(path, method=method, headers=headers)

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/auth/login"
    assert parse_qs(location.query)["next"] == [back_to]


def test_the_idle_clock_rewrites_the_cookie_at_most_once_a_minute(app, client, make):
    make.user(email="p@example.com")
    with time_machine.travel(utcnow(), tick=False) as clock:
        _login(client, "p@example.com")
        client.get("/patient/")  # the first page after sign-in stores its CSRF token
        clock.shift(timedelta(seconds=30))
        within = client.get("/patient/")
        clock.shift(timedelta(seconds=31))
        after_a_minute = client.get("/patient/")
    assert within.status_code == after_a_minute.status_code == 200
    assert "session=" not in within.headers.get("Set-Cookie", "")
    assert "session=" in after_a_minute.headers.get("Set-Cookie", "")


def test_absolute_session_limit_ends_even_an_active_session(app, client, make):
    make.user(email="p@example.com")
    with time_machine.travel(utcnow(), tick=False) as clock:
        _login(client, "p@example.com")
        hours = app.config["SESSION_ABSOLUTE_TIMEOUT_HOURS"]
        for _ in range(hours * 3):  # active every 20 minutes, never idle
            clock.shift(timedelta(minutes=20))
            last = client.get("/patient/")
        clock.shift(timedelta(minutes=20))
        after = client.get("/patient/")
    assert last.status_code == 200
    assert after.status_code == 302


def test_session_is_bound_to_the_client_strong_protection(app, make):
    make.user(email="p@example.com")
    client = app.test_client()
    _login(client, "p@example.com")
    assert client.get("/patient/").status_code == 200
    client.environ_base["HTTP_USER_AGENT"] = "a stolen cookie elsewhere"
    assert client.get("/patient/").status_code == 302


def test_login_renews_the_session(app, make):
    make.user(email="p@example.com")
    client = app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    _login(client, "p@example.com")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"]


def test_logout_drops_the_session(app, make):
    make.user(email="p@example.com")
    client = app.test_client()
    _login(client, "p@example.com")
    client.post("/auth/logout")
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_proxy_fix_is_configurable(database_url):
    app = create_app(TestingConfig, {"SQLALCHEMY_DATABASE_URI": database_url, "PROXY_FIX_X_FOR": 1})
    from werkzeug.middleware.proxy_fix import ProxyFix

    assert isinstance(app.wsgi_app, ProxyFix)
