"""Booking and appointment actions shared by patients, doctors and admins.

Signed-in users only; each view names the roles it allows and checks ownership.
"""

from flask import Blueprint

from app.models import Role
from app.security import role_required

bp = Blueprint("booking", __name__)
bp.before_request(role_required(Role.PATIENT, Role.DOCTOR, Role.ADMIN))

from app.blueprints.booking import ics, moves, routes  # noqa: E402, F401
