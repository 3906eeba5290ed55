"""Emails the outbox gave up on, for the front desk: what each was, whether it would still be
right to send, and sending it again once the email service is back.

The worker gives up on an email after OUTBOX_MAX_ATTEMPTS (about an hour of retries with the
defaults) or when the email service refuses it outright. The message is kept, so nothing is
lost; but not every email is worth sending late, and some would mislead:

* a link that has expired since (a password reset, a new sign-in email to confirm, an
  invitation): the person asks for a new one;
* news of the moment (a doctor running late, a waitlist place that someone else has likely
  booked by now, a doctor's list of the day's appointments);
* an email about an appointment that has started since, or that no longer says what is true
  (moved or cancelled after it was written: a late "booked for 10:00" after "cancelled" would
  send the patient to a visit that is not there; instructions the doctor has removed since).

Everything else (a welcome, an account change, an appointment that still stands as the email
says) can go. Sending again only puts the message back in the queue, attempts counted afresh;
the outbox worker sends it as it sends everything else.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from app.models import AppointmentStatus, OutboxMessage, OutboxStatus, User
from app.repositories import outbox as repository
from app.repositories import scheduling
from app.services import Conflict, NotFound, notifications
from app.services.audit import AuditKind, record
from app.timeutil import format_local, utcnow

WHAT = {
    "SIGNUP_WELCOME": "Welcome",
    "ACCOUNT_INVITE": "Invitation to choose a password",
    "STAFF_INVITE": "Front-desk account: invitation to choose a password",
    "DOCTOR_APPROVED": "Doctor approved",
    "DOCTOR_DECLINED": "Doctor declined",
    "PASSWORD_RESET": "Password reset link",
    "PASSWORD_CHANGED": "Password changed",
    "EMAIL_CHANGE_CONFIRM": "New sign-in email to confirm",
    "EMAIL_CHANGED": "Sign-in email changed",
    "TWO_STEP_ENABLED": "Two-step sign-in turned on",
    "TWO_STEP_DISABLED": "Two-step sign-in turned off",
    "ACCOUNT_CLOSED": "Account closed",
    "BOOKING_CONFIRMATION": "Booking confirmed",
    "BOOKING_CANCELLED": "Booking cancelled",
    "BOOKING_RESCHEDULED": "Booking moved",
    "APPOINTMENT_REMINDER": "Appointment reminder",
    "RUNNING_LATE": "Doctor running late",
    "DAILY_AGENDA": "A doctor's day of appointments",
    "SCHEDULE_CHANGED": "A doctor's schedule changed by the desk",
    "MISSED_APPOINTMENT": "Missed appointment",
    "VISIT_INSTRUCTIONS": "Instructions after a visit",
    "WAITLIST_SLOT_OPEN": "Waitlist: a place is free",
}

# How long each emailed link works, from when the email was queued (the token's own clock).
LINK_LIFETIMES = {
    "PASSWORD_RESET": lambda config: timedelta(minutes=config["PASSWORD_RESET_MAX_AGE_MINUTES"]),
    "EMAIL_CHANGE_CONFIRM": lambda config: timedelta(hours=config["EMAIL_CHANGE_MAX_AGE_HOURS"]),
    "ACCOUNT_INVITE": lambda config: timedelta(days=config["ACCOUNT_INVITE_MAX_AGE_DAYS"]),
    "STAFF_INVITE": lambda config: timedelta(days=config["ACCOUNT_INVITE_MAX_AGE_DAYS"]),
}
OF_THE_MOMENT = {"RUNNING_LATE", "WAITLIST_SLOT_OPEN", "DAILY_AGENDA"}
ABOUT_A_BOOKED_VISIT = {"BOOKING_CONFIRMATION", "BOOKING_RESCHEDULED", "APPOINTMENT_REMINDER"}


@dataclass(frozen=True)
class GivenUp:
    message: OutboxMessage
    what: str
    to: str
    too_late: str | None  # why it should not go now; None when it can


@dataclass(frozen=True)
class SentAgain:
    queued: int  # back in the queue
    too_late: int  # left as they were


def describe(messages: list[OutboxMessage], now: datetime | None = None) -> list[GivenUp]:
    """Each message with what it is, to whom, and whether it is too late to send (one
    statement for all their appointments)."""
    now = now or utcnow()
    states = scheduling.appointment_states(
        _appointment_id(m) for m in messages if _appointment_id(m) is not None
    )
    return [_given_up(message, states, now) for message in messages]


def send_again(
    actor: User, *, message_id: int | None = None, now: datetime | None = None
) -> SentAgain:
    """Queue again the email `message_id` given up on (NotFound when it is not one, Conflict
    when it is too late), or, without it, every one that is not too late. Audited; the caller
    commits."""
    now = now or utcnow()
    messages = describe(repository.lock_given_up_emails(message_id), now)
    if message_id is not None and not messages:
        raise NotFound("No such email was given up on: it may have been sent again already.")
    if message_id is not None and messages[0].too_late:
        raise Conflict(f"Too late to send this email: {messages[0].too_late}")
    ready = [given_up.message for given_up in messages if given_up.too_late is None]
    for message in ready:
        message.status = OutboxStatus.PENDING
        message.attempts = 0
        message.next_attempt_at = now
        message.last_error = None
    if ready:
        repository.wake_workers()  # not left to their poll
        record(
            AuditKind.EMAILS_SENT_AGAIN,
            actor=actor,
            target=ready[0] if message_id is not None else None,
            count=len(ready),
        )
    return SentAgain(queued=len(ready), too_late=len(messages) - len(ready))


def _appointment_id(message: OutboxMessage) -> int | None:
    value = (message.payload.get("data") or {}).get("appointment_id")
    return value if isinstance(value, int) else None


def _given_up(message: OutboxMessage, states: dict, now: datetime) -> GivenUp:
    action = message.payload.get("action", "")
    return GivenUp(
        message=message,
        what=WHAT.get(action, action.replace("_", " ").capitalize()),
        to=message.payload.get("to", ""),
        too_late=_too_late(message, action, states, now),
    )


def _too_late(message: OutboxMessage, action: str, states: dict, now: datetime) -> str | None:
    if action in OF_THE_MOMENT:
        return "it was news of the moment."
    if action in LINK_LIFETIMES:
        if message.created_at + LINK_LIFETIMES[action](current_app.config) <= now:
            return "its link has expired; they can ask for a new one."
        return None
    appointment_id = _appointment_id(message)
    if appointment_id is None:
        return None
    state = states.get(appointment_id)
    if action == "MISSED_APPOINTMENT":  # about a past visit: true while it stays a no-show
        return None if state is not None and state.status == AppointmentStatus.NO_SHOW else _CHANGED
    if action == "VISIT_INSTRUCTIONS":  # about a past visit: true while there are some to read
        if state is None or state.instructions_at is None:
            return "the doctor has removed the instructions since."
        return None
    if state is None or state.start_at <= now:
        return "the appointment has started."
    if action == "BOOKING_CANCELLED":
        return None if state.status == AppointmentStatus.CANCELLED else _CHANGED
    if action in ABOUT_A_BOOKED_VISIT:
        shown = message.payload["data"].get("start_display", "")
        if state.status != AppointmentStatus.BOOKED or not shown.startswith(
            format_local(state.start_at, notifications.DISPLAY_FORMAT)
        ):
            return _CHANGED
    return None


_CHANGED = "the appointment has changed since; it no longer says what is true."
