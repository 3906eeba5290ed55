"""Accounts: sign-up, sign-in, password changes, and switching accounts off and on."""

from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    STAFF_ROLES,
    Appointment,
    AppointmentStatus,
    AuditEvent,
    DoctorProfile,
    PatientProfile,
    Role,
    User,
)
from app.repositories import scheduling as repo
from app.services import (
    Conflict,
    DomainError,
    NotFound,
    booking,
    doctor_review,
    notifications,
    profiles,
)
from app.services.audit import AuditKind, record
from app.services.passwords import hash_password, needs_rehash, verify_password
from app.timeutil import utcnow


class EmailTaken(DomainError):
    def __init__(self):
        super().__init__("An account with this email already exists.", field="email")


class InvalidCredentials(DomainError):
    status_code = 401

    def __init__(self):
        super().__init__("Invalid email or password.")


class AccountSwitchedOff(InvalidCredentials):
    """The right password for an account that is closed or deactivated. Saying so tells nothing
    to someone who does not know the password already, and tells its owner whom to call, instead
    of sending them round the password reset (which emails nothing to such an account)."""

    def __init__(self, phone: str):
        DomainError.__init__(
            self,
            f"This account is closed. To reopen it, call the front desk on {phone}.",
        )


@dataclass(frozen=True)
class NewUser:
    full_name: str
    email: str
    password: str
    phone: str | None = None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def _create_user(
    new: NewUser,
    role: Role,
    ip_address: str | None,
    registered_by: User | None = None,
    by: str = "front desk",
) -> User:
    email = normalise_email(new.email)
    if find_by_email(email) is not None:
        raise EmailTaken()
    user = User(
        email=email,
        password_hash=hash_password(new.password),
        role=role,
        full_name=new.full_name.strip(),
        phone=(new.phone or "").strip() or None,
    )
    db.session.add(user)
    db.session.flush()
    record(
        AuditKind.SIGNUP,
        actor=registered_by or user,
        target=user,
        ip_address=ip_address,
        role=role.value,
        by=by if registered_by else None,
    )
    return user


def add_desk(new: NewUser, *, actor: User, ip_address: str | None = None) -> User:
    """A front-desk account the administrator adds (EmailTaken when the address has one). The
    caller invites its owner to choose the password (`registration.add_desk`)."""
    return _create_user(new, Role.DESK, ip_address, registered_by=actor, by="administrator")


def sign_up_doctor(
    new: NewUser,
    *,
    specialization: str,
    years_of_experience: int,
    bio: str | None = None,
    ip_address: str | None = None,
    approved: bool | None = None,
) -> User:
    """Create the user and the doctor profile in the caller's one transaction; the doctor waits
    for the front desk's approval where the clinic asks for it (`doctor_review`), unless
    `approved` says whether they do (the demo data)."""
    user = _create_user(new, Role.DOCTOR, ip_address)
    profile = DoctorProfile(
        user=user,
        specialization=profiles.listed_specialization(specialization),
        years_of_experience=years_of_experience,
        bio=(bio or "").strip() or None,
        approved_at=doctor_review.approved_on_sign_up(approved),
    )
    db.session.add(profile)
    db.session.flush()
    notifications.signup_welcome(user, awaiting_approval=profile.approved_at is None)
    return user


def sign_up_patient(
    new: NewUser,
    *,
    date_of_birth: date | None = None,
    address: str | None = None,
    emergency_contact: str | None = None,
    ip_address: str | None = None,
    registered_by: User | None = None,
) -> User:
    """Create the user and the patient profile in the caller's one transaction. A patient the
    front desk registers (`registered_by`) is sent no welcome: `register_patient` invites them
    to choose a password instead."""
    user = _create_user(new, Role.PATIENT, ip_address, registered_by)
    db.session.add(
        PatientProfile(
            user=user,
            date_of_birth=date_of_birth,
            address=(address or "").strip() or None,
            emergency_contact=(emergency_contact or "").strip() or None,
        )
    )
    db.session.flush()
    if registered_by is None:
        notifications.signup_welcome(user)
    return user


