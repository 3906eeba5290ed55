"""Two-step sign-in: after the password, a six-digit code from an authenticator application
(TOTP, RFC 6238, as Google Authenticator, Microsoft Authenticator or 1Password make them), or
one of ten single-use recovery codes when the phone is lost.

A stolen or guessed password alone then opens nothing: the record of every patient an admin or a
doctor can read is what a hospital's accounts protect (ASVS 2.7/2.8, 4.3.1). The clinic can make
it compulsory for some roles (`TWO_STEP_REQUIRED_ROLES`, admins by default in production).

The secret is made when the set-up page is shown and travels in a signed, timed form field until
a first code proves the authenticator holds it; only then is it stored (encrypted). A code is
accepted once: the time step it belongs to is recorded in the same UPDATE that checks it, so two
requests racing with one code cannot both pass.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from app.extensions import db
from app.models import RecoveryCode, User
from app.services import Conflict, DomainError, accounts, crypto, notifications
from app.services.audit import AuditKind, record
from app.services.passwords import verify_password
from app.services.signed_links import InvalidLink, SignedLink
from app.timeutil import utcnow

logger = logging.getLogger(__name__)

RECOVERY_CODES = 10
# The code of the step before and after the current one is accepted too: a phone's clock a
# little off, or a code typed just as it changed.
DRIFT_STEPS = 1
SETUP_MINUTES = 15
_SETUP = SignedLink("hms.two-step-setup", lambda: SETUP_MINUTES * 60)
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


class WrongCode(DomainError):
    def __init__(self):
        super().__init__(
            "That code is not right. Type the six digits your authenticator shows now, or one "
            "of your recovery codes.",
            field="code",
        )


@dataclass(frozen=True)
class Setup:
    """What the set-up page shows: the secret as a QR code and as text, and the signed field
    that carries it to the confirming POST."""

    secret: str
    token: str
    uri: str

    @property
    def qr_svg(self) -> str:
        return segno.make(self.uri, error="m").svg_inline(scale=4)

    @property
    def grouped_secret(self) -> str:
        """In fours, to type by hand into an authenticator that cannot scan."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def required_for(user: User) -> bool:
    """The clinic asks this account's role to use two-step sign-in."""
    return user.role.value in current_app.config["TWO_STEP_REQUIRED_ROLES"]


def begin(user: User, token: str | None = None) -> Setup:
    """A new secret for `user`, or the one a set-up form already carries (a form shown again
    after a wrong code keeps the QR code the phone has scanned)."""
    secret = _setup_secret(user, token) if token else pyotp.random_base32()
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["CLINIC_NAME"]
    )
    return Setup(secret, _SETUP.make([user.id, secret]), uri)


def _setup_secret(user: User, token: str) -> str:
    try:
        user_id, secret = _SETUP.read(token, (int, str))
    except InvalidLink:
        raise DomainError(
            f"The set-up page was open more than {SETUP_MINUTES} minutes. Scan the new QR code "
            "and type the code it gives.",
            field="code",
        ) from None
    if user_id != user.id:
        raise DomainError("This set-up page belongs to another account.", field="code")
    return secret


def enable(
    user: User, token: str, code: str, password: str, *, ip_address: str | None = None
) -> list[str]:
    """Turn two-step sign-in on once a code shows the authenticator holds the secret. Returns
    the recovery codes, to be shown once. Every other session ends: it began with the password
    alone."""
    user = _locked(user)
    if user.two_step_enabled:
        raise Conflict("Two-step sign-in is already on for this account.")
    secret = _setup_secret(user, token)
    _check_password(user, password)
    step = _matching_step(secret, code)
    if step is None:
        raise WrongCode()
    user.two_step_secret = crypto.encrypt(secret)
    user.two_step_enabled_at = utcnow()
    user.two_step_last_step = step
    user.session_version += 1
    codes = _new_recovery_codes(user)
    record(AuditKind.TWO_STEP_ENABLED, actor=user, target=user, ip_address=ip_address)
    notifications.two_step_changed(user, enabled=True, since=user.two_step_enabled_at)
    return codes


