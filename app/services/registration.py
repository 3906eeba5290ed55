"""The front desk registers a patient who phones or walks in, so it can book for them at once;
the administrator adds the front desk's own accounts the same way.

Nobody learns the account's password: it is a random one, never shown, and the patient chooses
their own through an emailed invitation (`password_reset.send_invite`), which lasts
ACCOUNT_INVITE_MAX_AGE_DAYS and ends at its first use.
"""

import secrets
from datetime import date

from app.models import User
from app.services import password_reset
from app.services.accounts import NewUser, add_desk, sign_up_patient


def register_patient(
    full_name: str,
    email: str,
    *,
    actor: User,
    phone: str | None = None,
    date_of_birth: date | None = None,
    address: str | None = None,
    emergency_contact: str | None = None,
    ip_address: str | None = None,
) -> User:
    """Create the patient's account (EmailTaken if the address has one) and invite them."""
    user = sign_up_patient(
        NewUser(full_name, email, secrets.token_urlsafe(32), phone),
        date_of_birth=date_of_birth,
        address=address,
        emergency_contact=emergency_contact,
        ip_address=ip_address,
        registered_by=actor,
    )
    password_reset.send_invite(user)
    return user


def register_desk(
    full_name: str, email: str, *, actor: User, ip_address: str | None = None
) -> User:
    """Create a front-desk account (EmailTaken if the address has one) and invite its owner to
    choose a password; with TWO_STEP_REQUIRED_ROLES naming the desk, two-step sign-in follows."""
    user = add_desk(NewUser(full_name, email, secrets.token_urlsafe(32)), actor=actor,
                    ip_address=ip_address)  # fmt: skip
    password_reset.send_invite(user)
    return user
