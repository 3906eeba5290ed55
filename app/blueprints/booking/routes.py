"""Booking routes arrive with the scheduling feature."""

from app.blueprints.booking import bp  # noqa: F401
