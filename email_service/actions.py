"""The request protocol: which actions exist, what data each needs, and the checks on it.

Everything that reaches a mail header or an HTML page passes through here first, so these
checks are what keep the service from becoming an open relay or an injection vector.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_ID_CHARS = 200
MAX_ADDRESS_CHARS = 254
MAX_LOCAL_PART_CHARS = 64
MAX_VALUE_CHARS = 2000

ROLES = ("doctor", "patient")

# Fields whose value must be one of a few words, because it picks a template.
ENUM_FIELDS = {"role": ROLES, "recipient_role": ROLES}
# Fields rendered as links: only http(s), so a "javascript:" URL can never become an href.
URL_FIELDS = frozenset(
    {
        "login_url",
        "ics_url",
        "manage_url",
        "slot_url",
        "reset_url",
        "confirm_url",
        "attend_url",
        "set_password_url",
        "book_url",
        "schedule_url",
        "read_url",
    }
)
# The only fields allowed to span lines; they never go into a header.
MULTILINE_FIELDS = frozenset({"notes", "agenda", "changes"})
# The app may send its primary key as a JSON number.
INTEGER_FIELDS = frozenset({"appointment_id"})

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# A bare addr-spec only: no display name, no comments, no quoting, no second address.
_ADDRESS_RE = re.compile(rf"(?P<local>{_ATOM}(?:\.{_ATOM})*)@(?P<domain>{_LABEL}(?:\.{_LABEL})+)")
_LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


@dataclass(frozen=True)
class Action:
    """One kind of email: its data fields, the field that picks a template variant, its subjects."""

    required: tuple[str, ...]
    subjects: dict[str, str]
    optional: tuple[str, ...] = ()
    variant_field: str | None = None


@dataclass(frozen=True)
class EmailRequest:
    """A request that passed every check; `data` holds only known, non-empty fields."""

    id: str
    action: str
    to: str
    data: dict[str, str] = field(default_factory=dict)

    @property
    def variant(self) -> str:
        """The template variant ("doctor", "patient"), or "" for single-template actions."""
        spec = ACTIONS[self.action]
        return self.data[spec.variant_field] if spec.variant_field else ""


_PEOPLE = ("recipient_role", "patient_name", "doctor_name", "specialization")

ACTIONS: dict[str, Action] = {
    "SIGNUP_WELCOME": Action(
        required=("full_name", "role"),
        optional=("review_phone", "login_url"),
        variant_field="role",
        subjects={"doctor": "Welcome to HMS, $full_name", "patient": "Welcome to HMS, $full_name"},
    ),
    "BOOKING_CONFIRMATION": Action(
        required=(*_PEOPLE, "start_display", "end_display", "appointment_id"),
        optional=("notes", "ics_url", "manage_url"),
        variant_field="recipient_role",
        subjects={
            "patient": "Appointment confirmed: $doctor_name, $start_display",
            "doctor": "New appointment: $patient_name, $start_display",
        },
    ),
    "BOOKING_CANCELLED": Action(
        required=(*_PEOPLE, "start_display", "appointment_id"),
        optional=("cancelled_by", "cancel_reason", "manage_url"),
        variant_field="recipient_role",
        subjects={
            "patient": "Appointment cancelled: $doctor_name, $start_display",
            "doctor": "Appointment cancelled: $patient_name, $start_display",
        },
    ),
    "BOOKING_RESCHEDULED": Action(
        required=(*_PEOPLE, "old_start_display", "start_display", "end_display", "appointment_id"),
        optional=("ics_url", "manage_url"),
        variant_field="recipient_role",
        subjects={
            "patient": "Appointment moved: $doctor_name, now $start_display",
            "doctor": "Appointment moved: $patient_name, now $start_display",
        },
    ),
    "APPOINTMENT_REMINDER": Action(
        required=(*_PEOPLE, "start_display", "end_display", "appointment_id"),
        optional=("attend_url", "ics_url", "manage_url"),
        variant_field="recipient_role",
        subjects={
            "patient": "Reminder: appointment with $doctor_name, $start_display",
            "doctor": "Reminder: appointment with $patient_name, $start_display",
        },
    ),
    "WAITLIST_SLOT_OPEN": Action(
        required=(
            "patient_name",
            "doctor_name",
            "specialization",
            "date_display",
            "start_display",
            "slot_url",
        ),
        subjects={"": "A slot opened with $doctor_name on $date_display"},
    ),
    "MISSED_APPOINTMENT": Action(
        required=("patient_name", "doctor_name", "start_display", "help_phone"),
        optional=("missed_note", "book_url", "appointment_id"),
        subjects={"": "We missed you: your appointment with $doctor_name, $start_display"},
    ),
    "VISIT_INSTRUCTIONS": Action(
        # says only that there are instructions; `read_url` is where the patient reads them
        required=("patient_name", "doctor_name", "start_display", "read_url", "help_phone"),
        optional=("appointment_id",),
        subjects={"": "$doctor_name left you instructions after your visit"},
    ),
    "DAILY_AGENDA": Action(
        # `agenda`: the day's appointments, one line each, written out by the app
        required=("doctor_name", "date_display", "count_display", "agenda"),
        optional=("manage_url",),
        subjects={"": "Your day, $date_display: $count_display"},
    ),
    "SCHEDULE_CHANGED": Action(
        # `changes`: what someone else changed in the doctor's schedule, one a line, by the app
        required=("doctor_name", "changes"),
        optional=("schedule_url",),
        subjects={"": "Your schedule was changed by the front desk"},
    ),
    "DOCTOR_APPROVED": Action(
        required=("full_name", "help_phone"),
        optional=("login_url",),
        subjects={"": "You are approved: patients can now book you, $full_name"},
    ),
    "DOCTOR_DECLINED": Action(
        required=("full_name", "help_phone"),
        optional=("decline_reason",),
        subjects={"": "Your doctor account was not approved"},
    ),
    "PASSWORD_RESET": Action(
        required=("full_name", "reset_url", "valid_for"),
        subjects={"": "Set a new password for your HMS account"},
    ),
    "RUNNING_LATE": Action(
        required=("patient_name", "doctor_name", "start_display", "delay_minutes"),
        optional=("manage_url",),
        subjects={"": "$doctor_name is running about $delay_minutes minutes late"},
    ),
    "ACCOUNT_INVITE": Action(
        required=("full_name", "set_password_url", "valid_for"),
        subjects={"": "Your HMS account is ready: choose a password"},
    ),
    "STAFF_INVITE": Action(
        required=("full_name", "set_password_url", "valid_for"),
        optional=("login_url",),
        subjects={"": "Your HMS front-desk account is ready: choose a password"},
    ),
    "EMAIL_CHANGE_CONFIRM": Action(
        required=("full_name", "confirm_url", "valid_for"),
        subjects={"": "Confirm your new HMS sign-in email"},
    ),
    "EMAIL_CHANGED": Action(
        required=("full_name", "new_email", "help_phone"),
        optional=("login_url",),
        subjects={"": "Your HMS sign-in email was changed"},
    ),
    "PASSWORD_CHANGED": Action(
        required=("full_name", "changed_display", "help_phone"),
        optional=("login_url",),
        subjects={"": "Your HMS password was changed"},
    ),
    "ACCOUNT_CLOSED": Action(
        required=("full_name", "closed_display", "help_phone"),
        optional=("cancelled_count",),
        subjects={"": "Your HMS account is closed"},
    ),
    "TWO_STEP_ENABLED": Action(
        required=("full_name", "changed_display", "help_phone"),
        subjects={"": "Two-step sign-in is on for your HMS account"},
    ),
    "TWO_STEP_DISABLED": Action(
        required=("full_name", "changed_display", "help_phone"),
        optional=("changed_by",),
        subjects={"": "Two-step sign-in is off for your HMS account"},
    ),
}


class InvalidRequest(ValueError):
    """The request cannot be served as sent; the message is the reason given back to the caller."""


def parse_request(payload: object) -> EmailRequest:
    """Check a decoded JSON body against the protocol, collecting only what the templates use."""
    if not isinstance(payload, dict):
        raise InvalidRequest("body must be a JSON object")
    request_id = _check_id(payload.get("id"))
    action = payload.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        shown = repr(action)[:60]
        raise InvalidRequest(f"unknown action {shown}; expected one of: {', '.join(ACTIONS)}")
    to = check_address(payload.get("to"))
    data = _check_data(ACTIONS[action], payload.get("data"))
    return EmailRequest(id=request_id, action=action, to=to, data=data)


def _check_id(value: object) -> str:
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_ID_CHARS
        or any(unicodedata.category(ch).startswith("C") for ch in value)
    ):
        raise InvalidRequest(
            f"id must be a non-empty string of at most {MAX_ID_CHARS} printable characters"
        )
    return value


def check_address(value: object) -> str:
    """Accept exactly one bare ASCII address, so `to` can never smuggle a second recipient."""
    if not isinstance(value, str) or not value:
        raise InvalidRequest("to must be an email address")
    if len(value) > MAX_ADDRESS_CHARS:
        raise InvalidRequest(f"to must be at most {MAX_ADDRESS_CHARS} characters")
    match = _ADDRESS_RE.fullmatch(value)
    if match is None or len(match["local"]) > MAX_LOCAL_PART_CHARS:
        raise InvalidRequest("to must be exactly one plain email address such as name@example.org")
    return value


def _check_data(spec: Action, data: object) -> dict[str, str]:
    if not isinstance(data, dict):
        raise InvalidRequest("data must be a JSON object")
    values = {}
    for name in (*spec.required, *spec.optional):
        value = _check_value(name, data.get(name))
        if value:
            values[name] = value
    missing = [name for name in spec.required if name not in values]
    if missing:
        raise InvalidRequest(f"data is missing required field(s): {', '.join(missing)}")
    return values


def _check_value(name: str, value: object) -> str:
    """Return the cleaned value ("" when absent), or raise with the field's name in the reason."""
    if value is None:
        return ""
    if name in INTEGER_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidRequest(f"data.{name} must be a string")
    if len(value) > MAX_VALUE_CHARS:
        raise InvalidRequest(f"data.{name} must be at most {MAX_VALUE_CHARS} characters")
    if name in MULTILINE_FIELDS:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        allowed = {"\n", "\t"}
    else:
        allowed = set()
        if any(ch in _LINE_BREAKS for ch in value):
            raise InvalidRequest(f"data.{name} must not contain line breaks")
    if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value):
        raise InvalidRequest(f"data.{name} must not contain control characters")
    value = value.strip()
    if name in ENUM_FIELDS and value and value not in ENUM_FIELDS[name]:
        raise InvalidRequest(f"data.{name} must be one of: {', '.join(ENUM_FIELDS[name])}")
    if name in URL_FIELDS and value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
            raise InvalidRequest(f"data.{name} must be an absolute http(s) URL")
    return value
