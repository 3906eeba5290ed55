"""Patient profiles: the card a doctor sees next to an appointment."""

from datetime import date

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db


class PatientProfile(db.Model):
    __tablename__ = "patient_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(String(300))
    emergency_contact: Mapped[str | None] = mapped_column(String(200))

    user = relationship("User", back_populates="patient_profile", lazy="joined")

    @property
    def full_name(self) -> str:
        return self.user.full_name

    def __repr__(self) -> str:
        return f"<PatientProfile {self.id}>"
