"""Error pages. Every error a person can meet gets a page that says what to do next."""

import logging

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.security import same_site_referrer

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Bad request", "Something in that request was not right. Please check it and try again."),
    401: ("Please sign in", "You need to sign in to see this page."),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: ("Page not found", "We could not find that page. It may have moved, or never existed."),
    405: ("Method not allowed", "That page cannot be used this way."),
    409: ("Conflict", "That could not be done because something changed in the meantime."),
    413: ("Too large", "That request was too large."),
    429: ("Too many attempts", "Too many attempts in a short time. Please wait and try again."),
    500: ("Something went wrong", "An unexpected error happened on our side. Please try again."),
}

# A limit met by reading (the public directory, a calendar feed) is not met by "attempts".
TOO_MANY_READS = (
    "Too many requests",
    "Too many requests in a short time. Please wait and try again.",
)


def render_error(status: int, detail: str | None = None, back: str | None = None):
    """The error page; `back`, a path on this site, gets a button of its own."""
    title, message = MESSAGES.get(status, MESSAGES[500])
    if status == 429 and request.method in ("GET", "HEAD"):
        title, message = TOO_MANY_READS
    if request.accept_mimetypes.best == "application/json":
        return {"error": title, "detail": detail or message}, status
    try:
        page = render_template(
            "errors/error.html", status=status, title=title, message=detail or message, back=back
        )
    except Exception:  # e.g. an untrusted Host: no URL adapter to build the page's links
        log.warning("plain error page for %s %s", status, request.path)
        return f"{status} {title}: {detail or message}", status, {"Content-Type": "text/plain"}
    return page, status


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        # Mostly a form left open while its session ended (signed out in another tab, a password
        # changed elsewhere). Its page, opened again, has a fresh token, or asks to sign in and
        # then comes back: the way back is the answer, not the home page.
        back = same_site_referrer()
        what_next = "Open it again and send it once more." if back else "Please try again."
        return render_error(
            400, f"Your form expired or was sent from another page. {what_next}", back=back
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        detail = error.description if error.code in (409,) else None
        response = render_error(error.code, detail)
        if error.code == 429:
            log.info("rate limited %s %s", request.method, request.path)
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)
