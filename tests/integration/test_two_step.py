"""Two-step sign-in: after the password, a code from an authenticator (or a single-use recovery
code); set up with a QR code and a first code, turned off with the password or by the front desk,
and compulsory for the roles the clinic names."""

import re
from datetime import timedelta

import pyotp
import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models import AuditEvent, RecoveryCode, User
from app.services import crypto, two_step
from app.services.audit import AuditKind
from app.timeutil import utcnow
from tests.factories import PASSWORD
from tests.integration.outbox_helpers import messages
from tests.integration.races import run_together
from tests.integration.security_world import snapshot
from tests.integration.test_fuzz_forms import FAST, HOSTILE, without_failed_logins

CODES = re.compile(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>")


def turn_on(user: User) -> tuple[pyotp.TOTP, list[str]]:
    """Two-step sign-in on for `user`, as the set-up page leaves it: the authenticator and the
    recovery codes."""
    secret = pyotp.random_base32()
    user.two_step_secret = crypto.encrypt(secret)
    user.two_step_enabled_at = utcnow()
    codes = two_step._new_recovery_codes(user)
    _db.session.commit()
    return pyotp.TOTP(secret), codes


def setup_page(client) -> tuple[str, str, str]:
    """(page text, secret, setup token) of the set-up page."""
    response = client.get("/auth/two-step")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    secret = re.search(r'id="setup-key">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    token = re.search(r'name="setup_token" type="hidden" value="([^"]+)"', html).group(1)
    return html, secret, token


def said(response) -> str:
    """The page's text with its line breaks and indents as single spaces."""
    return " ".join(response.get_data(as_text=True).split())


def sign_in(client, email: str, password: str = PASSWORD, **extra):
    return client.post("/auth/login", data={"email": email, "password": password, **extra})


def audit(kind: str) -> list[AuditEvent]:
    return _db.session.scalars(select(AuditEvent).where(AuditEvent.kind == kind)).all()


def emails(action: str) -> list:
    return [m for m in messages(_db) if m.payload["action"] == action]


