"""Public pages: the landing page, the health check and the calendar subscription feed."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from app.blueprints.main import feed, routes  # noqa: E402, F401
