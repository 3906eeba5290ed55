"""The calendar subscription: one secret address per doctor or patient that any calendar
application (Outlook, Apple Calendar, Google Calendar's "From URL", Thunderbird) fetches every
hour, for those who will not connect a Google account.

The address carries the account's id and a random nonce, signed with SECRET_KEY (itsdangerous,
its own salt, no expiry: the application fetches it for as long as the person keeps it). Only the
nonce is stored, so neither a copy of the database nor the address alone is enough to forge
another; a new address (or turning the feed off) replaces the nonce, and every address given out
before stops working at once. Whoever holds an address reads that calendar, as with Google's own
"secret address": the page says so, and a new one is a click away.
"""

import hmac
import secrets
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from app.extensions import db
from app.models import Appointment, Role, User
from app.repositories import scheduling as repo
from app.services import DomainError
from app.services.audit import AuditKind, record
from app.timeutil import utcnow

SALT = "hms.calendar-feed"
PAST_DAYS = 30  # how far back the feed goes: last month's visits stay in the calendar
ROLES = (Role.DOCTOR, Role.PATIENT)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=SALT)


def token(user: User) -> str | None:
    """The secret part of the user's feed address, or None while the feed is off. The same
    nonce gives the same token, so the page can show the address again."""
    if not user.calendar_feed_nonce:
        return None
    return _serializer().dumps([user.id, user.calendar_feed_nonce])


def renew(user: User, *, ip_address: str | None = None) -> None:
    """Give the user a feed address, ending the one they had."""
    replaced = user.calendar_feed_nonce is not None
    user.calendar_feed_nonce = secrets.token_urlsafe(16)
    record(
        AuditKind.CALENDAR_FEED_CREATED,
        actor=user,
        target=user,
        ip_address=ip_address,
        replaced=replaced or None,
    )


def turn_off(user: User, *, ip_address: str | None = None) -> None:
    if user.calendar_feed_nonce is None:
        raise DomainError("Your calendar subscription is already off.")
    user.calendar_feed_nonce = None
    record(AuditKind.CALENDAR_FEED_REVOKED, actor=user, target=user, ip_address=ip_address)


def owner(feed_token: str) -> User | None:
    """The account whose current address this is: None for a forged, replaced or revoked one,
    a closed account, or one of a role that has no appointments of its own."""
    try:
        payload = _serializer().loads(feed_token)
    except BadSignature:
        return None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or type(payload[0]) is not int
        or type(payload[1]) is not str
    ):
        return None
    user_id, nonce = payload
    user = db.session.get(User, user_id)
    if (
        user is None
        or not user.active
        or user.role not in ROLES
        or user.calendar_feed_nonce is None
        or not hmac.compare_digest(user.calendar_feed_nonce, nonce)
    ):
        return None
    return user


def appointments(user: User, *, now: datetime | None = None) -> list[Appointment]:
    """The user's appointments that are not cancelled, from PAST_DAYS ago on, soonest first,
    each with both parties: one statement, however many there are."""
    now = now or utcnow()
    if user.role == Role.DOCTOR:
        query = repo.appointments(doctor=user.doctor_profile)
    else:
        query = repo.appointments(patient=user.patient_profile)
    query = query.where(repo.ACTIVE, Appointment.end_at > now - timedelta(days=PAST_DAYS))
    return list(db.session.scalars(query.order_by(Appointment.start_at, Appointment.id)))