def authenticate(email: str, password: str, *, ip_address: str | None = None) -> User:
    """Check credentials; every attempt, good or bad, lands in the audit trail. An account with
    two-step sign-in is not signed in yet: `two_step.verify` finishes it."""
    user = find_by_email(email)
    # The password is checked (or a dummy hash spent) first, whoever asks: an unknown email
    # must cost the same time as a wrong password, or the timing tells which accounts exist.
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.active:
        record(
            AuditKind.LOGIN_FAILURE,
            actor=user,
            actor_email=normalise_email(email)[:254],
            ip_address=ip_address,
            reason="inactive" if user is not None and not user.active else None,
        )
        if password_ok:  # and so the account exists, switched off
            raise AccountSwitchedOff(current_app.config["CLINIC_PHONE"])
        raise InvalidCredentials()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if not user.two_step_enabled:  # otherwise signed in once the code is right (two_step)
        signed_in(user, ip_address=ip_address)
    return user


def signed_in(user: User, *, ip_address: str | None = None, **details) -> None:
    """Record a completed sign-in: every step it takes has been passed."""
    user.last_login_at = utcnow()
    record(AuditKind.LOGIN_SUCCESS, actor=user, target=user, ip_address=ip_address, **details)


def greeting(user: User) -> str:
    """What a completed sign-in says: "Welcome back" to someone who has signed in before (signing
    up is a first sign-in), plain "Welcome" the first time, as for an account the front desk
    opened. Asked once the sign-in is recorded."""
    sign_ins = select(AuditEvent.id).where(
        AuditEvent.actor_id == user.id, AuditEvent.kind == AuditKind.LOGIN_SUCCESS
    )
    counted = db.session.scalar(select(func.count()).select_from(sign_ins.limit(2).subquery()))
    return f"Welcome back, {user.full_name}." if counted > 1 else f"Welcome, {user.full_name}."


def change_password(
    user: User, current_password: str, new_password: str, *, ip_address: str | None = None
) -> None:
    """Set a new password and end every other session of this user."""
    if not verify_password(user.password_hash, current_password):
        raise DomainError("Your current password is not correct.", field="current_password")
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    record(AuditKind.PASSWORD_CHANGED, actor=user, target=user, ip_address=ip_address)
    notifications.password_changed(user)


def sign_out(user: User, *, ip_address: str | None = None) -> None:
    """End every session of this user, copies included: session and remember-me cookies are
    signed, not stored, so only a new session version makes the server refuse old ones."""
    user.session_version += 1
    record(AuditKind.LOGOUT, actor=user, ip_address=ip_address)


def create_admin(
    email: str, password: str, full_name: str = "Administrator", *, role: Role = Role.ADMIN
) -> tuple[User, bool]:
    """Create a staff account (an admin, or with `role` the front desk) or turn an existing
    account into one; returns (user, created)."""
    if role not in STAFF_ROLES:
        raise ValueError(f"not a staff role: {role}")
    user = find_by_email(email)
    created = user is None
    if created:
        user = User(
            email=normalise_email(email),
            password_hash=hash_password(password),
            role=role,
            full_name=full_name,
        )
        db.session.add(user)
    else:
        user.role = role
        user.password_hash = hash_password(password)
        user.session_version += 1
    db.session.flush()
    record(AuditKind.ADMIN_CREATED, actor=None, target=user, promoted=not created, role=role.value)
    if not created:
        notifications.password_changed(user)
    return user, created


def bookable_patient(user_id: int) -> PatientProfile:
    """An active patient's profile, for the front desk to book for."""
    user = db.session.get(User, user_id)
    if user is None or user.role != Role.PATIENT or user.patient_profile is None:
        raise NotFound("That patient does not exist.")
    if not user.active:
        raise Conflict(f"{user.email} is deactivated: reactivate it before booking for it.")
    return user.patient_profile


