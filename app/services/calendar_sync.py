"""Google Calendar events for appointments, delivered through the outbox.

`queue_for` runs inside the booking's transaction and only writes outbox rows; the handlers run
later (the delivery worker calls them with the message's payload) and talk to Google. A handler
returns when the work is done or there is nothing left to do, raises CalendarPermanentError when
retrying cannot help, and anything else to be retried later.

One message targets one Google account (`user_id`, whose grant is used) for one or both
`roles`: a doctor and a patient connected to the same Google account get one event, stored on
both appointment columns. Event ids are derived from the deployment, the appointment and the
account, so a create retried after a lost answer cannot add a second event, and a delete can
find the event even if it was sent before the create's answer was stored.

The handlers read the appointment when they run, not when they were queued: a create that runs
late writes the latest times, and one that runs after a cancellation does nothing.
"""

import hashlib
import logging
import uuid

from flask import current_app
from googleapiclient.errors import HttpError
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    DoctorProfile,
    OutboxKind,
    OutboxMessage,
    PatientProfile,
)
from app.services import google_account, outbox
from app.services.google_api import (
    Account,
    CalendarPermanentError,
    CalendarTemporaryError,
    events_api,
    load_account,
    short_transaction,
    status_of,
)
from app.timeutil import to_local

__all__ = [
    "HANDLERS",
    "CalendarPermanentError",
    "CalendarTemporaryError",
    "create_event",
    "delete_event",
    "queue_for",
    "update_event",
]

log = logging.getLogger(__name__)

ROLE_COLUMNS = {"doctor": "google_event_id_doctor", "patient": "google_event_id_patient"}
GONE = {404, 410}


def _create_key(appointment_id: int, user_id: int) -> str:
    return f"calendar-create:{appointment_id}:{user_id}"


def queue_for(event: str, appointment: Appointment, doctor, patient) -> None:
    """Queue calendar work for `event` ("booked", "cancelled", "rescheduled" or "changed": the
    note; an update rewrites the whole event from the appointment as it is then)."""
    if not google_account.enabled():
        return
    if event == "booked":
        _queue_creates(appointment, doctor, patient)
    elif event == "cancelled":
        _queue_follow_ups(OutboxKind.CALENDAR_DELETE, appointment, doctor, patient)
    elif event in ("rescheduled", "changed"):
        _queue_follow_ups(OutboxKind.CALENDAR_UPDATE, appointment, doctor, patient)
    else:
        raise ValueError(f"unknown calendar event {event!r}")


def _queue_creates(appointment: Appointment, doctor, patient) -> None:
    """One create per connected Google account; nothing for those who connect later."""
    accounts: dict[str, tuple[int, list[str]]] = {}
    for role, user in (("doctor", doctor.user), ("patient", patient.user)):
        if user.google_connected and user.google_sub and not user.google_connection_broken:
            accounts.setdefault(user.google_sub, (user.id, []))[1].append(role)
    for user_id, roles in accounts.values():
        outbox.enqueue(
            OutboxKind.CALENDAR_CREATE,
            {"appointment_id": appointment.id, "user_id": user_id, "roles": roles},
            idempotency_key=_create_key(appointment.id, user_id),
        )


def _queue_follow_ups(kind: OutboxKind, appointment: Appointment, doctor, patient) -> None:
    """Follow every create queued for this appointment, delivered or still pending."""
    keys = [_create_key(appointment.id, p.user_id) for p in (doctor, patient)]
    creates = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.idempotency_key.in_(keys))
    ).all()
    for create in creates:
        payload = {k: create.payload[k] for k in ("appointment_id", "user_id", "roles")}
        suffix = "" if kind == OutboxKind.CALENDAR_DELETE else f":{uuid.uuid4().hex}"
        outbox.enqueue(
            kind,
            payload,
            idempotency_key=f"{kind.value}:{appointment.id}:{payload['user_id']}{suffix}",
        )


def event_id_for(appointment_id: int, google_sub: str) -> str:
    """Google accepts ids of 5-1024 characters in base32hex (0-9, a-v): hex digits qualify."""
    base = current_app.config["PUBLIC_BASE_URL"]
    digest = hashlib.sha256(f"{base}|{appointment_id}|{google_sub}".encode()).hexdigest()
    return "hms" + digest[:40]


def _times(appointment: Appointment) -> dict:
    zone = current_app.config["CLINIC_TIMEZONE"]
    return {
        "start": {"dateTime": to_local(appointment.start_at).isoformat(), "timeZone": zone},
        "end": {"dateTime": to_local(appointment.end_at).isoformat(), "timeZone": zone},
    }


