"""Writing to the outbox. Delivery lives in `app.services.delivery`.

A message is a row added in the same transaction as the change that causes it, so it exists
exactly when the change does. Nothing here touches the network.
"""

from datetime import datetime

from flask import has_request_context
from sqlalchemy import inspect

from app.extensions import db
from app.models import OutboxKind, OutboxMessage

SESSION_KEY = "hms_outbox_new_ids"


def enqueue(
    kind: OutboxKind, payload: dict, idempotency_key: str, *, not_before: datetime | None = None
) -> OutboxMessage:
    """Queue a side effect. The unique key makes queuing the same thing twice fail loudly (when
    the session flushes: a request's messages go in with its other writes, in one INSERT).
    `not_before` holds it back until then (the workers' poll finds it)."""
    message = OutboxMessage(kind=kind, payload=payload, idempotency_key=idempotency_key)
    if not_before is not None:
        message.next_attempt_at = not_before
    db.session.add(message)
    if not_before is None and has_request_context():  # to try right after the request's commit
        db.session.info.setdefault(SESSION_KEY, []).append(message)
    return message


def take_new_ids() -> list[int]:
    """The ids of the messages this request queued and stored since the last call: to ask
    after the commit. Messages never flushed, or rolled back, have no identity and are left
    out; one flushed but rolled back later is simply not found by the delivery."""
    messages = db.session.info.pop(SESSION_KEY, [])
    return [identity[0] for m in messages if (identity := inspect(m).identity) is not None]
