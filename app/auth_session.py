"""Loading the signed-in user, and ending sessions that should no longer work."""

from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import User


def load_user(session_user_id: str) -> User | None:
    """Sessions carry "<id>:<session_version>": a bumped version or deactivation ends them."""
    try:
        user_id, version = (int(part) for part in session_user_id.split(":", 1))
    except (ValueError, AttributeError):
        return None
    user = db.session.scalar(_user_with_profile(), {"user_id": user_id})
    if user is None or not user.active or user.session_version != version:
        return None
    return user


@cache
def _user_with_profile() -> Select:
    """The profile comes in the same query: nearly every doctor and patient page reads it, and
    a lazy load would be one more round trip per request. Built once: it runs on every request,
    and building its options cost more than running its cached compilation."""
    return (
        select(User)
        .options(joinedload(User.doctor_profile), joinedload(User.patient_profile))
        .where(User.id == bindparam("user_id"))
    )