def disable(
    user: User,
    password: str | None = None,
    *,
    by: User | None = None,
    ip_address: str | None = None,
) -> None:
    """Turn it off: by its owner with their password, or by the front desk (`by`) for someone
    who lost both their phone and their recovery codes, having checked who is calling. The
    owner is emailed either way."""
    user = _locked(user)
    if not user.two_step_enabled:
        raise Conflict("Two-step sign-in is not on for this account.")
    if by is None:
        _check_password(user, password or "")
    since = user.two_step_enabled_at
    user.two_step_secret = None
    user.two_step_enabled_at = None
    user.two_step_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record(
        AuditKind.TWO_STEP_DISABLED,
        actor=by or user,
        target=user,
        ip_address=ip_address,
        by="front desk" if by is not None else None,
    )
    notifications.two_step_changed(user, enabled=False, since=since, by_desk=by is not None)


def turn_off_for(user_id: int, *, actor: User, ip_address: str | None = None) -> User:
    """The front desk's button, for a caller who lost their phone and their recovery codes."""
    user = accounts.account(user_id)
    if user.id == actor.id:
        raise Conflict("Turn your own two-step sign-in off from your account, with your password.")
    disable(user, by=actor, ip_address=ip_address)
    return user


def new_recovery_codes(user: User, password: str, *, ip_address: str | None = None) -> list[str]:
    """A new set of ten; the old ones stop working."""
    user = _locked(user)
    if not user.two_step_enabled:
        raise Conflict("Two-step sign-in is not on for this account.")
    _check_password(user, password)
    codes = _new_recovery_codes(user)
    record(AuditKind.TWO_STEP_RECOVERY_CODES, actor=user, target=user, ip_address=ip_address)
    return codes


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def verify(user: User, code: str, *, ip_address: str | None = None) -> str:
    """The second step of signing in. Returns how it was passed ("code" or "recovery_code"),
    having recorded the sign-in; a wrong code is recorded as a failed one and raises."""
    typed = "".join(code.split()).lower()
    how = None
    if len(typed) == 6 and typed.isdigit():
        step = _matching_step(_secret(user), typed)
        if step is not None and _claim_step(user, step):
            how = "code"
    elif _claim_recovery_code(user, typed):
        how = "recovery_code"
    if how is None:
        record(
            AuditKind.LOGIN_FAILURE,
            actor=user,
            actor_email=user.email,
            ip_address=ip_address,
            reason="two_step",
        )
        raise WrongCode()
    accounts.signed_in(user, ip_address=ip_address, second_step=how)
    return how


def _locked(user: User) -> User:
    """The account's row, locked and read afresh: of two changes at once (a double click, two
    tabs, two front-desk staff), the second sees what the first did."""
    return db.session.get(User, user.id, with_for_update=True, populate_existing=True)


def _secret(user: User) -> str | None:
    """The account's TOTP secret, or None when no configured key opens it (TOKEN_ENCRYPTION_KEY
    changed without keeping the old key): its codes then fail like wrong ones, its recovery codes
    (digests, not encrypted) still work, and the operator is told."""
    try:
        return crypto.decrypt(user.two_step_secret)
    except crypto.DecryptionError:
        logger.error(
            "two-step secret of user %s cannot be decrypted: check TOKEN_ENCRYPTION_KEY", user.id
        )
        return None


def _check_password(user: User, password: str) -> None:
    if not verify_password(user.password_hash, password):
        raise DomainError("Your current password is not correct.", field="current_password")


def _matching_step(secret: str | None, code: str) -> int | None:
    """The time step whose code this is, within the drift allowed, or None."""
    code = "".join(code.split())
    if secret is None or len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(utcnow())
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(user: User, step: int) -> bool:
    """Record `step` as used, unless it (or a later one) already was: one statement, so of two
    requests with the same code only one updates the row."""
    claimed = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.two_step_last_step.is_(None), User.two_step_last_step < step),
        )
        .values(two_step_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        user.two_step_last_step = step
    return bool(claimed)


def _claim_recovery_code(user: User, typed: str) -> bool:
    typed = typed.replace("-", "")
    if len(typed) != 10:
        return False
    return bool(
        db.session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.digest == _digest(typed),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        for _ in range(RECOVERY_CODES)
    ]
    db.session.add_all(RecoveryCode(user_id=user.id, digest=_digest(c)) for c in codes)
    db.session.flush()
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
