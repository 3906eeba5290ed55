"""Guards: who may reach what.

Each role blueprint installs `role_required` as its `before_request`, so a route added there later
is protected without anyone remembering a decorator. Ownership checks live in `owned_or_404`.
"""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit, urlunsplit

from flask import abort, request
from flask_login import current_user

from app.extensions import login_manager
from app.models import Role


def role_required(*roles: Role) -> Callable[[], None]:
    """Build a before_request guard: anonymous → login redirect, wrong role → 403."""

    def guard() -> None:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.role not in roles:
            abort(403)
        return None

    return guard


def roles_allowed(*roles: Role):
    """The same rule as a decorator, for the few views of a shared blueprint (booking)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            response = role_required(*roles)()
            if response is not None:
                return response
            return view(*args, **kwargs)

        return wrapped

    return decorator


def owned_or_404(obj, allowed: bool):
    """Hide other people's objects behind the same 404 as missing ones (no existence oracle)."""
    if obj is None or not allowed:
        abort(404)
    return obj


def is_safe_next(target: str | None) -> bool:
    """Only same-site relative paths: `//evil.example`, `https://…` and `\\\\host` are refused."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def same_site_referrer() -> str | None:
    """The page this request came from, as a path on this site (for a link back to it), or None:
    no Referer, or another site's."""
    referrer = urlsplit(request.referrer or "")
    back = urlunsplit(("", "", referrer.path, referrer.query, ""))
    return back if referrer.netloc == request.host and is_safe_next(back) else None


def client_ip() -> str | None:
    return request.remote_addr if request else None


def user_or_ip() -> str:
    """Rate-limit key for signed-in actions: the account, whatever address it comes from (so a
    script cannot spread its attempts over many IPs); the client's IP before sign-in."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{request.remote_addr}"
