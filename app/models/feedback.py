"""What patients say of a visit that took place: the Friends and Family Test's question ("Overall,
how was your experience of our service?"), one answer a visit, with an optional comment.

Staff read the answers without the patient's name (app/services/feedback.py); the row keeps its
appointment so that a visit is answered once.
"""

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

FEEDBACK_COMMENT_MAX = 1000


class FeedbackAnswer(enum.StrEnum):
    """The test's six answers, best first."""

    VERY_GOOD = "very_good"
    GOOD = "good"
    NEITHER = "neither"
    POOR = "poor"
    VERY_POOR = "very_poor"
    DONT_KNOW = "dont_know"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def positive(self) -> bool:
        return self in (FeedbackAnswer.VERY_GOOD, FeedbackAnswer.GOOD)

    @property
    def negative(self) -> bool:
        return self in (FeedbackAnswer.POOR, FeedbackAnswer.VERY_POOR)


_LABELS = {
    FeedbackAnswer.VERY_GOOD: "Very good",
    FeedbackAnswer.GOOD: "Good",
    FeedbackAnswer.NEITHER: "Neither good nor poor",
    FeedbackAnswer.POOR: "Poor",
    FeedbackAnswer.VERY_POOR: "Very poor",
    FeedbackAnswer.DONT_KNOW: "Don't know",
}


class VisitFeedback(db.Model):
    __tablename__ = "visit_feedback"
    __table_args__ = (Index("ix_visit_feedback_doctor_created", "doctor_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # unique: one answer a visit, whatever two tabs send at once
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), unique=True
    )
    # the visit's doctor, kept here so that their figures read one index
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctor_profiles.id", ondelete="CASCADE"))
    answer: Mapped[FeedbackAnswer] = mapped_column(
        Enum(
            FeedbackAnswer,
            name="feedback_answer",
            native_enum=False,
            length=16,
            validate_strings=True,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<VisitFeedback {self.id} {self.answer} appointment={self.appointment_id}>"
