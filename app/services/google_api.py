"""Calling the Google Calendar API as one connected user, outside any request.

Used by the outbox handlers. Each call reads the user's grant in a short transaction of its
own, talks to Google with no transaction open, and writes back what changed (a refreshed access
token, a broken connection) in another short transaction, only if the user has not reconnected
in the meantime. Failures are sorted into "retry later" and "give up".
"""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

import google_auth_httplib2
import httplib2
import requests
from flask import current_app
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import User
from app.services import google_account
from app.services.crypto import DecryptionError, decrypt, encrypt
from app.services.delivery import PermanentDeliveryError, RetryableDeliveryError

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = {401, 408, 429, 500, 502, 503, 504}
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}


class CalendarPermanentError(PermanentDeliveryError):
    """Retrying cannot help: the grant is revoked, or Google refuses the request itself."""


class CalendarTemporaryError(RetryableDeliveryError):
    """Google is down, slow or rate limiting: try again later."""


@dataclass(frozen=True)
class Account:
    """What the handlers need of a user's grant, read in one short transaction."""

    user_id: int
    sub: str | None
    connected_at: datetime | None
    broken: bool
    access_token: str | None
    refresh_token: str | None
    expires_at: datetime | None

    @property
    def connected(self) -> bool:
        return bool(self.sub and (self.access_token or self.refresh_token))


@contextmanager
def short_transaction() -> Iterator[Session]:
    """A session of its own, whatever the caller (a worker, a request) has open."""
    with Session(db.engine, expire_on_commit=False) as session, session.begin():
        yield session


def load_account(session: Session, user_id: int) -> Account | None:
    user = session.get(User, user_id)
    if user is None:
        return None
    try:
        access_token = decrypt(user.google_access_token)
        refresh_token = decrypt(user.google_refresh_token)
    except DecryptionError:
        log.warning("google tokens of user %s cannot be decrypted", user.id)
        mark_broken(user.id, user.google_connected_at)
        raise CalendarPermanentError("stored Google tokens cannot be decrypted") from None
    return Account(
        user_id=user.id,
        sub=user.google_sub,
        connected_at=user.google_connected_at,
        broken=user.google_connection_broken,
        access_token=access_token,
        refresh_token=refresh_token,
        expires_at=user.google_token_expires_at,
    )


def _same_grant(user_id: int, connected_at: datetime | None):
    """The user's row, as long as they have not reconnected since we read it."""
    return User.id == user_id, User.google_connected_at == connected_at


def mark_broken(user_id: int, connected_at: datetime | None) -> None:
    """Show "reconnect" on the user's dashboard; a newer grant is left alone."""
    with short_transaction() as session:
        session.execute(
            update(User)
            .where(*_same_grant(user_id, connected_at))
            .values(google_connection_broken=True)
        )
    log.warning("google connection of user %s marked broken", user_id)


def _persist_refreshed(account: Account, credentials: Credentials) -> None:
    expiry = credentials.expiry.replace(tzinfo=UTC) if credentials.expiry else None
    values = {"google_access_token": encrypt(credentials.token), "google_token_expires_at": expiry}
    if credentials.refresh_token and credentials.refresh_token != account.refresh_token:
        values["google_refresh_token"] = encrypt(credentials.refresh_token)
    with short_transaction() as session:
        session.execute(
            update(User).where(*_same_grant(account.user_id, account.connected_at)).values(**values)
        )


def api_endpoint() -> str:
    """GOOGLE_CALENDAR_API_URL is the API root; the client wants the service's own base."""
    return urljoin(current_app.config["GOOGLE_CALENDAR_API_URL"], "calendar/v3/")


def status_of(error: HttpError) -> int:
    return int(error.resp.status)


def _reasons(error: HttpError) -> set[str]:
    try:
        details = json.loads(error.content).get("error", {})
    except (ValueError, AttributeError):
        return set()
    return {item.get("reason") for item in details.get("errors", []) if isinstance(item, dict)}


def _classified(error: HttpError) -> Exception:
    status = status_of(error)
    if status in RETRYABLE_STATUSES or (status == 403 and _reasons(error) & RATE_LIMIT_REASONS):
        return CalendarTemporaryError(f"Google Calendar answered {status}")
    return CalendarPermanentError(f"Google Calendar refused the request ({status})")


def _credentials(account: Account) -> Credentials:
    config = current_app.config
    expiry = account.expires_at.astimezone(UTC).replace(tzinfo=None) if account.expires_at else None
    return Credentials(
        token=account.access_token,
        refresh_token=account.refresh_token,
        token_uri=google_account.metadata()["token_endpoint"],
        client_id=config["GOOGLE_CLIENT_ID"],
        client_secret=config.get("GOOGLE_CLIENT_SECRET"),
        expiry=expiry,  # google-auth compares naive UTC datetimes
    )


@contextmanager
def events_api(account: Account, http=None):
    """The `events` resource of the user's Calendar API, with failures sorted.

    `http` is the transport (an httplib2.Http, or googleapiclient's HttpMockSequence in tests);
    token refreshes travel through it too. A refreshed access token is saved encrypted; a grant
    Google no longer honours (`invalid_grant`) marks the connection broken and stops retrying.
    """
    credentials = None
    try:
        credentials = _credentials(account)
        transport = http or httplib2.Http(timeout=current_app.config["GOOGLE_HTTP_TIMEOUT"])
        service = build(
            "calendar",
            "v3",
            http=google_auth_httplib2.AuthorizedHttp(credentials, http=transport),
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": api_endpoint()},
        )
        yield service.events()
    except RefreshError as error:
        if "invalid_grant" in str(error) or not account.refresh_token:
            mark_broken(account.user_id, account.connected_at)
            raise CalendarPermanentError("the Google grant was revoked or expired") from error
        raise CalendarTemporaryError(f"token refresh failed: {error}") from error
    except HttpError as error:
        raise _classified(error) from error
    except (OSError, httplib2.HttpLib2Error, TransportError, requests.RequestException) as error:
        raise CalendarTemporaryError(f"Google could not be reached: {error!r}") from error
    finally:
        if credentials is not None and credentials.token not in (None, account.access_token):
            _persist_refreshed(account, credentials)
