"""The transactional outbox: side effects written with the change, delivered after commit."""

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # last attempt failed, another is scheduled
    DEAD = "dead"  # gave up: too many attempts, or an error retrying cannot fix


class OutboxKind(enum.StrEnum):
    EMAIL = "email"
    CALENDAR_CREATE = "calendar_create"
    CALENDAR_UPDATE = "calendar_update"
    CALENDAR_DELETE = "calendar_delete"


# The partial index's WHERE, repeated as is by the statements meant to use it: written out, not
# bound, so that the planner matches it even in a generic plan of a prepared statement.
SENT_EMAILS = text("kind = 'email' AND status = 'sent'")


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        # Sent emails, oldest first, for the retention sweep (app/services/delivery.py). Partial,
        # so the rows still to be delivered (a booking's INSERTs) pay nothing for it.
        Index(
            "ix_outbox_messages_sent_emails",
            "sent_at",
            postgresql_where=SENT_EMAILS,
            sqlite_where=SENT_EMAILS,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(
        Enum(
            OutboxKind,
            name="outbox_kind",
            native_enum=False,
            length=32,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    payload: Mapped[dict] = mapped_column(JSON)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(
            OutboxStatus,
            name="outbox_status",
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=OutboxStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.status}>"
