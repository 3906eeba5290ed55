"""A patient closes their own account: a patient who moves away or changes clinic, without
having to call the front desk.

Closing is switching the account off, as the front desk's "deactivate" does, and tidying what
would otherwise keep working for nobody: their booked appointments ahead are cancelled (the
doctors are emailed, the places go to the waitlist), their waitlist places, calendar
subscription and Google connection go. Their record stays: the clinic must keep it, and the
front desk can reopen the account. Doctors leave through the front desk, which decides what
happens to their patients.
"""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import delete

from app.extensions import db
from app.models import User, WaitlistEntry
from app.repositories import scheduling as repo
from app.services import Conflict, DomainError, accounts, booking, google_account, notifications
from app.services.audit import AuditKind, record
from app.services.passwords import verify_password
from app.timeutil import utcnow

REASON = "The patient closed their account."


@dataclass(frozen=True)
class Closed:
    cancelled: int  # booked appointments ahead, cancelled with the account
    google_token: str | None  # to revoke at Google once this has committed


def soon_to_start(user: User, now: datetime):
    """The patient's first booked appointment inside the cancel cut-off, if any: it cannot be
    cancelled online, so the account cannot be closed online until it is over."""
    _, first = repo.not_started_booked(now=now, limit=1, patient_id=user.patient_profile.id)
    if first and booking.inside_patient_cutoff(first[0], user, now):
        return first[0]
    return None


def close(
    user: User, password: str, *, ip_address: str | None = None, now: datetime | None = None
) -> Closed:
    now = now or utcnow()
    if not verify_password(user.password_hash, password):
        raise DomainError("Your password is not correct.", field="current_password")
    user = db.session.get(User, user.id, with_for_update=True, populate_existing=True)
    if not user.active:  # closed by a request of theirs that held the lock a moment ago
        raise Conflict("Your account is already closed.")
    soon = soon_to_start(user, now)
    if soon is not None:
        raise Conflict(
            "You have an appointment starting soon, which can only be cancelled by the front "
            f"desk: please call {current_app.config['CLINIC_PHONE']}, or close your account "
            "after it."
        )
    patient = user.patient_profile
    # First, so that the places the cancellations free are not offered to the patient leaving.
    waitlist_left = db.session.execute(
        delete(WaitlistEntry).where(WaitlistEntry.patient_id == patient.id)
    ).rowcount
    cancelled = accounts.cancel_ahead(
        {"patient_id": patient.id}, actor=user, now=now, offer_to_waitlist=True, reason=REASON
    )
    google_token = None
    if user.google_connected or user.google_sub:
        google_token = google_account.disconnect(user, ip_address=ip_address)
    user.calendar_feed_nonce = None
    user.active = False
    user.session_version += 1
    record(
        AuditKind.ACCOUNT_CLOSED,
        actor=user,
        target=user,
        ip_address=ip_address,
        cancelled=cancelled,
        waitlist_left=waitlist_left,
    )
    notifications.account_closed(user, cancelled)
    return Closed(cancelled=cancelled, google_token=google_token)
