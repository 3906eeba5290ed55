"""Reads of the audit trail for its own subjects (the admin's searches are in `admin`)."""

from collections.abc import Iterable

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent


def recent_by(actor_id: int, kinds: Iterable[str], limit: int) -> list[AuditEvent]:
    """The account's own latest events of these kinds, newest first: walked backwards along
    the (actor_id, created_at) index, so it costs the same however long the trail is."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.actor_id == actor_id, AuditEvent.kind.in_(list(kinds)))
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )
