"""Connecting Google Calendar, end to end against the loopback OpenID provider."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from app.blueprints.auth import google as views
from app.extensions import db
from app.models import AuditEvent, Role, User
from app.services.crypto import decrypt
from tests.integration.google_fakes import CLIENT_ID, connect_google, google_app_for

SCOPE = "openid email https://www.googleapis.com/auth/calendar.events"


def start(client) -> str:
    """GET connect; returns the provider URL the user is sent to."""
    response = client.get("/auth/google/connect")
    assert response.status_code == 302
    return response.headers["Location"]


def consent(client, google) -> str:
    """The user's trip to the provider and back: returns the callback URL it redirects to."""
    answer = requests.get(start(client), allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    return answer.headers["Location"]


def flashed(client) -> list[str]:
    """The messages waiting for the next page, taken off the session as a page would."""
    with client.session_transaction() as session:
        return [message for _, message in session.pop("_flashes", [])]


def reload(user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def assert_nothing_stored(user) -> None:
    user = reload(user)
    assert user.google_sub is None
    assert user.google_access_token is None
    assert user.google_refresh_token is None
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "google.connected")) is None
    )


def test_connect_sends_the_user_to_the_provider_with_state_nonce_and_pkce(
    google_client, google, make, login_as
):
    login_as(google_client, make.doctor().user)
    location = urlsplit(start(google_client))
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{google.url}/authorize"
    assert params["client_id"] == CLIENT_ID
    assert params["response_type"] == "code"
    assert params["redirect_uri"] == "http://localhost/auth/google/callback"
    assert params["scope"].split() == SCOPE.split()
    assert params["access_type"] == "offline"
    assert params["prompt"] == "consent"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) >= 43
    assert len(params["state"]) >= 20
    assert len(params["nonce"]) >= 20


@pytest.mark.parametrize(
    ("role", "dashboard"), [(Role.DOCTOR, "/doctor/"), (Role.PATIENT, "/patient/")]
)
def test_the_whole_flow_stores_the_grant_encrypted(
    google_client, google, make, login_as, role, dashboard
):
    user = make.doctor().user if role == Role.DOCTOR else make.patient().user
    login_as(google_client, user)
    google.account = {"sub": "108000000000000000001", "email": "dr.who@gmail.example"}

    response = google_client.get(consent(google_client, google))

    assert response.status_code == 302
    assert response.headers["Location"] == dashboard
    assert "Google Calendar connected" in flashed(google_client)[0]
    issued = google.issued[0]
    user = reload(user)
    assert user.google_sub == "108000000000000000001"
    assert user.google_email == "dr.who@gmail.example"
    for column, plaintext in (
        (user.google_access_token, issued["access_token"]),
        (user.google_refresh_token, issued["refresh_token"]),
    ):
        assert column != plaintext
        assert plaintext not in column
        assert decrypt(column) == plaintext
    assert user.google_token_expires_at > user.google_connected_at
    assert user.google_connection_broken is False
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "google.connected"))
    assert audit.actor_id == user.id
    # The token request proved possession of the PKCE verifier and named the same redirect URI.
    assert google.token_requests[0]["redirect_uri"] == "http://localhost/auth/google/callback"
    assert google.token_requests[0]["code_verifier"]


def test_a_forged_state_is_refused_before_any_token_request(google_client, google, make, login_as):
    user = make.doctor().user
    login_as(google_client, user)
    start(google_client)  # a real attempt is pending in the session; the attacker's is not it
    response = google_client.get("/auth/google/callback?code=stolen&state=forged-state")
    assert response.status_code == 302
    assert response.headers["Location"] == "/doctor/"
    assert flashed(google_client) == [views.EXPIRED]
    assert google.token_requests == []
    assert_nothing_stored(user)


def test_a_callback_without_state_is_refused(google_client, google, make, login_as):
    user = make.patient().user
    login_as(google_client, user)
    response = google_client.get("/auth/google/callback?code=some-code")
    assert response.headers["Location"] == "/patient/"
    assert flashed(google_client) == [views.EXPIRED]
    assert_nothing_stored(user)


def test_a_state_cannot_be_replayed(google_client, google, make, login_as):
    user = make.doctor().user
    login_as(google_client, user)
    callback = consent(google_client, google)
    assert google_client.get(callback).status_code == 302
    assert "Google Calendar connected" in flashed(google_client)[0]
    google_client.get(callback)
    assert flashed(google_client) == [views.EXPIRED]
    assert len(google.token_requests) == 1


