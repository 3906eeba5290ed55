"""Public pages: the landing page, the doctor directory, the health check and the calendar
subscription feed."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from app.blueprints.main import attendance, doctors, feed, routes  # noqa: E402, F401
