"""Constants and helpers shared by the email service tests (conftest.py holds the fixtures).

A plain module, not conftest.py, so tests can import it: `conftest` is a name every test
directory's conftest shares.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import AuthResult, LoginPassword

SECRET = "test-email-secret"
SMTP_USER, SMTP_PASSWORD = "hms-mailer", "mailer-password"
UNSIGNED = object()

SAMPLE_DATA: dict[str, dict[str, Any]] = {
    "SIGNUP_WELCOME": {
        "full_name": "Grace Hopper",
        "role": "patient",
        "login_url": "https://hms.test/auth/login",
    },
    "BOOKING_CONFIRMATION": {
        "recipient_role": "patient",
        "patient_name": "Grace Hopper",
        "doctor_name": "Dr. Ada Byron",
        "specialization": "Cardiology",
        "start_display": "Monday 2 March 2026, 09:00",
        "end_display": "09:30",
        "appointment_id": 42,
        "notes": "Bring the ECG\nfrom last year",
        "ics_url": "https://hms.test/booking/appointments/42.ics",
        "manage_url": "https://hms.test/patient/appointments",
    },
    "BOOKING_CANCELLED": {
        "recipient_role": "patient",
        "patient_name": "Grace Hopper",
        "doctor_name": "Dr. Ada Byron",
        "specialization": "Cardiology",
        "start_display": "Monday 2 March 2026, 09:00",
        "appointment_id": "42",
        "cancelled_by": "Dr. Ada Byron",
        "manage_url": "https://hms.test/patient/appointments",
    },
    "BOOKING_RESCHEDULED": {
        "recipient_role": "patient",
        "patient_name": "Grace Hopper",
        "doctor_name": "Dr. Ada Byron",
        "specialization": "Cardiology",
        "old_start_display": "Monday 2 March 2026, 09:00",
        "start_display": "Tuesday 3 March 2026, 14:00",
        "end_display": "14:30",
        "appointment_id": "42",
        "ics_url": "https://hms.test/booking/appointments/42.ics",
        "manage_url": "https://hms.test/patient/appointments",
    },
    "APPOINTMENT_REMINDER": {
        "recipient_role": "patient",
        "patient_name": "Grace Hopper",
        "doctor_name": "Dr. Ada Byron",
        "specialization": "Cardiology",
        "start_display": "Monday 2 March 2026, 09:00",
        "end_display": "09:30",
        "appointment_id": "42",
        "attend_url": "https://hms.test/attendance/a-signed-link",
        "ics_url": "https://hms.test/booking/appointments/42.ics",
        "manage_url": "https://hms.test/patient/appointments",
    },
    "WAITLIST_SLOT_OPEN": {
        "patient_name": "Grace Hopper",
        "doctor_name": "Dr. Ada Byron",
        "specialization": "Cardiology",
        "date_display": "Monday 2 March 2026",
        "start_display": "11:00",
        "slot_url": "https://hms.test/booking/slots/7",
    },
    "PASSWORD_RESET": {
        "full_name": "Grace Hopper",
        "reset_url": "https://hms.test/auth/password/reset/abc.def",
        "valid_for": "60 minutes",
    },
    "MISSED_APPOINTMENT": {
        "patient_name": "Grace Hopper",
        "doctor_name": "Dr. Ada Byron",
        "start_display": "Monday 2 March 2026, 09:00 (UTC)",
        "help_phone": "+1 555 0100",
        "missed_note": (
            "You have missed 2 appointments in the last 180 days; at 3, new bookings are made "
            "by the front desk rather than online."
        ),
        "book_url": "https://hms.test/patient/doctors/4",
        "appointment_id": 42,
    },
    "VISIT_INSTRUCTIONS": {
        "patient_name": "Grace Hopper",
        "doctor_name": "Dr. Ada Byron",
        "start_display": "Monday 2 March 2026, 09:00 (UTC)",
        "read_url": "https://hms.test/patient/appointments/42",
        "help_phone": "+1 555 0100",
        "appointment_id": 42,
    },
    "DAILY_AGENDA": {
        "doctor_name": "Dr. Ada Byron",
        "date_display": "Monday 2 March 2026",
        "count_display": "2 appointments",
        "agenda": "09:00-09:30  Grace Hopper (first visit)\n10:00-10:30  Alan Turing",
        "manage_url": "https://hms.test/doctor/day?date=2026-03-02",
    },
    "SCHEDULE_CHANGED": {
        "doctor_name": "Dr. Ada Byron",
        "changes": (
            "Olivia Desk published 12 times from Mon 02 Mar to Fri 06 Mar.\n"
            "Olivia Desk removed the open time Tue 03 Mar 2026, 09:00."
        ),
        "schedule_url": "https://hms.test/doctor/availability",
    },
    "RUNNING_LATE": {
        "patient_name": "Grace Hopper",
        "doctor_name": "Dr. Ada Byron",
        "start_display": "Monday 2 March 2026, 11:00",
        "delay_minutes": "30",
        "manage_url": "https://hms.test/patient/appointments",
    },
    "STAFF_INVITE": {
        "full_name": "Olivia Desk",
        "set_password_url": "https://hms.test/auth/password/reset/abc.def",
        "valid_for": "7 days",
        "login_url": "https://hms.test/auth/login",
    },
    "ACCOUNT_INVITE": {
        "full_name": "Grace Hopper",
        "set_password_url": "https://hms.test/auth/password/reset/abc.def",
        "valid_for": "7 days",
    },
    "EMAIL_CHANGE_CONFIRM": {
        "full_name": "Grace Hopper",
        "confirm_url": "https://hms.test/auth/email/confirm/abc.def",
        "valid_for": "24 hours",
    },
    "EMAIL_CHANGED": {
        "full_name": "Grace Hopper",
        "new_email": "grace.new@example.org",
        "help_phone": "+1 555 0100",
        "login_url": "https://hms.test/auth/login",
    },
    "PASSWORD_CHANGED": {
        "full_name": "Grace Hopper",
        "changed_display": "Monday 2 March 2026, 09:00 (UTC)",
        "help_phone": "+1 555 0100",
        "login_url": "https://hms.test/auth/login",
    },
    "ACCOUNT_CLOSED": {
        "full_name": "Grace Hopper",
        "closed_display": "Monday 2 March 2026, 09:00 (UTC)",
        "help_phone": "+1 555 0100",
        "cancelled_count": "2",
    },
    "DOCTOR_DECLINED": {
        "full_name": "Dr. Ada Byron",
        "help_phone": "+1 555 0100",
        "decline_reason": "We could not verify your registration.",
    },
    "DOCTOR_APPROVED": {
        "full_name": "Dr. Ada Byron",
        "help_phone": "+1 555 0100",
        "login_url": "https://hms.test/auth/login",
    },
    "TWO_STEP_ENABLED": {
        "full_name": "Grace Hopper",
        "changed_display": "Monday 2 March 2026, 09:00 (UTC)",
        "help_phone": "+1 555 0100",
    },
    "TWO_STEP_DISABLED": {
        "full_name": "Grace Hopper",
        "changed_display": "Monday 2 March 2026, 09:00 (UTC)",
        "help_phone": "+1 555 0100",
        "changed_by": "the clinic's front desk, at your request",
    },
}


def sign(raw: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def expected_message_id(request_id: str) -> str:
    return f"<{hashlib.sha256(request_id.encode()).hexdigest()[:32]}@hms.email>"


@dataclass
class Reply:
    status: int
    body: dict[str, Any]


@dataclass
class Recorder:
    """aiosmtpd handler that keeps every envelope it accepts."""

    envelopes: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [
            # SMTP carries CRLF line ends; a mailbox on disk would hold plain newlines.
            email.message_from_bytes(
                env.content.replace(b"\r\n", b"\n"), policy=email.policy.default
            )
            for env in self.envelopes
        ]


class Refuser:
    async def handle_DATA(self, server, session, envelope):
        return "550 mailbox unavailable"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    # handled=False: let aiosmtpd send the 235/535 reply itself.
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
