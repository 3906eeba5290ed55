"""Booking and appointment actions shared by patients, doctors and admins.

Signed-in users only; each view names the roles it allows and checks ownership.
"""

from flask import Blueprint

from app.extensions import limiter
from app.models import STAFF_ROLES, Role
from app.security import role_required, user_or_ip

# Booking, cancelling and rescheduling share one budget per person: far above what anyone
# clicks, far below what a script hoarding or churning slots needs. On the blueprint, so a
# booking route added later is counted without anyone remembering a decorator. (A route's own
# @limiter.limit would replace this budget for that route: Flask-Limiter's override_defaults.)
BOOKING_CHANGES_LIMIT = "30 per minute"

bp = Blueprint("booking", __name__)
bp.before_request(role_required(Role.PATIENT, Role.DOCTOR, *STAFF_ROLES))
limiter.shared_limit(
    BOOKING_CHANGES_LIMIT, scope="booking-changes", key_func=user_or_ip, methods=["POST"]
)(bp)

from app.blueprints.booking import ics, moves, routes  # noqa: E402, F401
