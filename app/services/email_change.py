"""Changing one's own sign-in email: the new address proves itself by a link sent to it.

Asking needs the current password. The link carries the account, the new address and a
fingerprint of the current address and password hash, so it stops working once either changes
(it is used, or the password is reset meanwhile). Until the link is opened nothing changes.
"""

import hmac
import secrets

from flask import current_app

from app.extensions import db
from app.models import User
from app.services import Conflict, DomainError, notifications
from app.services.accounts import EmailTaken, find_by_email, normalise_email, set_email
from app.services.audit import AuditKind, record
from app.services.passwords import verify_password
from app.services.signed_links import InvalidLink, SignedLink, fingerprint

LINKS = SignedLink("hms.email-change", lambda: max_age_hours() * 3600)


def max_age_hours() -> int:
    return current_app.config["EMAIL_CHANGE_MAX_AGE_HOURS"]


def _seal(user: User) -> str:
    return fingerprint(user.email, user.password_hash)


def make_token(user: User, new_email: str) -> str:
    return LINKS.make([user.id, new_email, _seal(user)])


def request_change(
    user: User, new_email: str, current_password: str, *, ip_address: str | None = None
) -> str:
    """Send the confirming link to `new_email`; returns the address as it will be stored."""
    if not verify_password(user.password_hash, current_password):
        raise DomainError("Your current password is not correct.", field="current_password")
    email = normalise_email(new_email)
    if email == user.email:
        raise DomainError("That is the email you already sign in with.", field="new_email")
    if find_by_email(email) is not None:
        raise DomainError(EmailTaken().message, field="new_email")
    url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/auth/email/confirm/"
    notifications.email_change_link(
        user,
        email,
        url + make_token(user, email),
        valid_for=f"{max_age_hours()} hours",
        key=f"email-change:{user.id}:{secrets.token_hex(8)}",
    )
    record(
        AuditKind.EMAIL_CHANGE_REQUESTED, actor=user, target=user, ip_address=ip_address, new=email
    )
    return email


def read(token: str, *, lock: bool = False) -> tuple[User, str]:
    """The account and the new address a link was sent for, or InvalidLink."""
    user_id, email, seal = LINKS.read(token, (int, str, str))
    user = db.session.get(User, user_id, with_for_update=lock)
    if user is None or not user.active or not hmac.compare_digest(_seal(user), seal):
        raise InvalidLink(InvalidLink.INVALID)
    return user, email


def confirm(token: str, *, ip_address: str | None = None) -> User:
    """Make the new address the account's sign-in email; both addresses are told."""
    user, email = read(token, lock=True)
    try:
        set_email(user, email, actor=user, ip_address=ip_address)
    except EmailTaken as error:  # someone signed up with it since the link was sent
        raise Conflict(error.message) from None
    return user
