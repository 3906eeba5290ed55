"""Password recovery by email (ASVS V2.5): ask, receive a link, choose a new password.

The link is read from the outbox row the request wrote, as the email service would send it.
"""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db as _db
from app.models import AuditEvent, OutboxMessage, User
from app.services import password_reset
from app.services.audit import AuditKind
from app.services.signed_links import InvalidLink
from app.timeutil import utcnow
from tests.factories import PASSWORD
from tests.integration.outbox_helpers import messages
from tests.integration.races import run_together

NEW_PASSWORD = "a brand new passphrase"
SAME_ANSWER = "a link to set a new password is on its way"


def emails(db, action: str) -> list[OutboxMessage]:
    return [m for m in messages(db) if m.payload["action"] == action]


def ask(client, email: str):
    return client.post("/auth/password/forgot", data={"email": email})


def link_path(db) -> str:
    """The path of the newest reset link, from the email queued for it."""
    [*_, message] = emails(db, "PASSWORD_RESET")
    return urlsplit(message.payload["data"]["reset_url"]).path


def choose(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return client.post(
        path, data={"new_password": password, "confirm_password": confirm or password}
    )


def sign_in(client, email: str, password: str):
    return client.post("/auth/login", data={"email": email, "password": password})


def audit(db, kind: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.kind == kind)))


def test_the_sign_in_page_leads_to_the_form(client, db):
    page = client.get("/auth/login").get_data(as_text=True)
    assert 'href="/auth/password/forgot"' in page

    form = client.get("/auth/password/forgot")
    assert form.status_code == 200
    assert 'name="email"' in form.get_data(as_text=True)


def test_an_account_gets_a_link_that_sets_a_new_password(app, client, db, make):
    user = make.patient(user__email="grace@example.com", user__full_name="Grace Hopper").user

    response = ask(client, "Grace@Example.com")

    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert SAME_ANSWER in client.get("/auth/login").get_data(as_text=True)
    [message] = emails(db, "PASSWORD_RESET")
    assert message.payload["to"] == "grace@example.com"
    data = message.payload["data"]
    assert data["full_name"] == "Grace Hopper"
    assert data["valid_for"] == "60 minutes"
    assert data["reset_url"].startswith(app.config["PUBLIC_BASE_URL"] + "/auth/password/reset/")
    [requested] = audit(db, AuditKind.PASSWORD_RESET_REQUESTED)
    assert (requested.actor_id, requested.target_id) == (user.id, user.id)
    assert requested.details == {"account": "active"}

    page = client.get(link_path(db))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "grace@example.com" in html
    assert 'autocomplete="username"' in html

    done = choose(client, link_path(db))

    assert done.status_code == 302
    assert done.headers["Location"] == "/auth/login"
    assert sign_in(client, "grace@example.com", PASSWORD).status_code == 400
    assert sign_in(client, "grace@example.com", NEW_PASSWORD).status_code == 302
    [reset] = audit(db, AuditKind.PASSWORD_RESET)
    assert reset.actor_id == user.id


def test_opening_the_link_changes_nothing(client, db, make):
    user = make.patient().user
    ask(client, user.email)
    before = (user.password_hash, user.session_version)

    client.get(link_path(db))
    client.get(link_path(db))

    db.session.refresh(user)
    assert (user.password_hash, user.session_version) == before
    assert audit(db, AuditKind.PASSWORD_RESET) == []


@pytest.mark.parametrize("case", ["unknown", "deactivated"])
def test_the_answer_never_tells_whether_an_account_exists(client, db, make, case):
    real = make.patient(user__email="real@example.com").user
    if case == "deactivated":
        gone = make.patient(user__email="gone@example.com", user__active=False).user
        email = gone.email
    else:
        email = "nobody@example.com"

    asked_real = ask(client, real.email)
    flashed_real = client.get("/auth/login").get_data(as_text=True)
    asked_other = ask(client, email)
    flashed_other = client.get("/auth/login").get_data(as_text=True)

    assert asked_other.status_code == asked_real.status_code == 302
    assert asked_other.headers["Location"] == asked_real.headers["Location"]
    assert flashed_other.replace(email, "X") == flashed_real.replace(real.email, "X")
    assert [m.payload["to"] for m in emails(db, "PASSWORD_RESET")] == [real.email]
    recorded = audit(db, AuditKind.PASSWORD_RESET_REQUESTED)
    assert recorded[-1].actor_email == email
    assert recorded[-1].details == ({"account": "inactive"} if case == "deactivated" else {})


