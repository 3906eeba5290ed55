"""What an account holder can read of their own sign-ins: when, from where, and what changed
in how they sign in, so that they notice use of their account that was not theirs.

It is read from the audit trail, which records every one of these already. Sessions are
signed cookies, not stored, so there is no list of open sessions to show; signing out (or a
new password) ends every one of them, on every device.
"""

from dataclasses import dataclass
from datetime import datetime

from app.models import User
from app.repositories import audit as repo
from app.services.audit import AuditKind

SHOWN = 20

# What each kind says to the account's owner.
WHAT = {
    AuditKind.SIGNUP: "Account created",
    AuditKind.LOGIN_SUCCESS: "Signed in",
    AuditKind.LOGIN_FAILURE: "Sign-in refused",
    AuditKind.LOGOUT: "Signed out, on every device",
    AuditKind.PASSWORD_CHANGED: "Password changed",
    AuditKind.PASSWORD_RESET: "Password set with an emailed link",
    AuditKind.EMAIL_CHANGE_REQUESTED: "New sign-in email asked for",
    AuditKind.ACCOUNT_EMAIL_CHANGED: "Sign-in email changed",
    AuditKind.TWO_STEP_ENABLED: "Two-step sign-in turned on",
    AuditKind.TWO_STEP_DISABLED: "Two-step sign-in turned off",
    AuditKind.TWO_STEP_RECOVERY_CODES: "New recovery codes made",
}
# Why a sign-in was refused, when the trail says.
REFUSED = {
    "two_step": "wrong or used two-step code",
    "inactive": "the account was switched off",
}
EMAILS = (AuditKind.EMAIL_CHANGE_REQUESTED, AuditKind.ACCOUNT_EMAIL_CHANGED)
HOW = {"code": "with a two-step code", "recovery_code": "with a recovery code"}


@dataclass(frozen=True)
class Activity:
    at: datetime
    what: str
    ip_address: str | None
    warning: bool  # worth a second look: a refused sign-in, or a way in changed


def recent(user: User, limit: int = SHOWN) -> list[Activity]:
    """The account's latest sign-ins and sign-in changes, newest first."""
    return [_activity(event, user) for event in repo.about_account(user.id, WHAT, limit)]


def _activity(event, user: User) -> Activity:
    what = WHAT[event.kind]
    if event.actor_id not in (None, user.id):  # the staff, for a caller on the phone
        what += " by an administrator" if event.actor.is_admin else " by the front desk"
    details = event.details or {}
    if event.kind == AuditKind.LOGIN_FAILURE:
        what += f": {REFUSED.get(details.get('reason'), 'wrong password')}"
    elif event.kind == AuditKind.LOGIN_SUCCESS and details.get("second_step") in HOW:
        what += f" {HOW[details['second_step']]}"
    elif details.get("new") and event.kind in EMAILS:
        what += f": {details['new']}"
    warning = event.kind not in (AuditKind.SIGNUP, AuditKind.LOGIN_SUCCESS, AuditKind.LOGOUT)
    return Activity(event.created_at, what, event.ip_address, warning)
