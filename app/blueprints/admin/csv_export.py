"""The appointments list and the audit trail as CSV.

Built in memory while the rows are read in batches (yield_per), not streamed: a streamed body
would outlive the request's database session. The text of even a large clinic's year fits.

Cells that a spreadsheet would read as a formula (=, +, -, @, and tab or carriage return, which
some spreadsheets strip before looking) get a leading apostrophe: a patient's notes must never
run as a formula on the admin's machine (OWASP "CSV injection").
"""

import csv
import io
import json
from collections.abc import Callable, Iterable

from app.models import Appointment, AuditEvent
from app.timeutil import to_local

HEADER = [
    "id",
    "start",
    "end",
    "status",
    "doctor",
    "specialization",
    "patient",
    "patient_email",
    "booked_at",
    "cancelled_at",
    "cancelled_by",
    "notes",
    # Added after the others, whose places spreadsheets may rely on: new columns go last.
    "cancel_reason",
    "patient_phone",  # the desk's call list (`?status=unconfirmed`) is worked by phone
    "attendance_confirmed_at",
    "checked_in_at",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _when(value) -> str:
    """Clinic-local time with its UTC offset, unambiguous in any spreadsheet."""
    return to_local(value).isoformat(timespec="minutes") if value else ""


def _row(appointment: Appointment) -> list:
    doctor, patient = appointment.doctor, appointment.patient
    return [
        appointment.id,
        _when(appointment.start_at),
        _when(appointment.end_at),
        appointment.status.value,
        doctor.user.full_name,
        doctor.specialization,
        patient.user.full_name,
        patient.user.email,
        _when(appointment.created_at),
        _when(appointment.cancelled_at),
        appointment.cancelled_by.full_name if appointment.cancelled_by else "",
        appointment.notes,
        appointment.cancel_reason,
        patient.user.phone,
        _when(appointment.attendance_confirmed_at),
        _when(appointment.checked_in_at),
    ]


AUDIT_HEADER = [
    "id",
    "at",
    "kind",
    "actor_name",
    "actor_email",
    "target_type",
    "target_id",
    "ip_address",
    "details",
]


def _audit_row(event: AuditEvent) -> list:
    actor = event.actor
    return [
        event.id,
        to_local(event.created_at).isoformat(timespec="seconds"),
        event.kind,
        actor.full_name if actor else "",
        event.actor_email or (actor.email if actor else ""),
        event.target_type,
        event.target_id,
        event.ip_address,
        json.dumps(event.details or {}, sort_keys=True, ensure_ascii=False),
    ]


def _table(header: list[str], row: Callable, items: Iterable) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for item in items:
        writer.writerow([safe_cell(cell) for cell in row(item)])
    return buffer.getvalue()


def to_csv(appointments: Iterable[Appointment]) -> str:
    """The header, then one line per appointment."""
    return _table(HEADER, _row, appointments)


def audit_to_csv(events: Iterable[AuditEvent]) -> str:
    """The header, then one line per event; its details as one JSON object."""
    return _table(AUDIT_HEADER, _audit_row, events)
