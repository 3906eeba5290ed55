"""The outbox queries delivery needs: find due messages, claim them, record what happened.

Several workers (and the web processes' after-response delivery) drain one table, so every
write here is a compare-and-set on `attempts`, which only ever grows: each claim bumps it, so a
worker whose view of a row is stale changes nothing. On PostgreSQL the due rows are also locked
with SKIP LOCKED, so concurrent workers take disjoint batches instead of colliding; SQLite ignores
the lock and the compare-and-set alone keeps it correct. Nothing here commits: the delivery
worker owns its transactions.
"""

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Row, Select, Update, bindparam, select, tuple_, update

from app.extensions import db
from app.models import OutboxKind, OutboxMessage, OutboxStatus

DELIVERABLE = (OutboxStatus.PENDING, OutboxStatus.FAILED)

_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.kind,
    OutboxMessage.payload,
    OutboxMessage.idempotency_key,
    OutboxMessage.attempts,
)


def lock_due(
    now: datetime,
    *,
    kinds: Iterable[OutboxKind],
    limit: int,
    ids: Iterable[int] | None = None,
) -> list[Row]:
    """Due messages of the given kinds, oldest first, row-locked without waiting.

    Kinds nobody can deliver yet are left alone rather than burning their attempts. `ids`
    narrows the search to one request's messages; rows that were rolled back simply are not
    found. Returns plain rows, not ORM objects, so nothing stale lingers in the session.
    """
    values = {"now": now, "kinds": list(kinds), "limit": limit}
    if ids is not None:
        values["ids"] = list(ids)
    return list(db.session.execute(_due(narrowed=ids is not None), values))


def claim(seen: Iterable[tuple[int, int]], lease_until: datetime) -> set[int]:
    """Take messages for a single attempt each, in one statement: hide them until
    `lease_until` and count the attempt. `seen` holds (id, attempts) as read by lock_due.

    Returns the ids taken; the others had moved on (another worker's claim bumped `attempts`, or
    they were sent meanwhile).
    """
    pairs = list(seen)
    if not pairs:
        return set()
    result = db.session.execute(_claim(), {"seen": pairs, "lease_until": lease_until})
    return set(result.scalars())


def release(message_id: int, claimed_attempts: int, now: datetime) -> bool:
    """Give a claimed, unsent message back at once (a stopping worker), keeping its count."""
    return _compare_and_set(message_id, claimed_attempts, next_attempt_at=now)


def record(message_id: int, claimed_attempts: int, **values: Any) -> bool:
    """Store an attempt's result, unless the lease ran out and another claim replaced ours."""
    return _compare_and_set(message_id, claimed_attempts, **values)


def _compare_and_set(message_id: int, seen_attempts: int, /, **values: Any) -> bool:
    params = {f"new_{name}": value for name, value in values.items()}
    params |= {"message_id": message_id, "seen_attempts": seen_attempts}
    result = db.session.execute(_update_if_unchanged(tuple(sorted(values))), params)
    return result.rowcount == 1


# Built once per process, their values bound at each run (as the pages' statements are): a
# booking's two emails run four of them after the response, and the worker thousands.


@cache
def _due(*, narrowed: bool) -> Select:
    query = (
        select(*_COLUMNS)
        .where(
            OutboxMessage.status.in_(DELIVERABLE),
            OutboxMessage.next_attempt_at <= bindparam("now"),
            OutboxMessage.kind.in_(bindparam("kinds", expanding=True)),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True, of=OutboxMessage)
    )
    if narrowed:
        query = query.where(OutboxMessage.id.in_(bindparam("ids", expanding=True)))
    return query


@cache
def _claim() -> Update:
    return (
        update(OutboxMessage)
        .where(
            tuple_(OutboxMessage.id, OutboxMessage.attempts).in_(bindparam("seen", expanding=True)),
            OutboxMessage.status.in_(DELIVERABLE),
        )
        .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=bindparam("lease_until"))
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )


@cache
def _update_if_unchanged(names: tuple[str, ...]) -> Update:
    """The compare-and-set on `attempts` that writes `names` (bound as new_<name>)."""
    return (
        update(OutboxMessage)
        .where(
            OutboxMessage.id == bindparam("message_id"),
            OutboxMessage.attempts == bindparam("seen_attempts"),
            OutboxMessage.status.in_(DELIVERABLE),
        )
        .values({name: bindparam(f"new_{name}") for name in names})
        .execution_options(synchronize_session=False)
    )
