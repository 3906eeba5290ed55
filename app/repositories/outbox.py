"""The outbox queries delivery needs: find due messages, claim them, record what happened,
and hear (on PostgreSQL) when new ones are committed.

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

import psycopg
from sqlalchemy import (
    Connection,
    Delete,
    Row,
    Select,
    Update,
    bindparam,
    delete,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import OutboxKind, OutboxMessage, OutboxStatus
from app.models.outbox import SENT_EMAILS

DELIVERABLE = (OutboxStatus.PENDING, OutboxStatus.FAILED)

# On PostgreSQL a trigger notifies the channel `outbox_messages` after every INSERT into the
# outbox, delivered when the inserting transaction commits (migration b9f8306291c7).
LISTEN = "LISTEN outbox_messages"

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


def backlog() -> Row:
    """What is not sent: `waiting` (pending: new, or taken by a worker right now), `retrying`
    (failed, due again later), `dead` (emails given up on, which an admin can send again), and
    when the oldest pending one was queued (`oldest_waiting`, None when none is). One indexed
    statement: sent rows are not read."""
    return db.session.execute(_backlog()).one()


@cache
def _backlog() -> Select:
    pending = OutboxMessage.status == OutboxStatus.PENDING
    given_up = OutboxMessage.status == OutboxStatus.DEAD
    return select(
        func.count().filter(pending).label("waiting"),
        func.count().filter(OutboxMessage.status == OutboxStatus.FAILED).label("retrying"),
        func.count().filter(given_up, OutboxMessage.kind == OutboxKind.EMAIL).label("dead"),
        func.min(OutboxMessage.created_at).filter(pending).label("oldest_waiting"),
    ).where(OutboxMessage.status.in_((*DELIVERABLE, OutboxStatus.DEAD)))


def wake_workers() -> None:
    """Tell idle workers to look now, as the INSERT trigger does, for messages an UPDATE made
    due again (emails sent again), which the trigger does not see. PostgreSQL delivers it when
    the transaction commits, and not if it rolls back; elsewhere nothing listens (the workers
    poll)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_notify("outbox_messages", "")))


def lock_held(key_prefix: str, now: datetime) -> OutboxMessage | None:
    """The message whose key starts with `key_prefix` that is held back, not yet due nor ever
    tried (queued to go later, gathering what happens meanwhile), locked to be added to; None
    when there is none. A worker's claim counts an attempt, so one it took is never returned:
    what is added always goes out with it."""
    return db.session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.idempotency_key.startswith(key_prefix, autoescape=True),
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.attempts == 0,
            OutboxMessage.next_attempt_at > now,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
        .with_for_update()
    )


def delete_unsent(key_prefix: str) -> int:
    """Delete the messages whose key starts with `key_prefix` that are not sent yet (waiting or
    to be retried): what they say is no longer true. One a worker is sending right now still
    goes; its result is then not stored (delivery's compare-and-set). Returns how many went."""
    result = db.session.execute(
        delete(OutboxMessage)
        .where(
            OutboxMessage.idempotency_key.startswith(key_prefix, autoescape=True),
            OutboxMessage.status.in_(DELIVERABLE),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def delete_sent_emails(before: datetime, limit: int) -> int:
    """Delete up to `limit` emails sent before `before`, oldest first; returns how many.

    Only emails: a calendar create is looked up by its key when its appointment is cancelled or
    moved (app/services/calendar_sync.py), and calendar payloads hold ids, not what was said.
    Rows another transaction holds are skipped, left for the next sweep.
    """
    result = db.session.execute(_delete_sent_emails(), {"before": before, "limit": limit})
    return result.rowcount


def given_up_emails() -> Select:
    """Emails the worker gave up on, newest first (for a paginated page)."""
    return (
        select(OutboxMessage)
        .where(OutboxMessage.kind == OutboxKind.EMAIL, OutboxMessage.status == OutboxStatus.DEAD)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    )


def lock_given_up_emails(message_id: int | None = None) -> list[OutboxMessage]:
    """Emails given up on (only `message_id`, when given), row-locked, oldest first: the
    order they go out in when sent again."""
    query = given_up_emails().order_by(None).order_by(OutboxMessage.id).with_for_update()
    if message_id is not None:
        query = query.where(OutboxMessage.id == message_id)
    return list(db.session.scalars(query))


def delete_given_up_emails(before: datetime, limit: int) -> int:
    """Delete up to `limit` emails given up on whose last attempt was before `before`."""
    result = db.session.execute(_delete_given_up_emails(), {"before": before, "limit": limit})
    return result.rowcount


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


@cache
def _delete_sent_emails() -> Delete:
    return _delete_batch(
        select(OutboxMessage.id)
        .where(SENT_EMAILS, OutboxMessage.sent_at < bindparam("before"))
        .order_by(OutboxMessage.sent_at)
    )


@cache
def _delete_given_up_emails() -> Delete:
    return _delete_batch(  # ix_outbox_messages_due: a dead message's next_attempt_at is its last
        select(OutboxMessage.id).where(
            OutboxMessage.status == OutboxStatus.DEAD,
            OutboxMessage.next_attempt_at < bindparam("before"),
            OutboxMessage.kind == OutboxKind.EMAIL,
        )
    )


def _delete_batch(ids: Select) -> Delete:
    """DELETE the first `limit` rows `ids` finds, skipping those another transaction holds."""
    batch = ids.limit(bindparam("limit")).with_for_update(skip_locked=True)
    return (
        delete(OutboxMessage)
        .where(OutboxMessage.id.in_(batch.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )


class NotificationsLost(Exception):
    """Listening failed (the database unreachable or restarting); the connection is closed."""


class Notifications:
    """An idle worker's ear on the outbox: LISTEN on a connection of its own.

    `wait` returns as soon as a transaction that queued messages commits (or when notifications
    came while the worker was busy), else after `seconds`. The connection is the engine's, in
    autocommit, held while listening and closed (never pooled) after. Only PostgreSQL notifies:
    elsewhere `available` is False and the caller polls. A failure closes the connection and
    raises NotificationsLost; `listen` again later.
    """

    def __init__(self, engine: Engine) -> None:
        self.available = engine.dialect.name == "postgresql"
        self._engine = engine
        self._connection: Connection | None = None

    @property
    def listening(self) -> bool:
        return self._connection is not None

    def listen(self) -> None:
        """Start listening, if not already. Call it before looking for work, so that nothing
        committed after the look goes unheard."""
        if self._connection is not None:
            return
        try:
            self._connection = self._engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            )
            self._connection.exec_driver_sql(LISTEN)
        except SQLAlchemyError as exc:
            self.close()
            raise NotificationsLost(str(exc)) from exc

    def wait(self, seconds: float) -> bool:
        """Whether a notification came within `seconds` (one already waiting counts)."""
        if self._connection is None:
            raise RuntimeError("listen() first")
        driver = self._connection.connection.driver_connection
        try:
            return any(True for _ in driver.notifies(timeout=seconds, stop_after=1))
        except psycopg.Error as exc:
            self.close()
            raise NotificationsLost(str(exc)) from exc

    def close(self) -> None:
        """Stop listening. The connection is closed, not pooled: no one else should hear."""
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        connection.invalidate()
        connection.close()
