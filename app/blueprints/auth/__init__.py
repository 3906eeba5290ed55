"""Accounts: sign-up, sign-in, sign-out and passwords."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.blueprints.auth import calendar, google, routes, two_step  # noqa: E402, F401
