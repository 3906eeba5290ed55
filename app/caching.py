"""Results kept while nothing has changed: computed again after a change, or after a period.

For figures that are expensive because they summarise whole tables (the admin dashboard) or
that are read on every page view and change rarely (the directory's specializations filter).

"Nothing has changed" is the audit trail's high-water mark: every change a person makes writes
an audit event in its own transaction (the house rule), so a new event id means the figures may
be stale, in every process at once. That costs one primary-key lookup per request, read once and
shared by every cached function the request calls. The period (a setting, 0 turning the cache
off) bounds what the mark cannot see: figures that move with the clock, or rows written without
an event (the test factories).

Figures that may lag a change by their period (the directory's filter and its doctor count) do
without the mark: under a steady stream of bookings it moves on nearly every request, and would
recompute them nearly every time.
"""

import threading
from collections.abc import Callable
from functools import wraps

from flask import current_app, g, has_request_context
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent
from app.timeutil import utcnow


def latest_change() -> int | None:
    """The id of the newest audit event, read at most once per request."""
    if has_request_context() and "hms_latest_change" in g:
        return g.hms_latest_change
    mark = db.session.scalar(select(func.max(AuditEvent.id)))
    if has_request_context():
        g.hms_latest_change = mark
    return mark


def cached_for(setting: str, *, follow_changes: bool = True) -> Callable:
    """Keep the decorated function's result for `app.config[setting]` seconds, or until the
    next change (with `follow_changes=False`, for the period only: no audit mark is read, for
    figures that may lag a change by the period).

    The key is the function and its keyword arguments. Positional arguments are not part of it:
    they are the moment asked about (`now`), and within one period the result computed at its
    start is served. The cache belongs to the app (tests build several) and one thread computes
    at a time, so a busy moment does not run the same aggregate once per waiting thread.
    """

    def decorate(function: Callable) -> Callable:
        name = f"{function.__module__}.{function.__qualname__}"

        @wraps(function)
        def cached(*args, **kwargs):
            seconds = current_app.config.get(setting, 0)
            if seconds <= 0:
                return function(*args, **kwargs)
            lock, entries = current_app.extensions.setdefault("hms_cache", (threading.Lock(), {}))
            key = (name, tuple(sorted(kwargs.items())))
            mark = latest_change() if follow_changes else None
            with lock:
                clock = utcnow().timestamp()
                hit = entries.get(key)
                if hit is None or hit[1] != mark or clock - hit[0] >= seconds:
                    hit = entries[key] = (clock, mark, function(*args, **kwargs))
                return hit[2]

        return cached

    return decorate
