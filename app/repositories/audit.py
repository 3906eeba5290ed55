"""Reads of the audit trail for its own subjects (the admin's searches are in `admin`)."""

from collections.abc import Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import AuditEvent, User


def about_account(user_id: int, kinds: Iterable[str], limit: int) -> list[AuditEvent]:
    """The latest events of these kinds about the account, newest first: those done to it,
    whoever did them (the owner, or the front desk changing its email), and those it did with no
    other subject (a sign-out, a refused sign-in). Not what its owner did to other accounts: an
    admin's own list does not show the patients they registered. PostgreSQL finds them through
    the (target_type, target_id, created_at) and (actor_id, created_at) indexes: the cost grows
    with the account's own events, not with the trail."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .options(joinedload(AuditEvent.actor))  # who, when not the owner: the desk, an admin
            .where(
                AuditEvent.kind.in_(list(kinds)),
                or_(
                    and_(AuditEvent.target_type == User.__name__, AuditEvent.target_id == user_id),
                    and_(AuditEvent.target_id.is_(None), AuditEvent.actor_id == user_id),
                ),
            )
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )
