"""Brute force: the limits on sign-in, sign-up and booking changes hit 429 and recover.

The suite runs with rate limits off; these tests build an app with them on. Flask-Limiter keeps
one `Limiter` for every app of the process (its `enabled` flag and storage are the extension
object's), so the fixture switches it back off afterwards, and each new app starts with a fresh
in-memory storage. That storage reads `time.time()`, so time-machine moves its windows.
"""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app import create_app
from app.blueprints.booking import BOOKING_CHANGES_LIMIT
from app.blueprints.main.doctors import PUBLIC_PAGES_LIMIT
from app.extensions import db, limiter
from app.models import Appointment, OutboxMessage
from app.services import attendance, calendar_feed
from app.timeutil import utcnow
from config import TestingConfig
from tests.conftest import IsolatedClient
from tests.factories import PASSWORD
from tests.helpers import url_rules
from tests.integration.test_two_step import turn_on

LOGIN_PER_ACCOUNT, LOGIN_PER_IP, SIGNUPS_PER_IP = 5, 20, 10
CALENDAR_FEED_PER_HOUR = 30
ATTENDANCE_POSTS_PER_HOUR = 20
TWO_STEP_CODES_PER_HOUR = 10
BOOKING_CHANGES = int(BOOKING_CHANGES_LIMIT.split()[0])
PUBLIC_PAGES_PER_MINUTE = int(PUBLIC_PAGES_LIMIT.split()[0])
MINUTE = timedelta(seconds=61)


