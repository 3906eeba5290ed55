"""The doctor's pages. Every route here is for doctors only: the guard runs before each request."""

from flask import Blueprint

from app.models import Role
from app.security import role_required

bp = Blueprint("doctor", __name__)
bp.before_request(role_required(Role.DOCTOR))

from app.blueprints.doctor import routes  # noqa: E402, F401
