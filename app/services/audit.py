"""Recording the audit trail. Called by services inside the change's own transaction."""

from app.extensions import db
from app.models import AuditEvent, User


class AuditKind:
    SIGNUP = "signup"
    LOGIN_SUCCESS = "login.success"
    LOGIN_FAILURE = "login.failure"
    LOGOUT = "logout"
    PASSWORD_CHANGED = "password.changed"  # noqa: S105 - an event name, not a secret
    PASSWORD_RESET_REQUESTED = "password.reset_requested"  # noqa: S105 - an event name
    PASSWORD_RESET = "password.reset"  # noqa: S105 - an event name, not a secret
    PROFILE_UPDATED = "profile.updated"
    SLOT_CREATED = "slot.created"
    SLOTS_CREATED_WEEKLY = "slot.created_weekly"
    SLOT_DELETED = "slot.deleted"
    SLOTS_CLEARED = "slot.cleared"
    STANDING_HOURS_KEPT = "slot.standing_hours_kept"
    STANDING_HOURS_STOPPED = "slot.standing_hours_stopped"
    APPOINTMENT_BOOKED = "appointment.booked"
    APPOINTMENT_CANCELLED = "appointment.cancelled"
    APPOINTMENT_RESCHEDULED = "appointment.rescheduled"
    APPOINTMENT_OUTCOME = "appointment.outcome"
    APPOINTMENT_NOTE_CHANGED = "appointment.note_changed"
    APPOINTMENT_VISIT_NOTES = "appointment.visit_notes"
    APPOINTMENT_INSTRUCTIONS = "appointment.instructions"
    APPOINTMENT_CHECKED_IN = "appointment.checked_in"
    APPOINTMENT_CHECK_IN_UNDONE = "appointment.check_in_undone"
    APPOINTMENT_ATTENDANCE_CONFIRMED = "appointment.attendance_confirmed"
    DOCTOR_RUNNING_LATE = "doctor.running_late"
    DOCTOR_APPROVED = "doctor.approved"
    DOCTOR_DECLINED = "doctor.declined"
    ACCOUNT_DEACTIVATED = "account.deactivated"
    ACCOUNT_ACTIVATED = "account.activated"
    ACCOUNT_CLOSED = "account.closed"  # by its owner: a patient leaving the clinic
    ACCOUNT_EMAIL_CHANGED = "account.email_changed"
    EMAIL_CHANGE_REQUESTED = "account.email_change_requested"
    ADMIN_CREATED = "admin.created"
    TWO_STEP_ENABLED = "two_step.enabled"
    TWO_STEP_DISABLED = "two_step.disabled"
    TWO_STEP_RECOVERY_CODES = "two_step.recovery_codes"
    GOOGLE_CONNECTED = "google.connected"
    GOOGLE_DISCONNECTED = "google.disconnected"
    CALENDAR_FEED_CREATED = "calendar_feed.created"
    CALENDAR_FEED_REVOKED = "calendar_feed.revoked"
    WAITLIST_JOINED = "waitlist.joined"
    FEEDBACK_GIVEN = "feedback.given"  # that a visit was answered, never the answer
    WAITLIST_LEFT = "waitlist.left"
    CLINIC_CLOSED = "clinic.closed"
    CLINIC_REOPENED = "clinic.reopened"
    EMAILS_SENT_AGAIN = "email.sent_again"  # by the front desk, after the worker gave up

    @classmethod
    def all(cls) -> list[str]:
        return sorted(v for k, v in vars(cls).items() if k.isupper())


def record(
    kind: str,
    *,
    actor: User | None = None,
    actor_email: str | None = None,
    target=None,
    ip_address: str | None = None,
    **details,
) -> AuditEvent:
    """Add an audit event to the current transaction; it commits or rolls back with the change."""
    event = AuditEvent(
        kind=kind,
        actor_id=actor.id if actor is not None else None,
        actor_email=actor_email or (actor.email if actor is not None else None),
        target_type=type(target).__name__ if target is not None else None,
        target_id=getattr(target, "id", None),
        ip_address=ip_address,
        details={k: v for k, v in details.items() if v is not None},
    )
    db.session.add(event)
    return event
