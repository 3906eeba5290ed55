"""Scheduling aggregate: the slots doctors publish and the appointments patients hold.

A slot is open when no active appointment points at it. That state is derived, never stored,
and the partial unique index on appointments makes the database refuse a second active
appointment on one slot whatever the application does.
"""

import enum
from collections.abc import Iterable
from datetime import date, datetime, time

from sqlalchemy import (
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


ACTIVE_APPOINTMENT_SQL = "status <> 'cancelled'"
CANCEL_REASON_MAX = 200


class AvailabilitySlot(db.Model):
    __tablename__ = "availability_slots"
    __table_args__ = (
        UniqueConstraint("doctor_id", "start_at", name="uq_availability_slots_doctor_start"),
        CheckConstraint("end_at > start_at", name="end_after_start"),
        Index("ix_availability_slots_start_at", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctor_profiles.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    doctor = relationship("DoctorProfile", lazy="raise")

    def __repr__(self) -> str:
        return f"<AvailabilitySlot {self.id} doctor={self.doctor_id} {self.start_at}>"


class StandingHours(db.Model):
    """Weekly hours a doctor keeps open: a weekly template, repeated (a doctor may keep
    several, say mornings on Mondays and afternoons on Thursdays). The outbox worker publishes
    each new day's slots as it comes into the booking window; `published_through` is the last
    clinic-local day already done, so a day is filled once, and time taken off or a slot deleted
    on a day already done is never put back."""

    __tablename__ = "standing_hours"
    __table_args__ = (
        CheckConstraint("day_end > day_start", name="day_end_after_start"),
        CheckConstraint("weekdays > 0 AND weekdays < 128", name="some_weekdays"),
        CheckConstraint(
            "(break_start IS NULL AND break_end IS NULL) OR "
            "(day_start < break_start AND break_start < break_end AND break_end < day_end)",
            name="break_inside_day",
        ),
        Index("ix_standing_hours_doctor_id", "doctor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctor_profiles.id", ondelete="CASCADE"))
    weekdays: Mapped[int] = mapped_column(SmallInteger)  # bit d set: weekday d (Monday = 0)
    day_start: Mapped[time] = mapped_column(Time)
    day_end: Mapped[time] = mapped_column(Time)
    # A break (lunch, say): no slot across it, the afternoon's start again at its end.
    break_start: Mapped[time | None] = mapped_column(Time)
    break_end: Mapped[time | None] = mapped_column(Time)
    slot_minutes: Mapped[int] = mapped_column(SmallInteger)
    published_through: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def weekday_list(self) -> list[int]:
        return [day for day in range(7) if self.weekdays & (1 << day)]

    @staticmethod
    def weekday_bits(weekdays: Iterable[int]) -> int:
        return sum(1 << day for day in set(weekdays))


class Appointment(db.Model):
    __tablename__ = "appointments"
    __table_args__ = (
        Index(
            "uq_appointments_active_slot",
            "slot_id",
            unique=True,
            postgresql_where=text(ACTIVE_APPOINTMENT_SQL),
            sqlite_where=text(ACTIVE_APPOINTMENT_SQL),
        ),
        Index("ix_appointments_patient_start", "patient_id", "start_at"),
        Index("ix_appointments_doctor_start", "doctor_id", "start_at"),
        Index("ix_appointments_status_start", "status", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # SET NULL: a slot may be deleted once free; the appointment keeps its own copy of the times.
    slot_id: Mapped[int | None] = mapped_column(
        ForeignKey("availability_slots.id", ondelete="SET NULL")
    )
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctor_profiles.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profiles.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[AppointmentStatus] = mapped_column(
        Enum(
            AppointmentStatus,
            name="appointment_status",
            native_enum=False,
            length=16,
            validate_strings=True,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=AppointmentStatus.BOOKED,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Why, when the one cancelling said: both sides read it, in their lists and the email.
    cancel_reason: Mapped[str | None] = mapped_column(String(CANCEL_REASON_MAX))
    google_event_id_doctor: Mapped[str | None] = mapped_column(String(255))
    google_event_id_patient: Mapped[str | None] = mapped_column(String(255))
    # The start time a reminder was queued for: a moved appointment is reminded again.
    reminded_for_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the patient arrived, as the front desk (or the doctor) checked them in.
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the patient said they will come (from the reminder's link, or told the front desk):
    # cleared when the appointment moves, since they said it of the time it had.
    attendance_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The doctor's own record of the visit: only the appointment's doctor reads or writes it (not
    # the patient, the front desk, emails, calendars, exports nor the audit trail).
    visit_notes: Mapped[str | None] = mapped_column(Text)
    # What the doctor asks of the patient after the visit (take this, book that): the patient
    # reads it on their appointment's page; emails say only that it is there. `instructions_at`
    # is when it last changed, None while there is none.
    patient_instructions: Mapped[str | None] = mapped_column(Text)
    instructions_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    slot = relationship("AvailabilitySlot", lazy="raise")
    # raise_on_sql: a party already in the session is found there (a list of one doctor's or
    # one patient's appointments does not join that party again); loading it would raise.
    doctor = relationship("DoctorProfile", lazy="raise_on_sql")
    patient = relationship("PatientProfile", lazy="raise_on_sql")
    cancelled_by = relationship("User", lazy="raise")
    # what the patient said of the visit (app/models/feedback.py), when they did
    feedback = relationship("VisitFeedback", uselist=False, lazy="raise", viewonly=True)

    @property
    def is_active(self) -> bool:
        return self.status != AppointmentStatus.CANCELLED

    def __repr__(self) -> str:
        return f"<Appointment {self.id} {self.status} slot={self.slot_id}>"


class AppointmentChange(db.Model):
    """History of an appointment's moves: where it was and where it went, and who moved it."""

    __tablename__ = "appointment_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    from_slot_id: Mapped[int | None] = mapped_column()
    to_slot_id: Mapped[int | None] = mapped_column()
    from_start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    to_start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WaitlistEntry(db.Model):
    """A patient waiting for a place with one doctor on one clinic-local day."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        UniqueConstraint("patient_id", "doctor_id", "day", name="uq_waitlist_entries_patient_day"),
        Index("ix_waitlist_entries_doctor_day", "doctor_id", "day", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profiles.id", ondelete="CASCADE"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctor_profiles.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    doctor = relationship("DoctorProfile", lazy="raise")
    patient = relationship("PatientProfile", lazy="raise")


class ClinicClosure(db.Model):
    """A clinic-local day the whole clinic is closed (a public holiday): no slot is published on
    it, and closing it removed the open ones."""

    __tablename__ = "clinic_closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    reason: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