def test_a_malformed_address_is_a_field_error(client, db):
    response = ask(client, "not an address")

    assert response.status_code == 400
    assert "Invalid email address" in response.get_data(as_text=True)
    assert messages(db) == []


def test_the_new_password_meets_the_usual_rules(client, db, make):
    user = make.patient().user
    ask(client, user.email)
    path = link_path(db)

    short = choose(client, path, "short")
    common = choose(client, path, "password123")
    mismatch = choose(client, path, NEW_PASSWORD, "another passphrase")

    assert [r.status_code for r in (short, common, mismatch)] == [400, 400, 400]
    assert "Use between 8 and 128 characters." in short.get_data(as_text=True)
    assert "too common" in common.get_data(as_text=True)
    assert "The passwords do not match." in mismatch.get_data(as_text=True)
    assert sign_in(client, user.email, PASSWORD).status_code == 302  # unchanged


def test_a_link_works_once_and_ends_the_links_sent_before_it(client, db, make):
    user = make.patient().user
    with time_machine.travel(utcnow(), tick=False) as clock:
        ask(client, user.email)
        first = link_path(db)
        clock.shift(timedelta(minutes=5))
        ask(client, user.email)
        second = link_path(db)
        assert first != second

        assert choose(client, second).status_code == 302

        for used in (first, second):
            for response in (client.get(used), choose(client, used, "yet another passphrase")):
                assert response.status_code == 400
                html = response.get_data(as_text=True)
                assert "not valid, or it has already been used" in html
                assert 'action="/auth/password/forgot"' in html  # and a way to ask again
        assert sign_in(client, user.email, NEW_PASSWORD).status_code == 302


def test_a_link_expires(app, client, db, make):
    user = make.patient().user
    with time_machine.travel(utcnow(), tick=False) as clock:
        ask(client, user.email)
        path = link_path(db)
        clock.shift(timedelta(minutes=59))
        assert client.get(path).status_code == 200

        clock.shift(timedelta(minutes=2))
        expired = choose(client, path)

    assert expired.status_code == 400
    assert "This link has expired" in expired.get_data(as_text=True)
    assert sign_in(client, user.email, PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "token",
    ["garbage", "a" * 200, "WzEsImFiYyJd.aBcDeF.forged"],
    ids=["garbage", "long", "forged"],
)
def test_a_broken_link_is_a_clear_400(client, db, make, token):
    make.patient()
    response = client.get(f"/auth/password/reset/{token}")

    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_an_overlong_link_is_not_found(client, db):
    assert client.get("/auth/password/reset/" + "a" * 201).status_code == 404


def test_a_link_for_another_key_or_account_shape_is_refused(app, client, db, make):
    from itsdangerous import URLSafeTimedSerializer

    user = make.patient().user
    with app.test_request_context():
        good = password_reset.make_token(user)
    wrong_key = URLSafeTimedSerializer("another key", salt=password_reset.SALT)
    wrong_salt = URLSafeTimedSerializer(app.secret_key, salt="another purpose")
    odd_shape = URLSafeTimedSerializer(app.secret_key, salt=password_reset.SALT)
    fingerprint = good  # any string: the shape is what is wrong below

    for token in (
        wrong_key.dumps([user.id, "x"]),
        wrong_salt.dumps([user.id, "x"]),
        odd_shape.dumps({"id": user.id}),
        odd_shape.dumps(["1", fingerprint]),
        odd_shape.dumps([user.id + 1000, fingerprint]),
    ):
        assert client.get(f"/auth/password/reset/{token}").status_code == 400, token


def test_an_account_deactivated_after_asking_cannot_use_its_link(client, db, make):
    user = make.patient().user
    ask(client, user.email)
    user.active = False
    db.session.commit()

    assert choose(client, link_path(db)).status_code == 400
    db.session.refresh(user)
    assert audit(db, AuditKind.PASSWORD_RESET) == []


