"""All models, imported here so Alembic and the app see the whole schema."""

from app.models.audit import AuditEvent
from app.models.doctor import DoctorProfile
from app.models.feedback import FEEDBACK_COMMENT_MAX, FeedbackAnswer, VisitFeedback
from app.models.outbox import OutboxKind, OutboxMessage, OutboxStatus
from app.models.patient import PatientProfile
from app.models.rate_limit import RateLimitCounter
from app.models.scheduling import (
    CANCEL_REASON_MAX,
    Appointment,
    AppointmentChange,
    AppointmentStatus,
    AvailabilitySlot,
    ClinicClosure,
    StandingHours,
    WaitlistEntry,
)
from app.models.user import STAFF_ROLES, RecoveryCode, Role, User

__all__ = [
    "CANCEL_REASON_MAX",
    "FEEDBACK_COMMENT_MAX",
    "STAFF_ROLES",
    "Appointment",
    "AppointmentChange",
    "AppointmentStatus",
    "AuditEvent",
    "AvailabilitySlot",
    "ClinicClosure",
    "DoctorProfile",
    "FeedbackAnswer",
    "OutboxKind",
    "OutboxMessage",
    "OutboxStatus",
    "PatientProfile",
    "RateLimitCounter",
    "RecoveryCode",
    "Role",
    "User",
    "VisitFeedback",
    "StandingHours",
    "WaitlistEntry",
]
