"""Results that may be a little old: computed at most once per period, per process.

For figures that are expensive because they summarise whole tables (the admin dashboard) or
that change rarely and are read on every page view (the specializations of the directory's
filter). The period is a setting, 0 turning the cache off (as the test suite does).
"""

import threading
from collections.abc import Callable
from functools import wraps

from flask import current_app

from app.timeutil import utcnow


def cached_for(setting: str) -> Callable:
    """Keep the decorated function's result for `app.config[setting]` seconds.

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
            with lock:
                clock = utcnow().timestamp()
                hit = entries.get(key)
                if hit is None or clock - hit[0] >= seconds:
                    hit = entries[key] = (clock, function(*args, **kwargs))
                return hit[1]

        return cached

    return decorate
