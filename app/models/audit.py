"""The audit trail: append-only, written in the same transaction as the change it records."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_created_at", "created_at"),
        Index("ix_audit_events_kind_created", "kind", "created_at"),
        Index("ix_audit_events_actor_created", "actor_id", "created_at"),
        # What was done to an account, by whoever (its sign-in history, `about_account`).
        Index("ix_audit_events_target_created", "target_type", "target_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Kept beside actor_id: failed logins name an email that may match no account.
    actor_email: Mapped[str | None] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(50))
    target_type: Mapped[str | None] = mapped_column(String(50))
    target_id: Mapped[int | None] = mapped_column()
    ip_address: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    actor = relationship("User", lazy="raise")

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.kind}>"
