"""Queries over slots and appointments, and the row locks the booking rules rely on.

`FOR UPDATE` is what makes booking race-safe on PostgreSQL; SQLite ignores it, and there the
partial unique index on appointments is what refuses a double booking.
"""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, and_, exists, func, select

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    AvailabilitySlot,
    DoctorProfile,
    PatientProfile,
)
from app.timeutil import as_utc

ACTIVE = Appointment.status != AppointmentStatus.CANCELLED


def lock_slot(slot_id: int) -> AvailabilitySlot | None:
    return db.session.scalar(
        select(AvailabilitySlot).where(AvailabilitySlot.id == slot_id).with_for_update()
    )


def lock_slots(slot_ids: Iterable[int]) -> dict[int, AvailabilitySlot]:
    """Lock several slots in ascending id order, so two movers never deadlock each other."""
    ids = sorted(set(slot_ids))
    rows = db.session.scalars(
        select(AvailabilitySlot)
        .where(AvailabilitySlot.id.in_(ids))
        .order_by(AvailabilitySlot.id)
        .with_for_update()
    ).all()
    return {slot.id: slot for slot in rows}


def lock_doctor(doctor_id: int) -> DoctorProfile | None:
    """Serialises slot creation per doctor, so two tabs cannot publish overlapping slots."""
    return db.session.scalar(
        select(DoctorProfile).where(DoctorProfile.id == doctor_id).with_for_update(of=DoctorProfile)
    )


def lock_patient(patient_id: int) -> PatientProfile | None:
    """Serialises one patient's bookings, so two tabs cannot book overlapping times."""
    return db.session.scalar(
        select(PatientProfile)
        .where(PatientProfile.id == patient_id)
        .with_for_update(of=PatientProfile)
    )


def lock_appointment(appointment_id: int) -> Appointment | None:
    return db.session.scalar(
        select(Appointment).where(Appointment.id == appointment_id).with_for_update()
    )


def active_appointment_for_slot(slot_id: int) -> Appointment | None:
    return db.session.scalar(select(Appointment).where(Appointment.slot_id == slot_id, ACTIVE))


def patient_overlap(
    patient_id: int, start: datetime, end: datetime, exclude_id: int | None = None
) -> Appointment | None:
    query = select(Appointment).where(
        Appointment.patient_id == patient_id,
        Appointment.status == AppointmentStatus.BOOKED,
        Appointment.start_at < end,
        Appointment.end_at > start,
    )
    if exclude_id is not None:
        query = query.where(Appointment.id != exclude_id)
    return db.session.scalar(query.limit(1))


def doctor_slots_between(doctor_id: int, start: datetime, end: datetime) -> list[AvailabilitySlot]:
    """The doctor's slots that touch [start, end): what a new slot must not overlap."""
    return list(
        db.session.scalars(
            select(AvailabilitySlot)
            .where(
                AvailabilitySlot.doctor_id == doctor_id,
                AvailabilitySlot.start_at < end,
                AvailabilitySlot.end_at > start,
            )
            .order_by(AvailabilitySlot.start_at)
        )
    )


def slot_is_open():
    """SQL condition: no active appointment holds the slot (answered by the partial index)."""
    return ~exists().where(Appointment.slot_id == AvailabilitySlot.id, ACTIVE)


def open_slots(doctor_id: int, earliest: datetime, latest: datetime) -> Select:
    return (
        select(AvailabilitySlot)
        .where(
            AvailabilitySlot.doctor_id == doctor_id,
            AvailabilitySlot.start_at >= earliest,
            AvailabilitySlot.start_at <= latest,
            slot_is_open(),
        )
        .order_by(AvailabilitySlot.start_at)
    )


def next_open_slot_by_doctor(
    doctor_ids: list[int], earliest: datetime, latest: datetime
) -> dict[int, datetime]:
    """One query for a whole page of doctors: doctor id → start of their next open slot."""
    if not doctor_ids:
        return {}
    rows = db.session.execute(
        select(AvailabilitySlot.doctor_id, func.min(AvailabilitySlot.start_at))
        .where(
            AvailabilitySlot.doctor_id.in_(doctor_ids),
            AvailabilitySlot.start_at >= earliest,
            AvailabilitySlot.start_at <= latest,
            slot_is_open(),
        )
        .group_by(AvailabilitySlot.doctor_id)
    ).all()
    return {doctor_id: as_utc(start) for doctor_id, start in rows}


def booked_slot_ids(slot_ids: list[int]) -> set[int]:
    """Which of these slots hold an active appointment, in one query."""
    if not slot_ids:
        return set()
    return set(
        db.session.scalars(
            select(Appointment.slot_id).where(and_(Appointment.slot_id.in_(slot_ids), ACTIVE))
        )
    )
