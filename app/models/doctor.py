"""Doctor profiles: what patients search and read before booking."""

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db


class DoctorProfile(db.Model):
    __tablename__ = "doctor_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    specialization: Mapped[str] = mapped_column(String(100), index=True)
    years_of_experience: Mapped[int] = mapped_column(Integer, default=0)
    bio: Mapped[str | None] = mapped_column(Text)

    user = relationship("User", back_populates="doctor_profile", lazy="joined")

    @property
    def full_name(self) -> str:
        return self.user.full_name

    def __repr__(self) -> str:
        return f"<DoctorProfile {self.id} {self.specialization}>"
