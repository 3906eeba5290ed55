"""HTTP-level protections: security headers, session lifetime, proxies and hosts.

Headers come from Flask-Talisman. The CSP allows no inline script at all; inline *styles* are
allowed because pygal's server-rendered SVG charts carry their own <style> element.
"""

from datetime import timedelta

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

from app.extensions import login_manager
from app.security import same_site_referrer
from app.timeutil import utcnow

talisman = Talisman()

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "object-src": "'none'",
}

SESSION_STARTED = "_hms_started"
SESSION_SEEN = "_hms_seen"
# The idle clock moves in steps of a minute: rewriting (and re-signing) the session cookie on
# every request would cost each response a Set-Cookie for no gain in a 30-minute limit.
SEEN_GRANULARITY = 60


def register(app: Flask) -> None:
    config = app.config
    talisman.init_app(
        app,
        force_https=config.get("FORCE_HTTPS", False),
        strict_transport_security=config["HSTS_ENABLED"],
        strict_transport_security_max_age=31_536_000,
        strict_transport_security_include_subdomains=True,
        session_cookie_secure=config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        frame_options="DENY",
        content_security_policy=CSP,
        referrer_policy="strict-origin-when-cross-origin",
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()"},
    )
    config["REMEMBER_COOKIE_DURATION"] = timedelta(days=config["REMEMBER_COOKIE_DURATION_DAYS"])

    if any(config[name] for name in ("PROXY_FIX_X_FOR", "PROXY_FIX_X_PROTO", "PROXY_FIX_X_HOST")):
        app.wsgi_app = ProxyFix(
            app.wsgi_app,
            x_for=config["PROXY_FIX_X_FOR"],
            x_proto=config["PROXY_FIX_X_PROTO"],
            x_host=config["PROXY_FIX_X_HOST"],
        )

    app.before_request(enforce_session_timeouts)
    app.before_request(enforce_two_step)
    app.after_request(no_store_when_signed_in)
    login_manager.unauthorized_handler(sign_in_first)


def mark_session_started() -> None:
    """Called at sign-in: the clock for the absolute and idle timeouts starts now."""
    # Not a permanent session: Flask-Login applies "strong" protection only to browser-session
    # cookies, and the absolute limit is enforced here on the server anyway.
    now = int(utcnow().timestamp())
    session[SESSION_STARTED] = now
    session[SESSION_SEEN] = now


def start_session(user, remember: bool = False) -> None:
    """Sign `user` in with a fresh session: nothing from before survives (fixation)."""
    session.clear()
    login_user(user, remember=remember)
    mark_session_started()


def end_session() -> None:
    """Empty the session and sign out, in that order: logout_user() leaves the flag that makes
    Flask-Login delete the remember-me cookie, which clearing the session afterwards would drop."""
    session.clear()
    logout_user()


def enforce_session_timeouts():
    """End sessions idle too long or older than the absolute limit (ASVS 3.3)."""
    if (
        request.endpoint in (None, "static", "bootstrap.static")
        or not current_user.is_authenticated
    ):
        return None
    now = int(utcnow().timestamp())
    started = session.get(SESSION_STARTED)
    seen = session.get(SESSION_SEEN)
    if started is None or seen is None:  # restored from a remember-me cookie: a fresh session
        mark_session_started()
        return None
    config = current_app.config
    idle = config["SESSION_IDLE_TIMEOUT_MINUTES"] * 60
    absolute = config["SESSION_ABSOLUTE_TIMEOUT_HOURS"] * 3600
    if now - seen > idle or now - started > absolute:
        end_session()  # "keep me signed in" included: a timeout means signing in again
        flash("Your session has ended. Please sign in again.", "info")
        return redirect(url_for("auth.login", next=_page_to_return_to()))
    if now - seen >= SEEN_GRANULARITY:
        session[SESSION_SEEN] = now
    return None


# What an account the clinic asks to use two-step sign-in can reach before setting it up.
TWO_STEP_SETUP_ENDPOINTS = frozenset(
    {None, "static", "bootstrap.static", "main.healthz", "auth.logout"}
    | {"auth.two_step_page", "auth.two_step_enable"}
)


def enforce_two_step():
    """Send a signed-in account whose role must use two-step sign-in (TWO_STEP_REQUIRED_ROLES)
    and has not set it up to the set-up page, whatever it asked for: one guard for every route,
    present and future, as the role guards are."""
    required = current_app.config["TWO_STEP_REQUIRED_ROLES"]
    if (
        not required
        or request.endpoint in TWO_STEP_SETUP_ENDPOINTS
        or not current_user.is_authenticated
        or current_user.role.value not in required
        or current_user.two_step_enabled
    ):
        return None
    flash("The clinic asks you to set up two-step sign-in before going on.", "warning")
    return redirect(url_for("auth.two_step_page"), 303)


def sign_in_first():
    """Flask-Login's answer to a signed-out visitor, with our rule for where to come back to:
    its own sends a POST-only action there too, which after signing in answers 405."""
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(url_for(login_manager.login_view, next=_page_to_return_to()))


def _page_to_return_to() -> str:
    """Where signing in again leads: the page asked for, or the form that was being sent (its
    own URL, when it answers GET: the booking confirmation, a profile), to be sent again. A
    POST-only action (a cancel button) would answer a GET with 405: the page its button was on
    instead, or the home page (which leads to the dashboard). The login checks `next` anyway."""
    rule = request.url_rule
    if request.method == "GET" or (rule is not None and "GET" in (rule.methods or ())):
        return request.full_path.rstrip("?")
    return same_site_referrer() or "/"


def no_store_when_signed_in(response):
    """Pages for a signed-in user may hold medical details: never keep them in a cache."""
    # is_anonymous, not is_authenticated: the latter reads `active`, and after the view's commit
    # that attribute is expired, so asking would cost a query on every state-changing request.
    if not current_user.is_anonymous:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response
