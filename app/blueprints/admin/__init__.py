"""The clinic's staff pages: the administrator's, and the front desk's share of them.

The guard runs before each request: an admin may open every page here; the front desk only
those named in DESK_ENDPOINTS (booking for callers, their details, doctors' schedules and
profiles, the appointments list), never the rest (accounts switched off or on, sign-in emails
and two-step sign-in, doctors' approval, clinic closures, the audit trail, the email queue, the
usage figures and the exports). A page added here is the admin's alone until listed.
"""

from flask import Blueprint, abort, request
from flask_login import current_user

from app.models import STAFF_ROLES, Role
from app.security import role_required

DESK_ENDPOINTS = frozenset(
    {
        "admin.users",
        "admin.send_password_reset",
        "admin.register_patient",
        "admin.book_for",
        "admin.waitlist_for",
        "admin.patient_details",
        "admin.appointments",
        "admin.doctor_availability",
        "admin.doctor_availability_weekly",
        "admin.doctor_stop_repeating_hours",
        "admin.doctor_clear_availability",
        "admin.doctor_delete_slot",
        "admin.doctor_profile",
    }
)

DESK_SERVES = (Role.PATIENT, Role.DOCTOR)  # the accounts the desk's lists show

bp = Blueprint("admin", __name__)
_staff_only = role_required(*STAFF_ROLES)


def may_open(endpoint: str | None) -> bool:
    """Whether the signed-in user may open this staff page: the guard's rule, which the
    templates also use to offer only what the user may follow (`staff_may`)."""
    if not current_user.is_authenticated:
        return False
    if current_user.role == Role.ADMIN:
        return True
    return current_user.role == Role.DESK and endpoint in DESK_ENDPOINTS


@bp.before_request
def _guard():
    refused = _staff_only()
    if refused is not None:
        return refused
    if not may_open(request.endpoint):
        abort(403)
    return None


@bp.app_context_processor
def _staff_may() -> dict:
    return {"staff_may": may_open}


from app.blueprints.admin import doctors, frontdesk, routes, schedules  # noqa: E402, F401
