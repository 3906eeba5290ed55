"""Booking and cancelling: the rules that keep one patient per slot.

`book` locks the slot row, re-checks it inside the transaction, and inserts the appointment with
its outbox rows; the caller commits once, or rolls back when it raises. The partial unique index
on active appointments is the last line of defence: an IntegrityError there is the same "slot
taken" as the check before it (and leaves the transaction to be rolled back, like any failed
flush).
"""

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    CANCEL_REASON_MAX,
    Appointment,
    AppointmentStatus,
    AvailabilitySlot,
    PatientProfile,
    Role,
    User,
)
from app.repositories import scheduling as repo
from app.services import (
    Conflict,
    DomainError,
    NotFound,
    attendance,
    new_patients,
    notifications,
    reminders,
    waitlist,
)
from app.services.access import can_manage
from app.services.audit import AuditKind, record
from app.timeutil import to_local, utcnow

log = logging.getLogger(__name__)

MAX_NOTES = 1000
SLOT_TAKEN = "Sorry, this slot was just taken by someone else."
SLOT_GONE = "This slot no longer exists. Please choose another one."
ALREADY_YOURS = "You have already booked this slot: it is in your appointments."
ALREADY_THEIRS = "This patient has already booked this slot."
CLASH = "You already have an appointment at that time."
CLASH_THEIRS = "This patient already has an appointment at that time."
DOCTOR_UNAVAILABLE = "This doctor is not taking bookings at the moment."


class SlotTaken(Conflict):
    def __init__(self):
        super().__init__(SLOT_TAKEN)


class SlotUnavailable(Conflict):
    """The slot exists no more, or is outside the booking window."""


class BookingRefused(Conflict):
    """The patient may not book online for now (too many missed appointments, too many booked
    ahead, or a doctor taking no new patients)."""


class CancelRefused(Conflict):
    """A cancel the rules refuse: already cancelled, in the past, inside the patient cut-off."""


def booking_window(now: datetime) -> tuple[datetime, datetime]:
    """The earliest and latest start a patient may book now (clinic notice and horizon)."""
    config = current_app.config
    return (
        now + timedelta(minutes=config["BOOKING_MIN_NOTICE_MINUTES"]),
        now + timedelta(days=config["BOOKING_MAX_DAYS_AHEAD"]),
    )


def missed_since(now: datetime) -> datetime:
    """Where the no-show rule starts counting."""
    return now - timedelta(days=current_app.config["NO_SHOW_WINDOW_DAYS"])


def no_show_refusal(missed: int) -> str | None:
    """Why a patient who missed `missed` appointments in the window may not book online, or
    None. The front desk still books for them (it can talk it through first); 0 turns it off."""
    config = current_app.config
    limit = config["NO_SHOW_LIMIT"]
    if limit <= 0 or missed < limit:
        return None
    return (
        f"You have missed {missed} appointments in the last {config['NO_SHOW_WINDOW_DAYS']} "
        f"days, so new bookings are made by the front desk: please call {config['CLINIC_PHONE']}."
    )


def no_show_warning(missed: int) -> str | None:
    """What a patient who has just missed an appointment, their `missed`-th in the window,
    should know of the no-show rule: how near they are to booking through the front desk, or
    that they now do. None when the rule is off."""
    config = current_app.config
    limit, days = config["NO_SHOW_LIMIT"], config["NO_SHOW_WINDOW_DAYS"]
    if limit <= 0:
        return None
    if no_show_refusal(missed) is not None:
        return (
            f"You have now missed {missed} appointments in the last {days} days, so new "
            f"bookings are made by the front desk: please call {config['CLINIC_PHONE']}."
        )
    return (
        f"You have missed {missed} appointment{'' if missed == 1 else 's'} in the last {days} "
        f"days; at {limit}, new bookings are made by the front desk rather than online."
    )


def upcoming_refusal(upcoming: int) -> str | None:
    """Why a patient holding `upcoming` appointments ahead may not book another online, or
    None. A clinic sets BOOKING_MAX_UPCOMING so that nobody holds times others need; the front
    desk and the doctors still book past it. 0 (the default) sets no limit."""
    config = current_app.config
    limit = config["BOOKING_MAX_UPCOMING"]
    if limit <= 0 or upcoming < limit:
        return None
    held = f"{upcoming} appointment{'' if upcoming == 1 else 's'}"
    return (
        f"You already have {held} booked ahead, and online booking allows {limit} at a time. "
        f"Please cancel one you no longer need, or call the front desk on {config['CLINIC_PHONE']}."
    )