@pytest.mark.parametrize(
    "tamper",
    [
        {"nonce": "not-the-nonce-we-sent"},
        {"aud": "someone-elses-client.apps.example"},
        {"aud": "someone-elses-client.apps.example", "azp": CLIENT_ID},
        {"iss": "https://accounts.evil.example"},
        {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
        {"nonce": None},
    ],
    ids=[
        "wrong-nonce",
        "wrong-audience",
        "wrong-audience-right-azp",
        "wrong-issuer",
        "expired",
        "no-nonce",
    ],
)
def test_an_id_token_that_does_not_verify_is_refused(google_client, google, make, login_as, tamper):
    user = make.doctor().user
    login_as(google_client, user)
    google.id_token_overrides = tamper
    response = google_client.get(consent(google_client, google))
    assert response.headers["Location"] == "/doctor/"
    assert flashed(google_client) == [views.UNVERIFIED]
    assert_nothing_stored(user)


def test_an_id_token_signed_with_another_key_is_refused(google_client, google, make, login_as):
    user = make.doctor().user
    login_as(google_client, user)
    google.sign_with_rogue_key = True
    google_client.get(consent(google_client, google))
    assert flashed(google_client) == [views.UNVERIFIED]
    assert_nothing_stored(user)


def test_denied_consent_is_a_message_not_an_error(google_client, google, make, login_as):
    user = make.patient().user
    login_as(google_client, user)
    google.deny = True
    response = google_client.get(consent(google_client, google))
    assert response.status_code == 302
    assert response.headers["Location"] == "/patient/"
    assert flashed(google_client) == [views.DENIED]
    assert google.token_requests == []
    assert_nothing_stored(user)


def test_a_token_endpoint_error_is_a_message(google_client, google, make, login_as):
    user = make.doctor().user
    login_as(google_client, user)
    google.token_error = "invalid_grant"
    response = google_client.get(consent(google_client, google))
    assert response.headers["Location"] == "/doctor/"
    assert flashed(google_client) == [views.PROVIDER_ERROR]
    assert_nothing_stored(user)


def test_a_grant_without_calendar_access_is_refused(google_client, google, make, login_as):
    user = make.doctor().user
    login_as(google_client, user)
    google.granted_scope = "openid email"  # the user unticked the calendar permission
    google_client.get(consent(google_client, google))
    assert "permission to manage your calendar events" in flashed(google_client)[0]
    assert_nothing_stored(user)


def test_an_unreachable_provider_is_a_message(database_url, app, google, make, login_as):
    from tests.integration.google_fakes import closed_port_url

    down = google_app_for(database_url, closed_port_url() + ".well-known/openid-configuration")
    client = down.test_client()
    user = make.doctor().user
    login_as(client, user)
    for url in ("/auth/google/connect", "/auth/google/callback?code=c&state=s"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"] == "/doctor/"
        assert flashed(client) == [views.UNREACHABLE]
    assert_nothing_stored(user)


def test_reconnecting_clears_a_broken_connection(google_client, google, make, login_as):
    user = make.doctor().user
    connect_google(user, sub=google.account["sub"])
    user.google_connection_broken = True
    db.session.commit()
    login_as(google_client, user)
    assert "Reconnect Google Calendar" in google_client.get("/doctor/").get_data(as_text=True)
    google_client.get(consent(google_client, google))
    user = reload(user)
    assert user.google_connection_broken is False
    assert decrypt(user.google_access_token) == google.issued[0]["access_token"]


def test_disconnect_forgets_the_grant_and_revokes_it_at_google(
    google_client, google, make, login_as
):
    user = make.patient().user
    login_as(google_client, user)
    google_client.get(consent(google_client, google))
    refresh_token = google.issued[0]["refresh_token"]

    response = google_client.post("/auth/google/disconnect")

    assert response.status_code == 302
    assert response.headers["Location"] == "/patient/"
    assert google.revoked == [refresh_token]
    user = reload(user)
    assert (user.google_sub, user.google_access_token, user.google_refresh_token) == (None,) * 3
    kinds = db.session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)).all()
    assert kinds[-1] == "google.disconnected"
    page = google_client.get("/patient/").get_data(as_text=True)
    assert "Connect Google Calendar" in page


def test_disconnect_still_forgets_when_google_is_unreachable(database_url, app, make, login_as):
    from tests.integration.google_fakes import closed_port_url

    down = google_app_for(database_url, closed_port_url() + ".well-known/openid-configuration")
    client = down.test_client()
    user = connect_google(make.doctor().user, sub="sub-down")
    login_as(client, user)
    response = client.post("/auth/google/disconnect")
    assert response.status_code == 302
    assert reload(user).google_refresh_token is None


def test_disconnect_when_not_connected_says_so(google_client, make, login_as):
    login_as(google_client, make.doctor().user)
    response = google_client.post("/auth/google/disconnect")
    assert response.status_code == 302
    assert flashed(google_client) == ["Google Calendar is not connected."]
