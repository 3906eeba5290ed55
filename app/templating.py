"""Template globals and filters shared by every page."""

import re
from collections.abc import Callable

from flask import Flask, current_app, url_for

from app.models import CANCEL_REASON_MAX
from app.timeutil import age_on, format_local, local_today, to_local

_MARKER = 2_147_483_647  # an id no table reaches (the ID converter's bound), and unique in a URL


def url_for_each(endpoint: str, name: str, **values) -> Callable[[int], str]:
    """`url_for(endpoint, name=n, **values)` for a whole list of numbers (ids, page numbers): the
    URL is built once and filled in.

    Werkzeug's builder costs tens of microseconds a call: a doctor's page with a hundred open
    slots spent more time building their links than loading them. Should one of `values` hold
    the marker itself (a search for "2147483647"), every URL is built in full instead.
    """
    parts = url_for(endpoint, **{name: _MARKER}, **values).split(str(_MARKER))
    if len(parts) != 2:
        return lambda value: url_for(endpoint, **{name: int(value)}, **values)
    head, tail = parts
    return lambda value: f"{head}{int(value)}{tail}"


def register(app: Flask) -> None:
    app.add_template_global(url_for_each)
    app.add_template_global(CANCEL_REASON_MAX, "cancel_reason_max")

    @app.template_filter("local")
    def local_filter(value, fmt: str = "%a %d %b %Y, %H:%M"):
        return format_local(value, fmt)

    @app.template_filter("localtime")
    def localtime_filter(value):
        return to_local(value).strftime("%H:%M") if value else ""

    @app.template_filter("localdate")
    def localdate_filter(value):
        return to_local(value).strftime("%a %d %b %Y") if value else ""

    @app.template_filter("born")
    def born_filter(value):
        """A date of birth with the age today: "17 May 1990 (36)"."""
        return f"{value.day} {value:%B %Y} ({age_on(value, local_today())})" if value else ""

    @app.template_filter("tel")
    def tel_filter(value):
        """A phone number as a tel: link wants it: + and digits only."""
        return "tel:" + re.sub(r"[^0-9+]", "", value or "")

    @app.context_processor
    def clinic_globals():
        return {
            "clinic_name": current_app.config["CLINIC_NAME"],
            "clinic_phone": current_app.config["CLINIC_PHONE"],
            "clinic_timezone": current_app.config["CLINIC_TIMEZONE"],
            "google_enabled": bool(current_app.config.get("GOOGLE_CLIENT_ID")),
            "url_endpoints": current_app.view_functions,
        }