def online_refusal(standing: repo.Standing) -> str | None:
    """Why the patient may not book online now, or None: the rules the confirm page checks
    before the booking checks them again under the patient's lock."""
    return no_show_refusal(standing.missed) or upcoming_refusal(standing.upcoming)


def within_online_limits(patient_id, now: datetime) -> list[ColumnElement[bool]]:
    """The rules `online_refusal` applies, as conditions on a patient (an id or a column) that
    hold when they would let them book online: for a query choosing whom to tell of a place,
    without a statement per patient. Empty when the clinic turned both rules off."""
    config = current_app.config
    conditions = []
    if config["NO_SHOW_LIMIT"] > 0:
        missed = repo.missed_count(patient_id, missed_since(now)).scalar_subquery()
        conditions.append(missed < config["NO_SHOW_LIMIT"])
    if config["BOOKING_MAX_UPCOMING"] > 0:
        upcoming = repo.upcoming_count(patient_id, now).scalar_subquery()
        conditions.append(upcoming < config["BOOKING_MAX_UPCOMING"])
    return conditions


def check_bookable_time(start_at: datetime, now: datetime) -> None:
    if start_at <= now:
        raise SlotUnavailable("This slot is in the past.")
    earliest, latest = booking_window(now)
    if start_at < earliest:
        minutes = current_app.config["BOOKING_MIN_NOTICE_MINUTES"]
        raise SlotUnavailable(
            f"Bookings need at least {minutes} minutes' notice. Please choose a later slot "
            f"or call the front desk."
        )
    if start_at > latest:
        days = current_app.config["BOOKING_MAX_DAYS_AHEAD"]
        raise SlotUnavailable(f"Bookings open {days} days ahead. Please choose an earlier slot.")


def book(
    patient: PatientProfile,
    slot_id: int,
    notes: str | None = None,
    *,
    actor: User,
    now: datetime | None = None,
    doctor_id: int | None = None,
) -> Appointment:
    """Book `slot_id` for `patient` inside the caller's transaction; with `doctor_id`, only a
    slot of that doctor (a doctor booking their patient's follow-up)."""
    now = now or utcnow()
    notes = (notes or "").strip()[:MAX_NOTES] or None
    slot = repo.lock_slot_with_doctor(slot_id)
    if slot is None or (doctor_id is not None and slot.doctor_id != doctor_id):
        raise SlotUnavailable(SLOT_GONE)
    check_bookable_time(slot.start_at, now)
    # Held in a name for the rest of the booking: the session's identity map keeps objects only
    # while something refers to them, and the notifications below need this doctor again.
    doctor = slot.doctor
    if not doctor.bookable:  # deactivated, or not approved yet
        raise SlotUnavailable(DOCTOR_UNAVAILABLE)
    online = actor.id == patient.user_id  # the rules below bind patients, not the staff
    if online and (refusal := new_patients.refusal(doctor, patient.id)) is not None:
        raise BookingRefused(refusal)
    holder = repo.slot_holder(slot.id)
    if holder is not None:
        if holder == patient.id:  # a second click on "Confirm", say
            raise Conflict(ALREADY_YOURS if actor.id == patient.user_id else ALREADY_THEIRS)
        log.info("slot %s already taken; patient %s refused", slot.id, patient.id)
        raise SlotTaken()

    day = to_local(slot.start_at).date()
    lock = repo.lock_patient(patient.id, missed_since(now), slot.doctor_id, day)
    if online and (refusal := no_show_refusal(lock.missed)) is not None:
        raise BookingRefused(refusal)
    theirs = repo.patient_bookings(patient.id, slot.start_at, slot.end_at, now)
    if theirs.clash is not None:
        raise Conflict(CLASH if online else CLASH_THEIRS)
    if online and (refusal := upcoming_refusal(theirs.upcoming)) is not None:
        raise BookingRefused(refusal)

    appointment = Appointment(
        slot_id=slot.id,
        doctor_id=slot.doctor_id,
        patient_id=patient.id,
        start_at=slot.start_at,
        end_at=slot.end_at,
        notes=notes,
        status=AppointmentStatus.BOOKED,
        attendance_confirmed_at=attendance.said_on_booking(slot.start_at, now),
    )
    db.session.add(appointment)
    try:
        db.session.flush()
    except IntegrityError:  # no savepoint (two round trips per booking): the caller rolls back
        log.info("slot %s taken (unique index); patient %s refused", slot.id, patient.id)
        raise SlotTaken() from None
    record(AuditKind.APPOINTMENT_BOOKED, actor=actor, target=appointment, slot_id=slot.id)
    notifications.appointment_booked(appointment)
    if lock.waiting:  # the place they waited for: no more emails about that day or later ones
        waitlist.served(patient.id, slot.doctor_id, day, actor=actor)
    return appointment


