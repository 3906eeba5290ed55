"""The patient's pages. Every route here is for patients only: the guard runs first."""

from flask import Blueprint

from app.models import Role
from app.security import role_required

bp = Blueprint("patient", __name__)
bp.before_request(role_required(Role.PATIENT))

from app.blueprints.patient import routes  # noqa: E402, F401
