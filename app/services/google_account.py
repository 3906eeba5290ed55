"""A user's Google account connection: the OAuth client, connecting, disconnecting, revoking.

The authorization-code flow itself (state, nonce, PKCE, id_token checks) is Authlib's; this
module keeps what HMS decides: which scopes, what is stored (tokens encrypted at rest), what the
audit trail says, and that revocation at Google is best effort and happens after commit.
"""

import logging
from datetime import UTC, datetime, timedelta

import requests
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App
from flask import Flask, current_app

from app.models import User
from app.services import DomainError
from app.services.audit import AuditKind, record
from app.services.crypto import DecryptionError, decrypt, encrypt
from app.timeutil import utcnow

log = logging.getLogger(__name__)

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.events"
SCOPES = f"openid email {CALENDAR_SCOPE}"
_EXTENSION = "hms.google_oauth"


class CalendarScopeMissing(DomainError):
    def __init__(self):
        super().__init__(
            "HMS needs permission to manage your calendar events. Please connect again and "
            "allow access to Google Calendar when Google asks."
        )


def init_app(app: Flask) -> None:
    """Give this app its own Authlib client for Google.

    Built directly rather than through the shared `oauth` registry, which caches one client per
    name for the whole process: each app (the test suite builds several, each with its own
    provider) must use its own configuration.
    """
    app.extensions[_EXTENSION] = FlaskOAuth2App(
        FlaskIntegration("google"),
        "google",
        client_id=app.config["GOOGLE_CLIENT_ID"],
        client_secret=app.config.get("GOOGLE_CLIENT_SECRET"),
        server_metadata_url=app.config["GOOGLE_METADATA_URL"],
        client_kwargs={
            "scope": SCOPES,
            "code_challenge_method": "S256",
            "default_timeout": app.config["GOOGLE_HTTP_TIMEOUT"],
        },
    )


def enabled() -> bool:
    return bool(current_app.config.get("GOOGLE_CLIENT_ID")) and _EXTENSION in current_app.extensions


def oauth_client() -> FlaskOAuth2App:
    return current_app.extensions[_EXTENSION]


def metadata() -> dict:
    """The provider's discovery document, fetched once per process (Authlib caches it)."""
    return oauth_client().load_server_metadata()


def id_token_claims() -> dict:
    """What the id_token must say beyond signature, nonce and expiry.

    Authlib checks `iss` by default but only checks `aud` through `azp`; OpenID Connect requires
    our client id in `aud`, so both are spelled out here.
    """
    return {
        "iss": {"essential": True, "value": metadata()["issuer"]},
        "aud": {"essential": True, "value": current_app.config["GOOGLE_CLIENT_ID"]},
    }


def _expiry(token: dict, now: datetime) -> datetime | None:
    if token.get("expires_at"):
        return datetime.fromtimestamp(int(token["expires_at"]), UTC)
    if token.get("expires_in"):
        return now + timedelta(seconds=int(token["expires_in"]))
    return None


def _readable(stored: str | None) -> str | None:
    """A stored token, or None when no configured key opens it (it can only be forgotten)."""
    try:
        return decrypt(stored)
    except DecryptionError:
        return None


def connect(
    user: User,
    token: dict,
    userinfo: dict,
    *,
    ip_address: str | None = None,
    now: datetime | None = None,
) -> None:
    """Store a verified grant on the user, replacing any earlier one.

    Google may let the user untick the calendar permission; without it nothing could be synced,
    so such a grant is refused rather than stored.
    """
    now = now or utcnow()
    granted = token.get("scope")
    if granted is not None and CALENDAR_SCOPE not in granted.split():
        raise CalendarScopeMissing()
    refresh_token = token.get("refresh_token")
    if not refresh_token and user.google_sub == userinfo["sub"]:
        # Google sends a refresh token only on consent; keep the one we have for this account.
        refresh_token = _readable(user.google_refresh_token)
    user.google_sub = userinfo["sub"]
    user.google_email = userinfo.get("email")
    user.google_access_token = encrypt(token.get("access_token"))
    user.google_refresh_token = encrypt(refresh_token)
    user.google_token_expires_at = _expiry(token, now)
    user.google_connected_at = now
    user.google_connection_broken = False
    record(
        AuditKind.GOOGLE_CONNECTED,
        actor=user,
        target=user,
        ip_address=ip_address,
        google_email=user.google_email,
    )


def disconnect(user: User, *, ip_address: str | None = None) -> str | None:
    """Forget the user's grant; returns the token to revoke at Google once this has committed."""
    if not (user.google_connected or user.google_sub):
        raise DomainError("Google Calendar is not connected.")
    to_revoke = _readable(user.google_refresh_token) or _readable(user.google_access_token)
    record(
        AuditKind.GOOGLE_DISCONNECTED,
        actor=user,
        target=user,
        ip_address=ip_address,
        google_email=user.google_email,
    )
    user.google_sub = None
    user.google_email = None
    user.google_access_token = None
    user.google_refresh_token = None
    user.google_token_expires_at = None
    user.google_connected_at = None
    user.google_connection_broken = False
    return to_revoke


def revoke(token: str) -> bool:
    """Ask Google to revoke the grant: best effort, short timeout, never inside a transaction.

    The tokens are already gone from our database; if Google cannot be reached the user can
    still remove HMS from their Google account's permissions.
    """
    try:
        endpoint = metadata().get("revocation_endpoint")
        if not endpoint:
            return False
        response = requests.post(
            endpoint, data={"token": token}, timeout=current_app.config["GOOGLE_HTTP_TIMEOUT"]
        )
    except requests.RequestException as error:
        log.warning("google revocation failed: %s", error)
        return False
    if response.status_code != 200:
        log.warning("google revocation answered %s", response.status_code)
        return False
    return True