def test_a_reset_signs_out_every_session_of_the_account(client, db, make, login_as, app):
    user = make.patient().user
    elsewhere = login_as(app.test_client(), user)
    assert elsewhere.get("/patient/").status_code == 200
    ask(client, user.email)

    choose(client, link_path(db))

    assert elsewhere.get("/patient/").status_code == 302


def test_a_signed_in_browser_is_signed_out_by_the_reset(client, db, make, login_as):
    """Whoever was signed in on this browser: after a reset it signs in afresh."""
    someone = make.doctor().user
    user = make.patient().user
    login_as(client, someone)
    ask(client, user.email)

    assert choose(client, link_path(db)).status_code == 302

    assert client.get("/doctor/").status_code == 302


def test_the_owner_is_told_whenever_the_password_changes(client, db, make, login_as, app):
    user = make.patient(user__email="owner@example.com").user
    ask(client, user.email)
    choose(client, link_path(db))
    signed_in = login_as(app.test_client(), user)
    signed_in.post(
        "/auth/password",
        data={
            "current_password": NEW_PASSWORD,
            "new_password": "the third passphrase",
            "confirm_password": "the third passphrase",
        },
    )

    notices = emails(db, "PASSWORD_CHANGED")
    assert [m.payload["to"] for m in notices] == ["owner@example.com"] * 2
    assert len({m.idempotency_key for m in notices}) == 2
    data = notices[0].payload["data"]
    assert data["help_phone"] == app.config["CLINIC_PHONE"]
    assert data["login_url"] == app.config["PUBLIC_BASE_URL"] + "/auth/login"
    assert "(UTC)" in data["changed_display"]


def test_the_change_password_page_offers_the_link(client, db, make, login_as):
    login_as(client, make.patient().user)

    page = client.get("/auth/password").get_data(as_text=True)

    assert 'href="/auth/password/forgot"' in page


def test_the_front_desk_can_send_a_link_but_never_sees_it(client, db, make, login_as):
    admin = make.admin()
    user = make.patient(user__email="caller@example.com").user
    login_as(client, admin)
    listing = client.get("/admin/users").get_data(as_text=True)
    assert f'action="/admin/users/{user.id}/password-reset"' in listing

    response = client.post(f"/admin/users/{user.id}/password-reset")

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "emailed to caller@example.com" in page
    [message] = emails(db, "PASSWORD_RESET")
    assert message.payload["to"] == "caller@example.com"
    assert message.payload["data"]["reset_url"] not in page
    [event] = audit(db, AuditKind.PASSWORD_RESET_REQUESTED)
    assert (event.actor_id, event.target_id) == (admin.id, user.id)
    assert event.details == {"account": "active", "by": "admin"}


def test_the_front_desk_cannot_send_a_link_to_a_deactivated_account(client, db, make, login_as):
    login_as(client, make.admin())
    gone = make.patient(user__active=False).user

    response = client.post(f"/admin/users/{gone.id}/password-reset")
    missing = client.post("/admin/users/999999/password-reset")

    assert response.status_code == 409
    assert "reactivate it" in response.get_data(as_text=True)
    assert missing.status_code == 404
    assert messages(db) == []


@pytest.mark.postgres
def test_one_link_used_in_eight_tabs_at_once_sets_one_password(race_app, db, make):
    """The row lock: each use waits for the one before it, then finds the hash changed."""
    user = make.patient().user
    version = user.session_version
    with race_app.test_request_context():
        token = password_reset.make_token(user)

    def attempt(i: int, barrier) -> str:
        with race_app.test_request_context():
            try:
                barrier.wait()
                try:
                    password_reset.reset(token, f"passphrase number {i}")
                    _db.session.commit()
                    return f"set {i}"
                except InvalidLink:
                    _db.session.rollback()
                    return "refused"
            finally:
                _db.session.remove()

    results = run_together(8, attempt)

    winners = [r for r in results if r != "refused"]
    assert len(winners) == 1, results
    db.session.expire_all()
    assert db.session.get(User, user.id).session_version == version + 1
    assert (
        sign_in(
            race_app.test_client(), user.email, winners[0].replace("set", "passphrase number")
        ).status_code
        == 302
    )
    assert len(audit(db, AuditKind.PASSWORD_RESET)) == 1