def account(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("That account does not exist.")
    return user


def lock_user(user_id: int) -> User:
    """Row-locked and read afresh, so two admins clicking at once record one change, not two:
    the page read the account before waiting for the lock, and the lock must not hand back
    that copy."""
    user = db.session.get(User, user_id, with_for_update=True, populate_existing=True)
    if user is None:
        raise NotFound("That account does not exist.")
    return user


def change_email(
    user_id: int, new_email: str, *, actor: User, ip_address: str | None = None
) -> User:
    """The front desk replaces an account's sign-in email (a patient who lost their mailbox, a
    typo at sign-up), having checked who is calling."""
    user = lock_user(user_id)
    email = normalise_email(new_email)
    if email == user.email:
        raise DomainError("That address is this account's email already.", field="email")
    set_email(user, email, actor=actor, ip_address=ip_address)
    return user


def set_email(user: User, email: str, *, actor: User, ip_address: str | None = None) -> None:
    """Give a locked account its new (normalised) sign-in email, unless another account has it:
    the unique index has the last word on a race. Both addresses are told, and the audit trail
    keeps both."""
    if find_by_email(email) is not None:
        raise EmailTaken()
    old = user.email
    user.email = email
    try:
        db.session.flush()
    except IntegrityError:
        raise EmailTaken() from None
    record(
        AuditKind.ACCOUNT_EMAIL_CHANGED,
        actor=actor,
        target=user,
        ip_address=ip_address,
        old=old,
        new=email,
    )
    notifications.email_changed(user, old)


@dataclass(frozen=True)
class StillBooked:
    """The booked appointments an account has ahead: how many, and the first few."""

    total: int
    first: list[Appointment]


PREVIEW = 5


def still_booked(user: User, now: datetime | None = None) -> StillBooked:
    """What deactivating `user` would leave standing: their booked appointments, as doctor or
    patient, that have not started. An admin has none."""
    party = _party(user)
    if party is None:
        return StillBooked(0, [])
    total, first = repo.not_started_booked(now=now or utcnow(), limit=PREVIEW, **party)
    return StillBooked(total, first)


def _party(user: User) -> dict | None:
    if user.role == Role.DOCTOR and user.doctor_profile is not None:
        return {"doctor_id": user.doctor_profile.id}
    if user.role == Role.PATIENT and user.patient_profile is not None:
        return {"patient_id": user.patient_profile.id}
    return None


def deactivation_refusal(user: User, actor: User) -> str | None:
    if user.id == actor.id:
        return "You cannot deactivate your own account."
    if not user.active:
        return f"{user.email} is already deactivated."
    return None


@dataclass(frozen=True)
class Deactivated:
    user: User
    cancelled: int  # upcoming appointments cancelled with the account
    still_booked: int  # and those left standing


def cancel_ahead(
    party: dict, *, actor: User, now: datetime, offer_to_waitlist: bool, reason: str | None = None
) -> int:
    """Cancel every booked appointment of a doctor or a patient (`party`, as `_party` gives it)
    that has not started, one by one as `actor` would, both sides emailed; locked in id order.
    Returns how many."""
    cancelled = 0
    for appointment_id in repo.not_started_booked_ids(now=now, **party):
        appointment = repo.lock_appointment(appointment_id)
        if appointment.status != AppointmentStatus.BOOKED or appointment.start_at <= now:
            continue  # cancelled, or started, a moment ago
        booking.cancel(
            appointment_id,
            actor=actor,
            now=now,
            offer_to_waitlist=offer_to_waitlist,
            reason=reason,
        )
        cancelled += 1
    return cancelled


def deactivate(
    user_id: int,
    *,
    actor: User,
    ip_address: str | None = None,
    cancel_upcoming: bool = False,
    now: datetime | None = None,
) -> Deactivated:
    """Switch an account off: it cannot sign in, and its open sessions end at their next request.

    Its booked appointments ahead stand (a doctor away for a while keeps their patients) unless
    `cancel_upcoming`: then each is cancelled as the admin would one by one, both sides emailed.
    A patient's freed slot goes to the day's waitlist; a departing doctor's does not, since no
    one can book it. A booking committed in the very instant of the switch can still land; the
    admin's appointment list shows it.

    An admin cannot switch themselves off, so the console always keeps someone able to undo it.
    """
    now = now or utcnow()
    user = lock_user(user_id)
    refusal = deactivation_refusal(user, actor)
    if refusal is not None:
        raise Conflict(refusal)
    user.active = False
    user.session_version += 1
    party = _party(user)
    cancelled = 0
    if cancel_upcoming and party is not None:
        cancelled = cancel_ahead(party, actor=actor, now=now, offer_to_waitlist=user.is_patient)
    left = 0 if party is None else repo.not_started_booked(now=now, limit=0, **party)[0]
    record(
        AuditKind.ACCOUNT_DEACTIVATED,
        actor=actor,
        target=user,
        ip_address=ip_address,
        **({"cancelled": cancelled, "still_booked": left} if party is not None else {}),
    )
    return Deactivated(user=user, cancelled=cancelled, still_booked=left)


def activate(user_id: int, *, actor: User, ip_address: str | None = None) -> User:
    """Let a deactivated account sign in again (its old sessions stay ended)."""
    user = lock_user(user_id)
    if user.active:
        raise Conflict(f"{user.email} is already active.")
    user.active = True
    record(AuditKind.ACCOUNT_ACTIVATED, actor=actor, target=user, ip_address=ip_address)
    return user
