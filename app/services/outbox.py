"""Writing to the outbox. Delivery lives in `app.services.delivery`.

A message is a row added in the same transaction as the change that causes it, so it exists
exactly when the change does. Nothing here touches the network.
"""

from app.extensions import db
from app.models import OutboxKind, OutboxMessage

SESSION_KEY = "hms_outbox_new_ids"


def enqueue(kind: OutboxKind, payload: dict, idempotency_key: str) -> OutboxMessage:
    """Queue a side effect. The unique key makes queuing the same thing twice fail loudly."""
    message = OutboxMessage(kind=kind, payload=payload, idempotency_key=idempotency_key)
    db.session.add(message)
    db.session.flush()
    # Remember it on the session so the request can try it right after commit.
    db.session.info.setdefault(SESSION_KEY, []).append(message.id)
    return message


def take_new_ids() -> list[int]:
    """The ids queued by this session since the last call (the request's after-commit batch)."""
    return db.session.info.pop(SESSION_KEY, [])
