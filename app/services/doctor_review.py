"""New doctors and the front desk: whom patients may find and book.

Anyone can fill in the doctor sign-up form. Where the clinic asks for it
(`DOCTOR_APPROVAL_REQUIRED`, on in production), a new doctor can sign in, fill in their profile
and publish times at once, but patients cannot find, book or wait for them until an admin has
checked who they are and approved the account. Where it is off, a doctor is approved as they
sign up. Declining one switches the account off and tells them why, if the desk says.
"""

from datetime import datetime

from flask import current_app

from app.models import DoctorProfile, Role, User
from app.repositories import doctors as doctor_repo
from app.services import Conflict, NotFound, accounts, notifications
from app.services.audit import AuditKind, record
from app.timeutil import utcnow


def approval_required() -> bool:
    return bool(current_app.config["DOCTOR_APPROVAL_REQUIRED"])


def approved_on_sign_up(approved: bool | None = None) -> datetime | None:
    """A new doctor profile's `approved_at`: none while the front desk has to approve them
    (`approved`, when given, decides instead of the clinic's setting)."""
    if approved is None:
        approved = not approval_required()
    return utcnow() if approved else None


def applicant(user_id: int) -> User:
    """The doctor account for the approval page: NotFound unless it is a doctor's."""
    user = doctor_repo.doctor_account(user_id)
    if user is None or user.doctor_profile is None:
        raise NotFound("That doctor does not exist.")
    return user


def approval_refusal(profile: DoctorProfile) -> str | None:
    """Why this doctor cannot be approved now, or None when they can."""
    if profile.approved_at is not None:
        return f"{profile.full_name} is already approved: patients can find them."
    if not profile.user.active:
        return (
            f"{profile.user.email} is deactivated: reactivate the account first, then approve it."
        )
    return None


def _locked_applicant(user_id: int) -> DoctorProfile:
    """The doctor's profile, row-locked (two admins at once decide once), if they can still be
    approved or declined."""
    profile = doctor_repo.lock_profile_of(user_id)
    if profile is None or profile.user.role != Role.DOCTOR:
        raise NotFound("That doctor does not exist.")
    # The account too, by a statement of its own: when the profile's lock had to wait for an
    # admin declining the doctor, that statement still saw the account as it was before (in
    # PostgreSQL a locking read re-reads only the rows it locks), so an approval would follow.
    accounts.lock_user(user_id)
    refusal = approval_refusal(profile)
    if refusal is not None:
        raise Conflict(refusal)
    return profile


def approve(
    user_id: int, *, actor: User, ip_address: str | None = None, now: datetime | None = None
) -> DoctorProfile:
    """List the doctor: from now on patients find them in the directory and book their open
    times, and the doctor is emailed so."""
    profile = _locked_applicant(user_id)
    profile.approved_at = now or utcnow()
    record(
        AuditKind.DOCTOR_APPROVED,
        actor=actor,
        target=profile.user,
        ip_address=ip_address,
        specialization=profile.specialization,
    )
    notifications.doctor_approved(profile.user)
    return profile


def decline(
    user_id: int, reason: str | None, *, actor: User, ip_address: str | None = None
) -> DoctorProfile:
    """Turn the applicant down: the account is switched off (signed out everywhere, as any
    deactivation) and they are emailed, with `reason` when the desk gives one, and whom to
    call. Reactivating the account later brings them back to the waiting list, not to patients.
    """
    profile = _locked_applicant(user_id)
    reason = (reason or "").strip() or None
    accounts.deactivate(user_id, actor=actor, ip_address=ip_address)
    record(
        AuditKind.DOCTOR_DECLINED,
        actor=actor,
        target=profile.user,
        ip_address=ip_address,
        reason_given=reason is not None,
    )
    notifications.doctor_declined(profile.user, reason)
    return profile
