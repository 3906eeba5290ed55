"""The admin's pages. Every route here is for admins only: the guard runs before each request."""

from flask import Blueprint

from app.models import Role
from app.security import role_required

bp = Blueprint("admin", __name__)
bp.before_request(role_required(Role.ADMIN))

from app.blueprints.admin import doctors, frontdesk, routes, schedules  # noqa: E402, F401
