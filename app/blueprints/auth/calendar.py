"""The calendar subscription page: one secret address a doctor's or patient's calendar
application fetches their appointments from (the feed itself is app.blueprints.main.feed)."""

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from app.blueprints.auth import bp
from app.extensions import db
from app.models import Role
from app.security import client_ip, roles_allowed
from app.services import DomainError, calendar_feed


def feed_address(user) -> str | None:
    """The address to paste into a calendar application, on the public host (as emailed links
    are): the calendar provider's servers, not the browser, fetch it."""
    token = calendar_feed.token(user)
    if token is None:
        return None
    path = url_for("main.calendar_feed", feed_token=token)
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


@bp.get("/calendar")
@roles_allowed(Role.DOCTOR, Role.PATIENT)
def calendar():
    return render_template(
        "auth/calendar.html",
        address=feed_address(current_user),
        past_days=calendar_feed.PAST_DAYS,
    )


@bp.post("/calendar/feed")
@roles_allowed(Role.DOCTOR, Role.PATIENT)
def calendar_feed_renew():
    replacing = current_user.calendar_feed_nonce is not None
    calendar_feed.renew(current_user, ip_address=client_ip())
    db.session.commit()
    if replacing:
        flash("Your calendar has a new address: the old one no longer works.", "success")
    else:
        flash("Your calendar address is ready: add it to your calendar application.", "success")
    return redirect(url_for("auth.calendar"))


@bp.post("/calendar/feed/off")
@roles_allowed(Role.DOCTOR, Role.PATIENT)
def calendar_feed_off():
    try:
        calendar_feed.turn_off(current_user, ip_address=client_ip())
        db.session.commit()
    except DomainError as refused:
        db.session.rollback()
        flash(refused.message, "info")
        return redirect(url_for("auth.calendar"))
    flash(
        "Your calendar subscription is off: its address no longer works. Calendar applications "
        "subscribed to it keep what they had fetched until you remove the subscription there.",
        "info",
    )
    return redirect(url_for("auth.calendar"))
