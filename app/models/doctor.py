"""Doctor profiles: what patients search and read before booking."""

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime


class DoctorProfile(db.Model):
    __tablename__ = "doctor_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    specialization: Mapped[str] = mapped_column(String(100), index=True)
    years_of_experience: Mapped[int] = mapped_column(Integer, default=0)
    bio: Mapped[str | None] = mapped_column(Text)
    # When the front desk approved the doctor (or they signed up where no approval is asked):
    # until then patients cannot find or book them. See `DOCTOR_APPROVAL_REQUIRED`.
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A doctor whose list is full: patients who never had an appointment with them cannot book
    # online (the front desk still can); those already theirs book as before.
    closed_to_new_patients: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # Which emails the doctor wants (`/doctor/emails`): one for each booking, cancellation and
    # move of their appointments, a reminder before each, each morning the day's list
    # (`agenda_sent_on`: the last clinic-local day it went for), and a note when someone else (the
    # front desk) changes their schedule. Patients get theirs regardless.
    booking_emails: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    reminder_emails: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    agenda_emails: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    agenda_sent_on: Mapped[date | None] = mapped_column(Date)
    schedule_emails: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    user = relationship("User", back_populates="doctor_profile", lazy="joined")

    @property
    def full_name(self) -> str:
        return self.user.full_name

    @property
    def bookable(self) -> bool:
        """Whether patients may find and book this doctor: approved, and the account open."""
        return self.approved_at is not None and self.user.active

    def __repr__(self) -> str:
        return f"<DoctorProfile {self.id} {self.specialization}>"
