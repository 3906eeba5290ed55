"""Password recovery by email (ASVS V2.5): a signed, short-lived link that works once.

The link carries the account's id and a fingerprint of its current password hash, signed with
SECRET_KEY by itsdangerous (as Flask signs its sessions) and timed. Nothing is stored, so any app
server can check a link; setting a password changes the hash, so the first use ends that link and
every other one sent before it, as does a sign-in that rehashes the password. A link older than
PASSWORD_RESET_MAX_AGE_MINUTES is refused.

Whoever asks, the answer is the same: a link goes out only to an active account's own address, and
the page never says whether there was one.
"""

import hmac
import secrets

from flask import current_app

from app.extensions import db
from app.models import User
from app.services import Conflict, NotFound, notifications
from app.services.accounts import account, find_by_email, normalise_email
from app.services.audit import AuditKind, record
from app.services.passwords import hash_password
from app.services.signed_links import InvalidLink, SignedLink, fingerprint

SALT = "hms.password-reset"
LINKS = SignedLink(SALT, lambda: max_age_minutes() * 60)
# A patient the front desk registered chooses their first password through the same page, with a
# link of its own kind that lasts days, not an hour: it may wait in the mailbox a while.
INVITES = SignedLink("hms.account-invite", lambda: invite_max_age_days() * 86400)
AGAIN = " Enter your email below and we will send a new one."


def max_age_minutes() -> int:
    return current_app.config["PASSWORD_RESET_MAX_AGE_MINUTES"]


def invite_max_age_days() -> int:
    return current_app.config["ACCOUNT_INVITE_MAX_AGE_DAYS"]


def make_token(user: User) -> str:
    return LINKS.make([user.id, fingerprint(user.password_hash)])


def _read(token: str) -> list:
    """A reset link's payload, or an invitation's: both set the account's password."""
    try:
        return LINKS.read(token, (int, str))
    except InvalidLink as not_a_reset:
        try:
            return INVITES.read(token, (int, str))
        except InvalidLink as not_an_invite:
            expired = not_an_invite.message == InvalidLink.EXPIRED
            raise (not_an_invite if expired else not_a_reset) from None


def user_for_token(token: str, *, lock: bool = False) -> User:
    """The active account a link was made for, or InvalidLink (saying how to get a new one)."""
    try:
        user_id, seal = _read(token)
    except InvalidLink as error:
        raise InvalidLink(error.message + AGAIN) from None
    user = db.session.get(User, user_id, with_for_update=lock)
    if (
        user is None
        or not user.active
        or not hmac.compare_digest(fingerprint(user.password_hash), seal)
    ):
        raise InvalidLink(InvalidLink.INVALID + AGAIN)
    return user


def _send_link(user: User) -> None:
    url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/auth/password/reset/"
    notifications.password_reset_link(
        user,
        url + make_token(user),
        valid_for=f"{max_age_minutes()} minutes",
        key=f"password-reset:{user.id}:{secrets.token_hex(8)}",
    )


def send_invite(user: User) -> None:
    """Email a patient the front desk registered, or a front-desk account the administrator
    added, a link to choose their first password."""
    url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/auth/password/reset/"
    days = invite_max_age_days()
    token = INVITES.make([user.id, fingerprint(user.password_hash)])
    invite = notifications.staff_invite if user.is_staff else notifications.account_invite
    invite(user, url + token, valid_for=f"{days} day{'s' * (days != 1)}")


def request_reset(email: str, *, ip_address: str | None = None) -> None:
    """Email a link to the account using `email`, if there is an active one. Every request is in
    the audit trail, with what was found, and none tells the caller anything."""
    user = find_by_email(email)
    if user is not None and user.active:
        _send_link(user)
    record(
        AuditKind.PASSWORD_RESET_REQUESTED,
        actor=user,
        actor_email=normalise_email(email)[:254],
        target=user,
        ip_address=ip_address,
        account=None if user is None else ("active" if user.active else "inactive"),
    )


def send_link_for(user_id: int, *, actor: User, ip_address: str | None = None) -> User:
    """The front desk sends a link to an account's own address (it never learns the password).
    A front-desk account serves patients and doctors: the staff's own accounts are not its to
    touch (NotFound, as the list does not show them)."""
    user = account(user_id)
    if actor.is_desk and user.is_staff:
        raise NotFound("That account does not exist.")
    if not user.active:
        raise Conflict(f"{user.email} is deactivated: reactivate it before sending a reset link.")
    _send_link(user)
    record(
        AuditKind.PASSWORD_RESET_REQUESTED,
        actor=actor,
        target=user,
        ip_address=ip_address,
        account="active",
        by=actor.role.value,
    )
    return user


def reset(token: str, new_password: str, *, ip_address: str | None = None) -> User:
    """Set the password a link was sent for and end every session of that account. The row is
    locked first, so two uses of one link at once give one reset: the second finds the hash
    changed."""
    user = user_for_token(token, lock=True)
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    record(AuditKind.PASSWORD_RESET, actor=user, target=user, ip_address=ip_address)
    notifications.password_changed(user)
    return user
