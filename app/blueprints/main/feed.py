"""The calendar subscription's feed: fetched by calendar applications, which carry no session.
The secret address is the credential (app.services.calendar_feed)."""

from flask import Response, abort, request

from app.blueprints.main import bp
from app.extensions import limiter
from app.services import calendar_feed, ical


def _address_key() -> str:
    """Limited per address, not per IP: many people's feeds arrive from one provider's servers."""
    return "calendar-feed:" + (request.view_args or {}).get("feed_token", "")


@bp.get("/calendar/<string(maxlength=200):feed_token>.ics", endpoint="calendar_feed")
@limiter.limit("30 per hour", key_func=_address_key)
def serve_feed(feed_token: str):
    user = calendar_feed.owner(feed_token)
    if user is None:
        abort(404)
    body = ical.feed_calendar(calendar_feed.appointments(user), user)
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": 'inline; filename="appointments.ics"',
            "Cache-Control": "private, no-store",
            "X-Robots-Tag": "noindex",
        },
    )
