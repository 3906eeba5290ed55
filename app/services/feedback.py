"""Patients tell the clinic how a visit went: the Friends and Family Test's question, one answer
a visit that took place, within FEEDBACK_DAYS of it, with a comment if they like.

Doctors read their own answers and comments, the administrators everyone's by doctor; neither
sees the patient's name, so that patients say what they think. The audit trail records that a
visit was answered, never what was said.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    FEEDBACK_COMMENT_MAX,
    Appointment,
    AppointmentStatus,
    DoctorProfile,
    FeedbackAnswer,
    PatientProfile,
    User,
    VisitFeedback,
)
from app.pagination import RowsPagination
from app.repositories import scheduling as repo
from app.services import Conflict, DomainError, NotFound
from app.services.audit import AuditKind, record
from app.timeutil import utcnow

QUESTION = "Overall, how was your experience of our service?"
FEEDBACK_DAYS = 30  # how long after a visit its patient may answer
SUMMARY_DAYS = 90  # the period staff read figures for


def refusal(appointment: Appointment, answered: bool, now: datetime) -> str | None:
    """Why the patient cannot tell us about this visit now, or None."""
    if answered:
        return "You have told us about this visit already. Thank you."
    if appointment.status != AppointmentStatus.COMPLETED:
        return "You can tell us about a visit once your doctor has recorded that it took place."
    if appointment.end_at + timedelta(days=FEEDBACK_DAYS) < now:
        return f"Visits are answered within {FEEDBACK_DAYS} days; please call us instead."
    return None


def for_appointment(appointment_id: int) -> VisitFeedback | None:
    return db.session.scalar(
        select(VisitFeedback).where(VisitFeedback.appointment_id == appointment_id)
    )


def give(
    patient: PatientProfile,
    appointment_id: int,
    answer: str,
    comment: str | None,
    *,
    actor: User,
    now: datetime | None = None,
) -> VisitFeedback:
    """The patient's answer for their visit; NotFound for someone else's, Conflict when it may
    not be answered (again, or yet, or any more)."""
    now = now or utcnow()
    try:
        chosen = FeedbackAnswer(answer)
    except ValueError:
        raise DomainError("Choose one of the answers.", field="answer") from None
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > FEEDBACK_COMMENT_MAX:
        raise DomainError(f"Keep it to {FEEDBACK_COMMENT_MAX} characters.", field="comment")
    appointment = repo.lock_appointment(appointment_id)
    if appointment is None or appointment.patient_id != patient.id:
        raise NotFound("That appointment does not exist.")
    reason = refusal(appointment, for_appointment(appointment.id) is not None, now)
    if reason is not None:
        raise Conflict(reason)
    feedback = VisitFeedback(
        appointment_id=appointment.id,
        doctor_id=appointment.doctor_id,
        answer=chosen,
        comment=comment,
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(feedback)
    except IntegrityError:  # the same answer from another tab, a moment before
        raise Conflict("You have told us about this visit already. Thank you.") from None
    record(AuditKind.FEEDBACK_GIVEN, actor=actor, target=appointment)
    return feedback


def waiting_for(patient: PatientProfile, now: datetime) -> Appointment | None:
    """The patient's latest visit they can still tell us about (for their dashboard's
    question), with its doctor; None when there is none. One statement."""
    answered = select(VisitFeedback.id).where(VisitFeedback.appointment_id == Appointment.id)
    return db.session.scalar(
        repo.appointments(patient=patient)
        .where(
            Appointment.status == AppointmentStatus.COMPLETED,
            Appointment.end_at >= now - timedelta(days=FEEDBACK_DAYS),
            Appointment.end_at <= now,
            ~answered.exists(),
        )
        .order_by(Appointment.start_at.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class Figures:
    """The answers of a period: how many of each, and the shares staff look at."""

    counts: dict[FeedbackAnswer, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def share(self, which: str) -> int | None:
        """Percent of the answers that are `positive` or `negative` ("don't know" counts, as the
        test counts it); None without answers."""
        if not self.total:
            return None
        chosen = sum(n for answer, n in self.counts.items() if getattr(answer, which))
        return round(100 * chosen / self.total)


def _since(now: datetime) -> datetime:
    return now - timedelta(days=SUMMARY_DAYS)


def doctor_figures(doctor: DoctorProfile, now: datetime) -> Figures:
    """The doctor's answers of the last SUMMARY_DAYS, one statement."""
    rows = db.session.execute(
        select(VisitFeedback.answer, func.count())
        .where(VisitFeedback.doctor_id == doctor.id, VisitFeedback.created_at >= _since(now))
        .group_by(VisitFeedback.answer)
    )
    return Figures({**dict.fromkeys(FeedbackAnswer, 0), **dict(rows.all())})


def comments_page(now: datetime, *, page: int, per_page: int, doctor: DoctorProfile | None = None):
    """The comments of the last SUMMARY_DAYS, newest first (one doctor's, or everyone's with
    their doctor's name): rows of the answer, the comment, the day and the doctor, never who
    wrote it. One statement a page (two when the page is full and the total is asked)."""
    where = [VisitFeedback.comment.is_not(None), VisitFeedback.created_at >= _since(now)]
    if doctor is not None:
        where.append(VisitFeedback.doctor_id == doctor.id)

    def rows(limit: int, offset: int) -> list:
        query = (
            select(
                VisitFeedback.answer,
                VisitFeedback.comment,
                VisitFeedback.created_at,
                User.full_name.label("doctor_name"),
            )
            .join(DoctorProfile, DoctorProfile.id == VisitFeedback.doctor_id)
            .join(User, User.id == DoctorProfile.user_id)
            .where(*where)
            .order_by(VisitFeedback.created_at.desc(), VisitFeedback.id.desc())
        )
        return db.session.execute(query.limit(limit).offset(offset)).all()

    def count() -> int:
        return db.session.scalar(select(func.count(VisitFeedback.id)).where(*where))

    return RowsPagination(rows, count, page=page, per_page=per_page)


@dataclass(frozen=True)
class DoctorRow:
    doctor_id: int
    name: str
    specialization: str
    figures: Figures


def clinic_figures(now: datetime) -> list[DoctorRow]:
    """Each doctor with answers in the last SUMMARY_DAYS, most answers first: one statement."""
    counts = [
        func.count(case((VisitFeedback.answer == answer, 1))).label(answer.value)
        for answer in FeedbackAnswer
    ]
    rows = db.session.execute(
        select(DoctorProfile.id, User.full_name, DoctorProfile.specialization, *counts)
        .join(DoctorProfile, DoctorProfile.id == VisitFeedback.doctor_id)
        .join(User, User.id == DoctorProfile.user_id)
        .where(VisitFeedback.created_at >= _since(now))
        .group_by(DoctorProfile.id, User.full_name, DoctorProfile.specialization)
        .order_by(func.count().desc(), User.full_name)
    )
    return [
        DoctorRow(
            row.id,
            row.full_name,
            row.specialization,
            Figures({answer: getattr(row, answer.value) for answer in FeedbackAnswer}),
        )
        for row in rows
    ]