def cutoff_message(verb: str) -> str:
    hours = current_app.config["PATIENT_CANCEL_CUTOFF_HOURS"]
    phone = current_app.config["CLINIC_PHONE"]
    return (
        f"Appointments can only be {verb} online up to {hours} hours before they start. "
        f"Please call the front desk on {phone}."
    )


def inside_patient_cutoff(appointment: Appointment, actor: User, now: datetime) -> bool:
    """Patients cannot cancel or move inside the cut-off; doctors and admins can."""
    hours = current_app.config["PATIENT_CANCEL_CUTOFF_HOURS"]
    return actor.role == Role.PATIENT and appointment.start_at - now < timedelta(hours=hours)


def cancel_refusal(appointment: Appointment, actor: User, now: datetime) -> str | None:
    """Why `actor` may not cancel this appointment now, or None when they may.

    One rule for the cancel itself and for the pages deciding where to show a cancel button.
    Ownership is not checked here: `cancel` hides other people's appointments behind a 404.
    """
    if appointment.status == AppointmentStatus.CANCELLED:
        return "This appointment is already cancelled."
    if appointment.status != AppointmentStatus.BOOKED or appointment.start_at <= now:
        return "This appointment has already started or taken place."
    if inside_patient_cutoff(appointment, actor, now):
        return cutoff_message("cancelled")
    return None


def cancel(
    appointment_id: int,
    *,
    actor: User,
    now: datetime | None = None,
    offer_to_waitlist: bool = True,
    reason: str | None = None,
) -> Appointment:
    """Cancel an upcoming appointment; it is kept for history and its slot opens again (and the
    day's waitlist hears of it, unless the slot is about to go too: a doctor's time off).

    `reason`, when given, is kept with it and goes in both emails. The audit trail records only
    that one was given: it may say something about the patient's health."""
    now = now or utcnow()
    reason = " ".join((reason or "").split()) or None
    if reason is not None and len(reason) > CANCEL_REASON_MAX:
        raise DomainError(f"Keep the reason to {CANCEL_REASON_MAX} characters.", field="reason")
    appointment = repo.lock_appointment(appointment_id)
    if appointment is None or not can_manage(appointment, actor):
        raise NotFound("That appointment does not exist.")
    refusal = cancel_refusal(appointment, actor, now)
    if refusal is not None:
        raise CancelRefused(refusal)

    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = now
    appointment.cancelled_by_id = actor.id
    appointment.cancel_reason = reason
    db.session.flush()
    record(
        AuditKind.APPOINTMENT_CANCELLED,
        actor=actor,
        target=appointment,
        by_role=actor.role.value,
        slot_id=appointment.slot_id,
        with_reason=reason is not None,
    )
    notifications.appointment_cancelled(appointment, actor)
    reminders.withdraw(appointment)
    if offer_to_waitlist and appointment.slot_id is not None:
        slot = db.session.get(AvailabilitySlot, appointment.slot_id)
        if slot is not None:
            waitlist.slot_freed(slot, now)
    return appointment


def note_refusal(appointment: Appointment, actor: User, now: datetime) -> str | None:
    """Why `actor` may not change this appointment's note now, or None: the patient may, up to
    its start (inside the cancel cut-off too: it moves nothing)."""
    if actor.role != Role.PATIENT:
        return "Only the patient can change their note."
    if appointment.status != AppointmentStatus.BOOKED or appointment.start_at <= now:
        return "Only the note of an upcoming appointment can be changed."
    return None


def change_note(
    appointment_id: int, notes: str | None, *, actor: User, now: datetime | None = None
) -> Appointment:
    """The patient adds to, rewrites or clears what the doctor should know. The audit trail
    records that it changed, not what it says (it is medical information)."""
    now = now or utcnow()
    appointment = repo.lock_appointment(appointment_id)
    if appointment is None or actor.role != Role.PATIENT or not can_manage(appointment, actor):
        raise NotFound("That appointment does not exist.")
    refusal = note_refusal(appointment, actor, now)
    if refusal is not None:
        raise Conflict(refusal)
    notes = (notes or "").strip()[:MAX_NOTES] or None
    if notes == appointment.notes:
        return appointment
    appointment.notes = notes
    db.session.flush()
    record(AuditKind.APPOINTMENT_NOTE_CHANGED, actor=actor, target=appointment)
    notifications.appointment_note_changed(appointment)
    return appointment
