"""Template globals and filters shared by every page."""

from flask import Flask, current_app

from app.timeutil import format_local, to_local


def register(app: Flask) -> None:
    @app.template_filter("local")
    def local_filter(value, fmt: str = "%a %d %b %Y, %H:%M"):
        return format_local(value, fmt)

    @app.template_filter("localtime")
    def localtime_filter(value):
        return to_local(value).strftime("%H:%M") if value else ""

    @app.template_filter("localdate")
    def localdate_filter(value):
        return to_local(value).strftime("%a %d %b %Y") if value else ""

    @app.context_processor
    def clinic_globals():
        return {
            "clinic_name": current_app.config["CLINIC_NAME"],
            "clinic_phone": current_app.config["CLINIC_PHONE"],
            "clinic_timezone": current_app.config["CLINIC_TIMEZONE"],
            "google_enabled": bool(current_app.config.get("GOOGLE_CLIENT_ID")),
            "url_endpoints": current_app.view_functions,
        }
