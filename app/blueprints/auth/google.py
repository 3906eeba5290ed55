"""Connecting Google Calendar: the OAuth authorization-code flow with state, nonce and PKCE.

Every way the flow can fail (consent denied, forged state, an id_token that does not verify, an
error or silence from Google) ends on the user's dashboard with a message, never a 500: the
person can simply try again. Nothing is stored unless Authlib verified everything.
"""

import logging
import secrets
from functools import wraps

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from joserfc.errors import JoseError

from app.blueprints.auth import bp
from app.blueprints.main.routes import dashboard_url
from app.extensions import db
from app.models import Role
from app.security import client_ip, roles_allowed
from app.services import DomainError, google_account

log = logging.getLogger(__name__)

UNREACHABLE = "Google could not be reached. Please try again in a few minutes."
DENIED = "Google Calendar was not connected: access was not granted."
PROVIDER_ERROR = "Google did not complete the connection. Please try again."
EXPIRED = "That Google connection attempt expired or did not start here. Please connect again."
UNVERIFIED = "Google's answer could not be verified, so nothing was connected. Please try again."


def google_feature(view):
    """The routes do not exist while Google is not configured."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not google_account.enabled():
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def _back(message: str, category: str):
    flash(message, category)
    return redirect(dashboard_url(current_user))


@bp.get("/google/connect")
@google_feature
@roles_allowed(Role.DOCTOR, Role.PATIENT)
def google_connect():
    client = google_account.oauth_client()
    try:
        return client.authorize_redirect(
            url_for("auth.google_callback", _external=True),
            nonce=secrets.token_urlsafe(24),
            access_type="offline",
            prompt="consent",
        )
    except (requests.RequestException, RuntimeError, ValueError) as error:
        log.warning("google discovery failed: %s", error)
        return _back(UNREACHABLE, "danger")


@bp.get("/google/callback")
@google_feature
@roles_allowed(Role.DOCTOR, Role.PATIENT)
def google_callback():
    error = request.args.get("error")
    if error:
        log.info("google consent ended with %s for user %s", error, current_user.id)
        return _back(DENIED if error == "access_denied" else PROVIDER_ERROR, "warning")
    client = google_account.oauth_client()
    try:
        token = client.authorize_access_token(claims_options=google_account.id_token_claims())
    except MismatchingStateError:
        return _back(EXPIRED, "danger")
    except requests.RequestException as failure:
        log.warning("google token exchange failed: %s", failure)
        return _back(UNREACHABLE, "danger")
    except (JoseError, ValueError, KeyError) as failure:
        log.warning("google id_token refused for user %s: %r", current_user.id, failure)
        return _back(UNVERIFIED, "danger")
    except AuthlibBaseError as failure:
        log.warning("google token endpoint refused for user %s: %s", current_user.id, failure)
        return _back(PROVIDER_ERROR, "danger")
    userinfo = token.get("userinfo")
    if not userinfo or not userinfo.get("sub"):
        return _back(UNVERIFIED, "danger")
    try:
        google_account.connect(current_user, token, userinfo, ip_address=client_ip())
        db.session.commit()
    except DomainError as refused:
        db.session.rollback()
        return _back(refused.message, "danger")
    return _back("Google Calendar connected. New appointments will appear in it.", "success")


@bp.post("/google/disconnect")
@google_feature
@roles_allowed(Role.DOCTOR, Role.PATIENT)
def google_disconnect():
    try:
        to_revoke = google_account.disconnect(current_user, ip_address=client_ip())
        db.session.commit()
    except DomainError as refused:
        db.session.rollback()
        return _back(refused.message, "info")
    if to_revoke:
        google_account.revoke(to_revoke)  # after commit: no transaction waits on Google
    return _back(
        "Google Calendar disconnected. Events already added stay in your calendar.", "info"
    )
