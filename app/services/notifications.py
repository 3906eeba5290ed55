"""What each party is told when something happens, queued in the outbox.

The data keys are the email service's protocol (see email_service/README.md). Times are
formatted here, in the clinic's zone, because the email service knows nothing of the clinic.
"""

import secrets
from datetime import datetime, timedelta

from flask import current_app

from app.extensions import db
from app.models import Appointment, DoctorProfile, OutboxKind, PatientProfile, User
from app.repositories import outbox as outbox_repo
from app.services import attendance, outbox
from app.timeutil import format_local, utcnow

DISPLAY_FORMAT = "%A %d %B %Y, %H:%M"


def _url(path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def _queue_email(action: str, to: str, data: dict, key: str) -> None:
    outbox.enqueue(
        OutboxKind.EMAIL, {"action": action, "to": to, "data": data}, idempotency_key=key
    )


def _now_display() -> str:
    """When an account change happened, as its email says it: in the clinic's zone, named."""
    return f"{format_local(utcnow(), DISPLAY_FORMAT)} ({current_app.config['CLINIC_TIMEZONE']})"


def _parties(appointment: Appointment) -> tuple[DoctorProfile, PatientProfile]:
    doctor = db.session.get(DoctorProfile, appointment.doctor_id)
    patient = db.session.get(PatientProfile, appointment.patient_id)
    return doctor, patient


def _appointment_data(appointment: Appointment, doctor, patient, role: str) -> dict:
    zone = current_app.config["CLINIC_TIMEZONE"]
    return {
        "recipient_role": role,
        "patient_name": patient.user.full_name,
        "doctor_name": doctor.user.full_name,
        "specialization": doctor.specialization,
        "start_display": f"{format_local(appointment.start_at, DISPLAY_FORMAT)} ({zone})",
        "end_display": f"{format_local(appointment.end_at, '%H:%M')} ({zone})",
        "appointment_id": appointment.id,
        "ics_url": _url(f"/booking/appointments/{appointment.id}.ics"),
        "manage_url": _url(f"/{role}/appointments"),
    }


def signup_welcome(user: User, *, awaiting_approval: bool = False) -> None:
    """`awaiting_approval`: a doctor the front desk has to approve before patients find them
    is told so, and whom to call."""
    data = {"full_name": user.full_name, "role": user.role.value, "login_url": _url("/auth/login")}
    if awaiting_approval:
        data["review_phone"] = current_app.config["CLINIC_PHONE"]
    _queue_email("SIGNUP_WELCOME", user.email, data, key=f"signup-welcome:{user.id}")


def doctor_approved(user: User) -> None:
    """The front desk approved a new doctor: patients can find and book them from now on."""
    _queue_email(
        "DOCTOR_APPROVED",
        user.email,
        {
            "full_name": user.full_name,
            "help_phone": current_app.config["CLINIC_PHONE"],
            "login_url": _url("/auth/login"),
        },
        key=f"doctor-approved:{user.id}",
    )


def doctor_declined(user: User, reason: str | None) -> None:
    """The front desk turned a new doctor down; `reason`, when it gave one, in its words."""
    data = {"full_name": user.full_name, "help_phone": current_app.config["CLINIC_PHONE"]}
    if reason:
        data["decline_reason"] = reason
    # Declined, reactivated for another look, declined again: each is a message of its own.
    key = f"doctor-declined:{user.id}:{secrets.token_hex(8)}"
    _queue_email("DOCTOR_DECLINED", user.email, data, key=key)


def password_reset_link(user: User, url: str, *, valid_for: str, key: str) -> None:
    _queue_email(
        "PASSWORD_RESET",
        user.email,
        {"full_name": user.full_name, "reset_url": url, "valid_for": valid_for},
        key=key,
    )


def running_late(appointment: Appointment, doctor, patient, minutes: int, event_id: str) -> None:
    """One patient still to come today hears that their doctor runs `minutes` late; each
    announcement (`event_id`) is a message of its own."""
    zone = current_app.config["CLINIC_TIMEZONE"]
    _queue_email(
        "RUNNING_LATE",
        patient.user.email,
        {
            "patient_name": patient.user.full_name,
            "doctor_name": doctor.user.full_name,
            "start_display": f"{format_local(appointment.start_at, DISPLAY_FORMAT)} ({zone})",
            "delay_minutes": str(minutes),
            "manage_url": _url("/patient/appointments"),
        },
        key=f"late:{appointment.id}:{event_id}",
    )


def account_invite(user: User, url: str, *, valid_for: str) -> None:
    _queue_email(
        "ACCOUNT_INVITE",
        user.email,
        {"full_name": user.full_name, "set_password_url": url, "valid_for": valid_for},
        key=f"account-invite:{user.id}",
    )


def staff_invite(user: User, url: str, *, valid_for: str) -> None:
    """The administrator added a front-desk account: its owner chooses the password."""
    _queue_email(
        "STAFF_INVITE",
        user.email,
        {
            "full_name": user.full_name,
            "set_password_url": url,
            "valid_for": valid_for,
            "login_url": _url("/auth/login"),
        },
        key=f"staff-invite:{user.id}",
    )


def password_changed(user: User) -> None:
    """Sent whenever a password changes, whoever changed it (ASVS 2.2.3): the owner hears of it
    even when someone else did it. The session version makes the key unique per change."""
    _queue_email(
        "PASSWORD_CHANGED",
        user.email,
        {
            "full_name": user.full_name,
            "changed_display": _now_display(),
            "help_phone": current_app.config["CLINIC_PHONE"],
            "login_url": _url("/auth/login"),
        },
        key=f"password-changed:{user.id}:{user.session_version}",
    )


def account_closed(user: User, cancelled: int) -> None:
    """To a patient who closed their account: the confirmation, and whom to call if it was not
    them (or to reopen it). Sent to the address the account had, as the last thing it gets."""
    data = {
        "full_name": user.full_name,
        "closed_display": _now_display(),
        "help_phone": current_app.config["CLINIC_PHONE"],
    }
    if cancelled:
        data["cancelled_count"] = str(cancelled)
    _queue_email(
        "ACCOUNT_CLOSED", user.email, data, key=f"account-closed:{user.id}:{user.session_version}"
    )


def two_step_changed(user: User, *, enabled: bool, since, by_desk: bool = False) -> None:
    """Whenever two-step sign-in is turned on or off, whoever did it: the owner hears of it
    even when it was not them. `since` (when it was turned on) makes the key unique per change."""
    data = {
        "full_name": user.full_name,
        "changed_display": _now_display(),
        "help_phone": current_app.config["CLINIC_PHONE"],
    }
    if by_desk:
        data["changed_by"] = "the clinic's front desk, at your request"
    action = "TWO_STEP_ENABLED" if enabled else "TWO_STEP_DISABLED"
    _queue_email(action, user.email, data, key=f"{action}:{user.id}:{since.timestamp():.6f}")


def email_change_link(user: User, new_email: str, url: str, *, valid_for: str, key: str) -> None:
    _queue_email(
        "EMAIL_CHANGE_CONFIRM",
        new_email,
        {"full_name": user.full_name, "confirm_url": url, "valid_for": valid_for},
        key=key,
    )


def email_changed(user: User, old_email: str) -> None:
    """Both addresses hear of it: the old one, in case this was not the owner's wish; the new
    one, so its owner knows it now signs them in."""
    data = {
        "full_name": user.full_name,
        "new_email": user.email,
        "help_phone": current_app.config["CLINIC_PHONE"],
        "login_url": _url("/auth/login"),
    }
    # An address may come back (work, home, work again): the key names this change, not it.
    change = secrets.token_hex(8)
    for which, address in (("old", old_email), ("new", user.email)):
        _queue_email(
            "EMAIL_CHANGED", address, data, key=f"email-changed:{user.id}:{change}:{which}"
        )


def _recipients(doctor: DoctorProfile, patient: PatientProfile, doctor_wants: bool):
    """The patient always; the doctor when their email settings ask for this kind of email."""
    yield "patient", patient.user
    if doctor_wants:
        yield "doctor", doctor.user


def appointment_booked(appointment: Appointment) -> None:
    doctor, patient = _parties(appointment)
    for role, person in _recipients(doctor, patient, doctor.booking_emails):
        data = _appointment_data(appointment, doctor, patient, role)
        if appointment.notes:
            data["notes"] = appointment.notes
        _queue_email(
            "BOOKING_CONFIRMATION", person.email, data, key=f"booked:{appointment.id}:{role}"
        )
    _calendar_hook("booked", appointment, doctor, patient)


def appointment_cancelled(appointment: Appointment, cancelled_by: User) -> None:
    doctor, patient = _parties(appointment)
    by = "the clinic" if cancelled_by.is_staff else cancelled_by.full_name
    for role, person in _recipients(doctor, patient, doctor.booking_emails):
        data = _appointment_data(appointment, doctor, patient, role)
        data["cancelled_by"] = by
        if appointment.cancel_reason:
            data["cancel_reason"] = appointment.cancel_reason
        data.pop("ics_url")
        _queue_email(
            "BOOKING_CANCELLED", person.email, data, key=f"cancelled:{appointment.id}:{role}"
        )
    _calendar_hook("cancelled", appointment, doctor, patient)


def appointment_note_changed(appointment: Appointment) -> None:
    """No email (the doctor reads the note on their lists); calendar events show the new one."""
    doctor, patient = _parties(appointment)
    _calendar_hook("changed", appointment, doctor, patient)


def _calendar_hook(event: str, appointment: Appointment, doctor, patient) -> None:
    """Calendar side effects ride the same outbox; the calendar service decides who is connected."""
    from app.services import calendar_sync

    calendar_sync.queue_for(event, appointment, doctor, patient)


def appointment_rescheduled(appointment: Appointment, old_start, move_id: int) -> None:
    """`move_id` (the AppointmentChange row) keeps keys unique when an appointment moves back."""
    doctor, patient = _parties(appointment)
    zone = current_app.config["CLINIC_TIMEZONE"]
    for role, person in _recipients(doctor, patient, doctor.booking_emails):
        data = _appointment_data(appointment, doctor, patient, role)
        data["old_start_display"] = f"{format_local(old_start, DISPLAY_FORMAT)} ({zone})"
        _queue_email(
            "BOOKING_RESCHEDULED",
            person.email,
            data,
            key=f"rescheduled:{appointment.id}:{move_id}:{role}",
        )
    _calendar_hook("rescheduled", appointment, doctor, patient)


def appointment_reminder(appointment: Appointment) -> None:
    """Both parties are reminded (the doctor unless they turned it off); the key names the start
    time, so a moved one is reminded anew."""
    doctor, patient = _parties(appointment)
    for role, person in _recipients(doctor, patient, doctor.reminder_emails):
        data = _appointment_data(appointment, doctor, patient, role)
        if role == "patient" and appointment.attendance_confirmed_at is None:  # one click says so
            data["attend_url"] = _url(f"/attendance/{attendance.make_token(appointment)}")
        key = reminder_key(appointment, role)
        _queue_email("APPOINTMENT_REMINDER", person.email, data, key=key)


def appointment_missed(appointment: Appointment, missed_note: str | None) -> None:
    """The patient did not come: they hear it is recorded, how to book again, and (`missed_note`)
    where they stand with the no-show rule. The key names this marking: a no-show corrected and
    marked again is a new email."""
    doctor, patient = _parties(appointment)
    zone = current_app.config["CLINIC_TIMEZONE"]
    data = {
        "patient_name": patient.user.full_name,
        "doctor_name": doctor.user.full_name,
        "start_display": f"{format_local(appointment.start_at, DISPLAY_FORMAT)} ({zone})",
        "help_phone": current_app.config["CLINIC_PHONE"],
        "book_url": _url(f"/patient/doctors/{doctor.id}"),
        "appointment_id": appointment.id,  # to quote on the phone; and for sending it again
    }
    if missed_note:
        data["missed_note"] = missed_note
    key = f"{missed_key(appointment)}{secrets.token_hex(6)}"
    _queue_email("MISSED_APPOINTMENT", patient.user.email, data, key=key)


def missed_key(appointment: Appointment) -> str:
    """The start of the keys of an appointment's missed-appointment emails."""
    return f"missed:{appointment.id}:"


def visit_instructions(appointment: Appointment, now: datetime) -> None:
    """The doctor left the patient instructions after their visit: the email says so and links
    to where the patient reads them, signed in; what they say stays out of the mailbox. Held
    INSTRUCTIONS_EMAIL_DELAY_MINUTES so that a correction made meanwhile is no second email; one
    a worker has taken is left, and a later change is news again."""
    doctor, patient = _parties(appointment)
    if not patient.user.active:
        return  # a closed account cannot sign in to read them
    key = instructions_key(appointment)
    if outbox_repo.lock_held(key, now) is not None:
        return
    zone = current_app.config["CLINIC_TIMEZONE"]
    data = {
        "patient_name": patient.user.full_name,
        "doctor_name": doctor.user.full_name,
        "start_display": f"{format_local(appointment.start_at, DISPLAY_FORMAT)} ({zone})",
        "read_url": _url(f"/patient/appointments/{appointment.id}"),
        "help_phone": current_app.config["CLINIC_PHONE"],
        "appointment_id": appointment.id,
    }
    delay = timedelta(minutes=current_app.config["INSTRUCTIONS_EMAIL_DELAY_MINUTES"])
    outbox.enqueue(
        OutboxKind.EMAIL,
        {"action": "VISIT_INSTRUCTIONS", "to": patient.user.email, "data": data},
        idempotency_key=f"{key}{now.isoformat()}:{secrets.token_hex(4)}",
        not_before=now + delay,
    )


def instructions_key(appointment: Appointment) -> str:
    """The start of the keys of an appointment's VISIT_INSTRUCTIONS emails."""
    return f"instructions:{appointment.id}:"


def daily_agenda(doctor: DoctorProfile, day, agenda: str, count: int) -> None:
    """The doctor's appointments of `day`, written out one a line (day_agendas.py)."""
    data = {
        "doctor_name": doctor.user.full_name,
        "date_display": day.strftime("%A %d %B %Y"),
        "count_display": f"{count} appointment{'' if count == 1 else 's'}",
        "agenda": agenda,
        "manage_url": _url(f"/doctor/day?date={day.isoformat()}"),
    }
    key = f"agenda:{doctor.id}:{day.isoformat()}"
    _queue_email("DAILY_AGENDA", doctor.user.email, data, key=key)


# The email service takes 2,000 characters a field: room for the line saying what is left out.
MAX_SCHEDULE_CHANGES_CHARS = 1900
MORE_SCHEDULE_CHANGES = "And more: your schedule page shows them all."


def schedule_changed(doctor: DoctorProfile, change: str, now: datetime) -> None:
    """Tell the doctor of `change` (a line) someone else made to their schedule. One email
    gathers a sitting's changes: the first is held SCHEDULE_EMAIL_DELAY_MINUTES, and those made
    before it goes are added to it (under its row lock; one a worker has taken is left, and the
    change starts the next)."""
    key = f"schedule:{doctor.id}:"
    held = outbox_repo.lock_held(key, now)
    if held is not None:
        changes = held.payload["data"]["changes"]
        if changes.endswith(MORE_SCHEDULE_CHANGES):
            return
        added = f"{changes}\n{change}"
        if len(added) + len(MORE_SCHEDULE_CHANGES) >= MAX_SCHEDULE_CHANGES_CHARS:  # room for it
            added = f"{changes}\n{MORE_SCHEDULE_CHANGES}"
        held.payload = {**held.payload, "data": {**held.payload["data"], "changes": added}}
        return
    data = {
        "doctor_name": doctor.user.full_name,
        "changes": change,
        "schedule_url": _url("/doctor/availability"),
    }
    delay = timedelta(minutes=current_app.config["SCHEDULE_EMAIL_DELAY_MINUTES"])
    outbox.enqueue(
        OutboxKind.EMAIL,
        {"action": "SCHEDULE_CHANGED", "to": doctor.user.email, "data": data},
        idempotency_key=f"{key}{now.isoformat()}:{secrets.token_hex(4)}",
        not_before=now + delay,
    )


def reminder_key(appointment: Appointment, role: str) -> str:
    return f"reminder:{appointment.id}:{appointment.start_at.isoformat()}:{role}"


def waitlist_slot_open(entry, slot, event_id: str) -> None:
    doctor = db.session.get(DoctorProfile, entry.doctor_id)
    patient = db.session.get(PatientProfile, entry.patient_id)
    _queue_email(
        "WAITLIST_SLOT_OPEN",
        patient.user.email,
        {
            "patient_name": patient.user.full_name,
            "doctor_name": doctor.user.full_name,
            "specialization": doctor.specialization,
            "date_display": format_local(slot.start_at, "%A %d %B %Y"),
            "start_display": f"{format_local(slot.start_at, DISPLAY_FORMAT)} "
            f"({current_app.config['CLINIC_TIMEZONE']})",
            "slot_url": _url(f"/booking/slots/{slot.id}"),
        },
        key=f"waitlist:{entry.id}:{slot.id}:{event_id}",
    )