def test_setting_it_up_turns_it_on_ends_other_sessions_and_gives_recovery_codes(
    app, client, login_as, make
):
    doctor = make.doctor(user__email="lin@example.com").user
    login_as(client, doctor)
    elsewhere = login_as(app.test_client(), doctor)
    html, secret, token = setup_page(client)
    assert "<svg" in html and "QR code to scan" in html
    authenticator = pyotp.TOTP(secret)

    wrong_code = client.post(
        "/auth/two-step",
        data={"setup_token": token, "code": "000000", "current_password": PASSWORD},
    )
    wrong_password = client.post(
        "/auth/two-step",
        data={"setup_token": token, "code": authenticator.now(), "current_password": "nope nope"},
    )
    assert wrong_code.status_code == 400 and "That code is not right" in said(wrong_code)
    assert wrong_password.status_code == 400
    assert "current password is not correct" in said(wrong_password)
    assert secret.replace(" ", "") in wrong_password.get_data(as_text=True).replace(" ", "")
    _db.session.refresh(doctor)
    assert not doctor.two_step_enabled

    response = client.post(
        "/auth/two-step",
        data={"setup_token": token, "code": authenticator.now(), "current_password": PASSWORD},
    )

    assert response.status_code == 200
    codes = CODES.findall(response.get_data(as_text=True))
    assert len(codes) == 10 == len(set(codes))
    _db.session.refresh(doctor)
    assert doctor.two_step_enabled
    assert secret not in doctor.two_step_secret and crypto.decrypt(doctor.two_step_secret) == secret
    stored = _db.session.scalars(select(RecoveryCode.digest)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert client.get("/doctor/").status_code == 200  # this session goes on
    assert elsewhere.get("/doctor/").status_code == 302  # the others end
    assert len(audit(AuditKind.TWO_STEP_ENABLED)) == 1
    (email,) = emails("TWO_STEP_ENABLED")
    assert email.payload["to"] == "lin@example.com"
    assert "Two-step sign-in is <strong>on</strong>" in said(client.get("/auth/two-step"))


def test_a_second_set_up_of_the_same_account_is_refused(client, login_as, make):
    doctor = make.doctor().user
    login_as(client, doctor)
    _, secret, token = setup_page(client)
    authenticator = pyotp.TOTP(secret)
    data = {"setup_token": token, "code": authenticator.now(), "current_password": PASSWORD}
    assert client.post("/auth/two-step", data=data).status_code == 200

    again = client.post("/auth/two-step", data=data)  # the browser's "send it again"

    assert again.status_code == 302
    assert "already on" in said(client.get(again.headers["Location"]))
    assert len(emails("TWO_STEP_ENABLED")) == 1


def test_a_set_up_page_left_open_too_long_or_of_another_account_is_refused(client, login_as, make):
    doctor, other = make.doctor().user, make.patient().user
    login_as(client, other)
    _, _, others_token = setup_page(client)
    login_as(client, doctor)
    _, secret, token = setup_page(client)
    code = pyotp.TOTP(secret).now()

    foreign = client.post(
        "/auth/two-step",
        data={"setup_token": others_token, "code": code, "current_password": PASSWORD},
    )
    with time_machine.travel(utcnow() + timedelta(minutes=16), tick=False):
        late = client.post(
            "/auth/two-step",
            data={
                "setup_token": token,
                "code": pyotp.TOTP(secret).now(),
                "current_password": PASSWORD,
            },
        )

    assert foreign.status_code == 400 and "belongs to another account" in said(foreign)
    assert late.status_code == 400 and "open more than 15 minutes" in said(late)
    assert "<svg" in late.get_data(as_text=True)  # a new QR code to scan
    _db.session.refresh(doctor)
    assert not doctor.two_step_enabled


def test_signing_in_asks_for_the_code_after_the_password(client, make):
    patient = make.patient(user__email="ana@example.com").user
    authenticator, _ = turn_on(patient)

    response = sign_in(client, "ana@example.com")

    assert response.status_code == 302 and response.headers["Location"] == "/auth/login/code"
    assert client.get("/patient/").status_code == 302  # not signed in yet
    assert audit(AuditKind.LOGIN_SUCCESS) == []
    page = client.get("/auth/login/code")
    assert page.status_code == 200 and "Signing in as <strong>ana@example.com</strong>" in said(
        page
    )

    wrong = client.post("/auth/login/code", data={"code": "123456"})
    assert wrong.status_code == 400 and "That code is not right" in said(wrong)
    (failure,) = audit(AuditKind.LOGIN_FAILURE)
    assert failure.details == {"reason": "two_step"} and failure.actor_id == patient.id

    right = client.post("/auth/login/code", data={"code": authenticator.now()})

    assert right.status_code == 302 and right.headers["Location"] == "/patient/"
    assert client.get("/patient/").status_code == 200
    (success,) = audit(AuditKind.LOGIN_SUCCESS)
    assert success.details == {"second_step": "code"}
    _db.session.refresh(patient)
    assert patient.last_login_at is not None


def test_a_code_signs_in_once(app, make):
    patient = make.patient(user__email="ana@example.com").user
    authenticator, _ = turn_on(patient)
    code = authenticator.now()
    first, second = app.test_client(), app.test_client()
    sign_in(first, "ana@example.com")
    sign_in(second, "ana@example.com")

    assert first.post("/auth/login/code", data={"code": code}).status_code == 302
    replayed = second.post("/auth/login/code", data={"code": code})

    assert replayed.status_code == 400
    assert second.get("/patient/").status_code == 302


def test_a_recovery_code_signs_in_once_and_says_how_many_are_left(app, make):
    patient = make.patient(user__email="ana@example.com").user
    _, codes = turn_on(patient)
    client = app.test_client()
    sign_in(client, "ana@example.com")

    typed = "  " + codes[3].upper().replace("-", " - ") + " "  # as read out from paper
    response = client.post("/auth/login/code", data={"code": typed}, follow_redirects=True)

    assert response.status_code == 200
    assert "You signed in with a recovery code" in said(response)
    assert "You have 9 left" in said(response)
    assert audit(AuditKind.LOGIN_SUCCESS)[0].details == {"second_step": "recovery_code"}
    again = app.test_client()
    sign_in(again, "ana@example.com")
    assert again.post("/auth/login/code", data={"code": codes[3]}).status_code == 400
    assert again.post("/auth/login/code", data={"code": codes[4]}).status_code == 302


def test_where_the_sign_in_was_going_and_keep_me_signed_in_survive_the_code(client, make):
    patient = make.patient(user__email="ana@example.com").user
    authenticator, _ = turn_on(patient)
    client.post(
        "/auth/login?next=/patient/appointments",
        data={"email": "ana@example.com", "password": PASSWORD, "remember": "y"},
    )

    response = client.post("/auth/login/code", data={"code": authenticator.now()})

    assert response.headers["Location"] == "/patient/appointments"
    assert "remember_token=" in response.headers.get("Set-Cookie", "")


def test_an_unsafe_next_is_dropped(client, make):
    patient = make.patient(user__email="ana@example.com").user
    authenticator, _ = turn_on(patient)
    client.post(
        "/auth/login?next=//evil.example/", data={"email": patient.email, "password": PASSWORD}
    )

    response = client.post("/auth/login/code", data={"code": authenticator.now()})

    assert response.headers["Location"] == "/patient/"


def test_the_code_page_needs_a_password_first_and_waits_five_minutes_at_most(client, make):
    patient = make.patient(user__email="ana@example.com").user
    authenticator, _ = turn_on(patient)

    straight_in = client.post("/auth/login/code", data={"code": authenticator.now()})
    assert straight_in.status_code == 302 and straight_in.headers["Location"] == "/auth/login"

    sign_in(client, "ana@example.com")
    with time_machine.travel(utcnow() + timedelta(minutes=6), tick=False):
        late = client.post(
            "/auth/login/code", data={"code": pyotp.TOTP(authenticator.secret).now()}
        )
    assert late.headers["Location"] == "/auth/login"
    assert client.get("/patient/").status_code == 302


def test_a_password_change_meanwhile_ends_the_half_finished_sign_in(client, make):
    patient = make.patient(user__email="ana@example.com").user
    authenticator, _ = turn_on(patient)
    sign_in(client, "ana@example.com")
    patient.session_version += 1  # the owner reset the password from another device
    _db.session.commit()

    response = client.post("/auth/login/code", data={"code": authenticator.now()})

    assert response.headers["Location"] == "/auth/login"


def test_a_wrong_password_never_reaches_the_code(client, make):
    patient = make.patient(user__email="ana@example.com").user
    turn_on(patient)

    response = sign_in(client, "ana@example.com", "not the password")

    assert response.status_code == 400
    assert client.get("/auth/login/code").headers["Location"] == "/auth/login"


def test_turning_it_off_needs_the_password_and_tells_the_owner(client, login_as, make):
    doctor = make.doctor(user__email="lin@example.com").user
    turn_on(doctor)
    login_as(client, doctor)

    wrong = client.post("/auth/two-step/off", data={"current_password": "not it at all"})
    assert wrong.status_code == 400 and "current password is not correct" in said(wrong)
    assert _db.session.get(User, doctor.id).two_step_enabled

    response = client.post("/auth/two-step/off", data={"current_password": PASSWORD})

    assert response.status_code == 302
    _db.session.refresh(doctor)
    assert not doctor.two_step_enabled and doctor.two_step_secret is None
    assert _db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    (email,) = emails("TWO_STEP_DISABLED")
    assert "changed_by" not in email.payload["data"]
    assert (
        sign_in(client.application.test_client(), "lin@example.com").headers["Location"]
        == "/doctor/"
    )


def test_new_recovery_codes_replace_the_old_ones(app, client, login_as, make):
    patient = make.patient(user__email="ana@example.com").user
    _, old = turn_on(patient)
    login_as(client, patient)
    page = client.get("/auth/two-step").get_data(as_text=True)
    assert "You have <strong>10</strong>" in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), ids  # two password fields, each its own label

    response = client.post("/auth/two-step/recovery-codes", data={"current_password": PASSWORD})

    assert response.status_code == 200
    new = CODES.findall(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    other = app.test_client()
    sign_in(other, "ana@example.com")
    assert other.post("/auth/login/code", data={"code": old[0]}).status_code == 400
    assert other.post("/auth/login/code", data={"code": new[0]}).status_code == 302
    assert len(audit(AuditKind.TWO_STEP_RECOVERY_CODES)) == 1


def test_the_front_desk_turns_it_off_for_a_caller_who_lost_their_phone(client, login_as, make):
    admin = make.admin()
    patient = make.patient(user__full_name="Ana Lima", user__email="ana@example.com").user
    turn_on(patient)
    turn_on(admin)
    login_as(client, admin)
    users = client.get("/admin/users").get_data(as_text=True)
    assert "Two-step" in users and f"/admin/users/{patient.id}/two-step/off" in users
    assert f"/admin/users/{admin.id}/two-step/off" not in users

    response = client.post(f"/admin/users/{patient.id}/two-step/off")

    assert response.status_code == 302
    assert "Two-step sign-in is off for ana@example.com" in said(
        client.get(response.headers["Location"])
    )
    _db.session.refresh(patient)
    assert not patient.two_step_enabled
    (event,) = audit(AuditKind.TWO_STEP_DISABLED)
    assert event.actor_id == admin.id and event.details == {"by": "front desk"}
    (email,) = emails("TWO_STEP_DISABLED")
    assert email.payload["to"] == "ana@example.com"
    assert email.payload["data"]["changed_by"] == "the clinic's front desk, at your request"
    assert client.post(f"/admin/users/{patient.id}/two-step/off").status_code == 409
    assert client.post(f"/admin/users/{admin.id}/two-step/off").status_code == 409
    assert client.post("/admin/users/999999/two-step/off").status_code == 404


def test_roles_the_clinic_names_set_it_up_before_anything_else(
    app, client, login_as, make, monkeypatch
):
    monkeypatch.setitem(app.config, "TWO_STEP_REQUIRED_ROLES", frozenset({"admin"}))
    admin = make.admin()
    doctor = make.doctor().user
    login_as(client, admin)

    for response in (client.get("/admin/"), client.post("/admin/closures", data={})):
        assert response.status_code == 303
        assert response.headers["Location"] == "/auth/two-step"
    page = client.get("/auth/two-step")
    assert page.status_code == 200
    assert "The clinic asks accounts like yours to use two-step sign-in" in said(page)
    assert login_as(app.test_client(), doctor).get("/doctor/").status_code == 200

    _, secret, token = setup_page(client)
    client.post(
        "/auth/two-step",
        data={"setup_token": token, "code": pyotp.TOTP(secret).now(), "current_password": PASSWORD},
    )
    assert client.get("/admin/").status_code == 200
    assert client.post("/auth/logout").status_code == 302


@pytest.mark.postgres
def test_one_code_sent_from_eight_tabs_at_once_signs_in_once(race_app, db, make):
    """The conditional UPDATE of the last time step: only one request moves it."""
    patient = make.patient().user
    authenticator, _ = turn_on(patient)
    code, patient_id = authenticator.now(), patient.id

    def attempt(i: int, barrier) -> str:
        with race_app.test_request_context():
            user = _db.session.get(User, patient_id)
            try:
                barrier.wait()
                try:
                    two_step.verify(user, code)
                    _db.session.commit()
                    return "in"
                except two_step.WrongCode:
                    _db.session.commit()
                    return "refused"
            finally:
                _db.session.remove()

    results = run_together(8, attempt)

    assert results.count("in") == 1, results
    db.session.expire_all()
    assert len(audit(AuditKind.LOGIN_SUCCESS)) == 1
    assert len(audit(AuditKind.LOGIN_FAILURE)) == 7


def test_fuzzing_the_code_never_breaks_the_server_or_signs_in(app, make):
    patient = make.patient(user__email="ana@example.com").user
    _, codes = turn_on(patient)
    typed = st.one_of(
        st.sampled_from(HOSTILE), st.text(max_size=40), st.integers().map(str), st.just(codes[0])
    )

    @FAST
    @given(code=st.one_of(typed, st.lists(typed, min_size=2, max_size=3)))
    def post_one(code):
        client = app.test_client()
        sign_in(client, "ana@example.com")
        before = snapshot()
        response = client.post("/auth/login/code", data={"code": code})

        assert response.status_code in (302, 400), response.status_code
        if response.status_code == 400:
            assert without_failed_logins(snapshot()) == without_failed_logins(before)
            assert client.get("/patient/").status_code == 302

    post_one()


def test_the_qr_code_holds_a_standard_address_naming_the_clinic_and_the_account(app, make):
    doctor = make.doctor(user__email="lin@example.com").user
    with app.test_request_context():
        setup = two_step.begin(doctor)

    parsed = pyotp.parse_uri(setup.uri)

    assert setup.uri.startswith("otpauth://totp/")
    assert (parsed.secret, parsed.issuer, parsed.name) == (
        setup.secret,
        app.config["CLINIC_NAME"],
        "lin@example.com",
    )
    assert (parsed.digits, parsed.interval) == (6, 30)
    assert len(setup.secret) == 32  # 160 bits, RFC 4226's recommendation


def test_a_secret_no_key_opens_fails_like_a_wrong_code_and_recovery_codes_still_work(
    app, make, caplog
):
    patient = make.patient(user__email="ana@example.com").user
    authenticator, codes = turn_on(patient)
    patient.two_step_secret = "gAAAA-not-a-token-any-key-opens"  # the key was lost
    _db.session.commit()
    client = app.test_client()
    sign_in(client, "ana@example.com")

    refused = client.post("/auth/login/code", data={"code": authenticator.now()})

    assert refused.status_code == 400
    assert f"two-step secret of user {patient.id} cannot be decrypted" in caplog.text
    assert client.post("/auth/login/code", data={"code": codes[0]}).status_code == 302