def _summary(roles: list[str], doctor: DoctorProfile, patient: PatientProfile) -> str:
    if len(roles) > 1:
        return f"{patient.user.full_name} with {doctor.user.full_name} ({doctor.specialization})"
    other = patient.user.full_name if roles == ["doctor"] else doctor.user.full_name
    return f"Appointment with {other} ({doctor.specialization})"


def _description(appointment: Appointment) -> str:
    config = current_app.config
    description = f"{config['CLINIC_NAME']} · front desk {config['CLINIC_PHONE']}"
    if appointment.notes:
        description += f"\n\nNotes: {appointment.notes}"
    return description


def event_body(appointment: Appointment, doctor, patient, roles: list[str], event_id: str) -> dict:
    config = current_app.config
    return {
        "id": event_id,
        "summary": _summary(roles, doctor, patient),
        "description": _description(appointment),
        "location": config["CLINIC_NAME"],
        **_times(appointment),
        "extendedProperties": {"private": {"hmsAppointmentId": str(appointment.id)}},
    }


def _load(payload: dict):
    """The appointment, its parties and the target account, read in one short transaction."""
    with short_transaction() as session:
        account = load_account(session, payload["user_id"])
        appointment = session.get(Appointment, payload["appointment_id"])
        if appointment is None:
            return account, None, None, None
        doctor = session.get(DoctorProfile, appointment.doctor_id)
        patient = session.get(PatientProfile, appointment.patient_id)
        return account, appointment, doctor, patient


def _usable(account: Account | None, payload: dict, action: str) -> bool:
    if account is None or not account.connected:
        log.info("calendar %s skipped: user %s is not connected", action, payload["user_id"])
        return False
    if account.broken:
        raise CalendarPermanentError(f"Google connection of user {account.user_id} is broken")
    return True


def _store_event_id(appointment_id: int, roles: list[str], event_id: str) -> bool:
    """Record the event on the appointment; False when it was cancelled in the meantime."""
    with short_transaction() as session:
        appointment = session.scalar(
            select(Appointment).where(Appointment.id == appointment_id).with_for_update()
        )
        if appointment is None:
            return False
        for role in roles:
            setattr(appointment, ROLE_COLUMNS[role], event_id)
        return appointment.status != AppointmentStatus.CANCELLED


def _delete(events, event_id: str) -> None:
    try:
        events.delete(calendarId="primary", eventId=event_id, sendUpdates="none").execute()
    except HttpError as error:
        if status_of(error) not in GONE:
            raise


def create_event(payload: dict, http=None) -> None:
    """CALENDAR_CREATE: add the appointment to the account's primary calendar."""
    account, appointment, doctor, patient = _load(payload)
    if not _usable(account, payload, "create"):
        return
    if appointment is None or appointment.status == AppointmentStatus.CANCELLED:
        return
    roles = payload["roles"]
    event_id = event_id_for(appointment.id, account.sub)
    body = event_body(appointment, doctor, patient, roles, event_id)
    with events_api(account, http) as events:
        try:
            events.insert(calendarId="primary", body=body, sendUpdates="none").execute()
        except HttpError as error:
            if status_of(error) != 409:  # 409: created by an earlier attempt
                raise
        if not _store_event_id(appointment.id, roles, event_id):
            _delete(events, event_id)  # cancelled while we were creating it


def _existing_event_id(payload: dict, appointment: Appointment, account: Account) -> str:
    stored = getattr(appointment, ROLE_COLUMNS[payload["roles"][0]])
    return stored or event_id_for(appointment.id, account.sub)


def delete_event(payload: dict, http=None) -> None:
    """CALENDAR_DELETE: remove the event; one that never was or is already gone is fine."""
    account, appointment, _, _ = _load(payload)
    if not _usable(account, payload, "delete") or appointment is None:
        return
    with events_api(account, http) as events:
        _delete(events, _existing_event_id(payload, appointment, account))


def update_event(payload: dict, http=None) -> None:
    """CALENDAR_UPDATE: bring the event to the appointment's current times and note."""
    account, appointment, _, _ = _load(payload)
    if not _usable(account, payload, "update") or appointment is None:
        return
    if appointment.status == AppointmentStatus.CANCELLED:
        return
    with events_api(account, http) as events:
        try:
            events.patch(
                calendarId="primary",
                eventId=_existing_event_id(payload, appointment, account),
                body={**_times(appointment), "description": _description(appointment)},
                sendUpdates="none",
            ).execute()
        except HttpError as error:
            if status_of(error) not in GONE:  # not created yet: the create writes these times
                raise


HANDLERS = {
    OutboxKind.CALENDAR_CREATE: create_event,
    OutboxKind.CALENDAR_UPDATE: update_event,
    OutboxKind.CALENDAR_DELETE: delete_event,
}