@pytest.fixture
def limited(app, database_url):
    """An app with rate limits on, as in production (same database as `app`)."""
    limited_app = create_app(
        TestingConfig, {"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True}
    )
    limited_app.test_client_class = IsolatedClient
    yield limited_app
    limiter.enabled = False  # the shared Limiter would otherwise limit the suite's other apps


@pytest.fixture
def clock():
    with time_machine.travel(utcnow(), tick=False) as traveller:
        yield traveller


def client_at(app, ip: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def login(app, ip: str, email: str, password: str = "wrong password!"):
    return client_at(app, ip).post("/auth/login", data={"email": email, "password": password})


def assert_limited(response, says: str = "Too many attempts") -> None:
    """The 429 page of app/errors.py, telling the person to wait, with Retry-After. A form sent
    too often speaks of attempts; pages read too often, of requests."""
    assert response.status_code == 429
    assert says in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0


def test_login_is_limited_per_account_from_any_ip(limited, make, clock):
    make.user(email="target@example.com")
    for n in range(LOGIN_PER_ACCOUNT):
        assert login(limited, f"10.0.0.{n + 1}", "target@example.com").status_code == 400

    assert_limited(login(limited, "10.0.1.1", "TARGET@example.com"))
    # Even the right password waits: the lock is on the account, not on wrong guesses.
    assert_limited(login(limited, "10.0.1.2", "target@example.com", PASSWORD))
    assert login(limited, "10.0.1.3", "other@example.com").status_code == 400

    clock.shift(MINUTE)
    assert login(limited, "10.0.1.4", "target@example.com", PASSWORD).status_code == 302


def test_login_is_limited_per_ip_across_accounts(limited, make, clock):
    make.user(email="real@example.com")
    for n in range(LOGIN_PER_IP):
        assert login(limited, "192.0.2.7", f"guess{n}@example.com").status_code == 400

    assert_limited(login(limited, "192.0.2.7", "real@example.com", PASSWORD))
    assert login(limited, "192.0.2.8", "someone@example.com").status_code == 400

    clock.shift(MINUTE)
    assert login(limited, "192.0.2.7", "real@example.com", PASSWORD).status_code == 302


def test_signup_is_limited_per_ip(limited, db, clock):
    form = {
        "full_name": "New Patient",
        "password": "a long unusual passphrase",
        "confirm_password": "a long unusual passphrase",
    }
    for n in range(SIGNUPS_PER_IP):
        response = client_at(limited, "198.51.100.1").post(
            "/auth/signup/patient", data={**form, "email": f"new{n}@example.com"}
        )
        assert response.status_code == 302
    extra = {**form, "email": "one.more@example.com"}

    assert_limited(client_at(limited, "198.51.100.1").post("/auth/signup/patient", data=extra))
    assert client_at(limited, "198.51.100.2").get("/auth/signup/patient").status_code == 200

    clock.shift(timedelta(hours=1, seconds=1))
    response = client_at(limited, "198.51.100.1").post("/auth/signup/patient", data=extra)
    assert response.status_code == 302


RESETS_PER_ACCOUNT, RESETS_PER_IP = 5, 20


def ask_reset(app, ip: str, email: str):
    return client_at(app, ip).post("/auth/password/forgot", data={"email": email})


def test_reset_links_are_limited_per_address_so_nobody_floods_a_mailbox(limited, make, clock, db):
    make.user(email="victim@example.com")
    for n in range(RESETS_PER_ACCOUNT):
        assert ask_reset(limited, f"10.1.0.{n + 1}", "victim@example.com").status_code == 302

    assert_limited(ask_reset(limited, "10.1.1.1", "Victim@example.com"))
    assert ask_reset(limited, "10.1.1.1", "other@example.com").status_code == 302
    sent = select(func.count(OutboxMessage.id)).where(
        OutboxMessage.idempotency_key.like("password-reset:%")
    )
    assert db.session.scalar(sent) == RESETS_PER_ACCOUNT

    clock.shift(timedelta(hours=1, seconds=1))
    assert ask_reset(limited, "10.1.1.2", "victim@example.com").status_code == 302


def test_reset_requests_are_limited_per_ip(limited, clock, db):
    for n in range(RESETS_PER_IP):
        assert ask_reset(limited, "192.0.2.50", f"guess{n}@example.com").status_code == 302

    assert_limited(ask_reset(limited, "192.0.2.50", "one.more@example.com"))
    assert ask_reset(limited, "192.0.2.51", "one.more@example.com").status_code == 302

    clock.shift(timedelta(hours=1, seconds=1))
    assert ask_reset(limited, "192.0.2.50", "one.more@example.com").status_code == 302


EMAIL_CHANGES_PER_USER = 10


def test_email_change_links_are_limited_per_user(limited, make, login_as, clock):
    """Each request mails a stranger's address: a script cannot use the form to spam."""
    user = make.patient().user

    def ask(client, n: int):
        data = {"new_email": f"new{n}@example.com", "current_password": PASSWORD}
        return client.post("/auth/email", data=data)

    client = login_as(client_at(limited, "203.0.113.9"), user)
    for n in range(EMAIL_CHANGES_PER_USER):
        assert ask(client, n).headers["Location"] == "/patient/"
    assert_limited(ask(client, 99))
    elsewhere = login_as(client_at(limited, "203.0.113.10"), user)
    assert_limited(ask(elsewhere, 98))  # per person, not per address

    clock.shift(timedelta(hours=1, seconds=1))
    client = login_as(client_at(limited, "203.0.113.9"), user)  # idle timeout: a new session
    assert ask(client, 100).headers["Location"] == "/patient/"


BOOKING_POSTS = sorted(
    rule.rule
    for rule in url_rules()
    if rule.endpoint.startswith("booking.") and "POST" in rule.methods
)


def spend_booking_budget(client) -> None:
    """Use up the shared budget with harmless requests (cancelling appointments that do not
    exist: 404, but each attempt counts)."""
    for n in range(BOOKING_CHANGES):
        assert client.post(f"/booking/appointments/{900_000 + n}/cancel").status_code == 404


def test_booking_changes_are_limited_per_user_and_recover(limited, make, login_as, clock, db):
    patient, neighbour = make.patient(), make.patient()  # behind the same IP
    slot = make.slot(start_at=(utcnow() + timedelta(days=2)).replace(minute=0, microsecond=0))
    client = login_as(client_at(limited, "203.0.113.5"), patient.user)
    other = login_as(client_at(limited, "203.0.113.5"), neighbour.user)
    spend_booking_budget(client)

    assert_limited(client.post(f"/booking/slots/{slot.id}"))
    assert db.session.scalar(select(func.count(Appointment.id))) == 0
    assert client.get(f"/booking/slots/{slot.id}").status_code == 200  # pages stay readable
    assert other.post("/booking/appointments/900000/cancel").status_code == 404

    clock.shift(MINUTE)
    assert client.post(f"/booking/slots/{slot.id}").status_code == 302
    assert db.session.scalar(select(func.count(Appointment.id))) == 1


@pytest.mark.parametrize("rule", BOOKING_POSTS)
def test_every_booking_change_shares_the_budget(limited, make, login_as, rule):
    patient = make.patient()
    client = login_as(client_at(limited, "203.0.113.9"), patient.user)
    spend_booking_budget(client)

    url = rule.split("<")[0] + "1" + rule.split(">", 1)[1]
    assert_limited(client.post(url))


def test_a_calendar_feed_is_limited_per_address_not_per_ip(limited, make, clock):
    """Calendar providers fetch everybody's feeds from a few servers: one address is limited,
    its neighbours behind the same IP are not."""
    with limited.test_request_context():
        first, second = make.patient().user, make.patient().user
        for user in (first, second):
            calendar_feed.renew(user)
        db.session.commit()
        paths = [f"/calendar/{calendar_feed.token(user)}.ics" for user in (first, second)]
    provider = client_at(limited, "192.0.2.50")
    for _ in range(CALENDAR_FEED_PER_HOUR):
        assert provider.get(paths[0]).status_code == 200

    assert_limited(provider.get(paths[0]), "Too many requests")
    assert provider.get(paths[1]).status_code == 200

    clock.shift(timedelta(hours=1, seconds=1))
    assert provider.get(paths[0]).status_code == 200


def test_the_public_directory_is_limited_per_ip_across_its_pages(limited, make, clock):
    """Anyone may read the directory without signing in; a scraper walking it hits one budget
    for the search and the doctors' pages, and another address is not held up."""
    doctor_page = f"/doctors/{make.doctor().id}"
    scraper = client_at(limited, "203.0.113.9")
    for n in range(PUBLIC_PAGES_PER_MINUTE):
        path = doctor_page if n % 2 else f"/doctors?q=a&page={n}"
        assert scraper.get(path).status_code == 200, n

    assert_limited(scraper.get(doctor_page), "Too many requests")
    page = scraper.get("/doctors")
    assert_limited(page, "Too many requests")
    assert "attempts" not in page.get_data(as_text=True)  # nobody was trying anything
    assert client_at(limited, "203.0.113.10").get("/doctors").status_code == 200

    clock.shift(MINUTE)
    assert scraper.get(doctor_page).status_code == 200


def test_the_reminders_attendance_link_is_limited_per_ip(limited, make, clock):
    """Whoever holds a link may press its button, but not without end: past the limit the page
    answers 429, then recovers."""
    with limited.test_request_context():
        link = f"/attendance/{attendance.make_token(make.appointment())}"
    phone = client_at(limited, "198.51.100.7")
    for _ in range(ATTENDANCE_POSTS_PER_HOUR):
        assert phone.post(link).status_code == 302

    assert_limited(phone.post(link))
    assert phone.get(link).status_code == 200  # reading it is not limited

    clock.shift(timedelta(hours=1, seconds=1))
    assert phone.post(link).status_code == 302


def test_closing_an_account_is_limited_per_user_as_it_checks_the_password(
    limited, make, login_as, clock
):
    patient = make.patient()
    client = login_as(client_at(limited, "203.0.113.20"), patient.user)
    for _ in range(10):
        wrong = client.post("/patient/account/close", data={"current_password": "a guess"})
        assert wrong.status_code == 400

    assert_limited(client.post("/patient/account/close", data={"current_password": PASSWORD}))

    clock.shift(timedelta(hours=1, seconds=1))
    right = client.post("/patient/account/close", data={"current_password": PASSWORD})
    assert right.status_code == 302


def test_limits_are_off_unless_enabled(app, client, make):
    make.user(email="target@example.com")
    for _ in range(LOGIN_PER_ACCOUNT + 1):
        assert login(app, "10.9.9.9", "target@example.com").status_code == 400


def test_the_code_after_the_password_is_limited_per_account_from_any_ip(limited, make, clock):
    """A million codes, three of them right at any moment: ten guesses an hour per account keep
    a guesser holding the password well under one chance in ten thousand a day."""
    with limited.test_request_context():
        patient = make.patient(user__email="ana@example.com").user
        authenticator, _ = turn_on(patient)
    first = client_at(limited, "203.0.113.30")
    first.post("/auth/login", data={"email": "ana@example.com", "password": PASSWORD})
    for _ in range(TWO_STEP_CODES_PER_HOUR):
        assert first.post("/auth/login/code", data={"code": "000000"}).status_code == 400

    assert_limited(first.post("/auth/login/code", data={"code": authenticator.now()}))
    second = client_at(limited, "198.51.100.30")
    second.post("/auth/login", data={"email": "ana@example.com", "password": PASSWORD})
    assert_limited(second.post("/auth/login/code", data={"code": authenticator.now()}))

    clock.shift(timedelta(hours=1, seconds=1))
    second.post("/auth/login", data={"email": "ana@example.com", "password": PASSWORD})
    right = second.post("/auth/login/code", data={"code": authenticator.now()})
    assert right.status_code == 302 and right.headers["Location"] == "/patient/"
