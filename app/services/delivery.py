"""Delivering the outbox: each message sent once, retried with backoff, never lost.

Two paths drain the same table with the same three steps:

* `flask outbox run` (`run_worker`) delivers everything due, including retries. On PostgreSQL
  the commit that queues a message wakes it at once (a trigger NOTIFYs, the worker LISTENs), so
  a welcome mail is on its way within milliseconds;
* where nothing can wake the worker (SQLite), the messages a request queued get one quick
  attempt right after its response is sent (`register_outbox_delivery`), so they need not wait
  for the worker's next poll. OUTBOX_DELIVER_AFTER_RESPONSE turns this on or off anywhere.

The steps, each its own short unit of work:

1. claim a small batch in one transaction: lock the due rows (SKIP LOCKED), bump `attempts` and
   push `next_attempt_at` out by a lease, commit. Other workers now skip them.
2. send each message with no transaction open, so no row lock is held across the network.
3. record the result in a new short transaction: sent, failed (retry later, backing off) or
   dead (refused for good, or out of attempts).

Unlike services, this module commits: the worker's transactions are its unit of work, and the
commits live here, in `_claim`, `_record` and `_release` and the worker's schedules
(`queue_reminders`, `queue_day_agendas`, `extend_standing_hours`, `prune_sent_emails`), and
nowhere else. A worker that dies between a send and its record leaves the message leased; it is
sent again when the lease ends, and the email service receives the same `id` so it can tell the
repeat apart.

Handlers are plugged in by kind (`register_handler`). A handler takes the message payload and
its idempotency key, returns normally on success, raises `PermanentDeliveryError` to give up
and anything else to be retried.
"""

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from flask import Flask, Response, current_app

from app.extensions import db
from app.models import OutboxKind, OutboxStatus
from app.repositories import outbox as repository
from app.services import outbox
from app.timeutil import utcnow

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 1000
PRUNE_EVERY_SECONDS = 3600  # how often a running worker deletes old sent emails
PRUNE_BATCH = 1000  # rows per delete: short transactions, however many are due

Handler = Callable[[dict, str], None]


class PermanentDeliveryError(Exception):
    """Retrying cannot help (the receiver refused the message as such): the message is dead."""


class RetryableDeliveryError(Exception):
    """Worth another try later (receiver down, busy or failing); any other exception is too."""


_handlers: dict[OutboxKind, Handler] = {}


def register_handler(kind: OutboxKind, handler: Handler) -> None:
    """Deliver messages of `kind` with `handler(payload, idempotency_key)`."""
    _handlers[kind] = handler


def registered_kinds() -> tuple[OutboxKind, ...]:
    return tuple(_handlers)


def register_default_handlers() -> None:
    """One line per kind. Imported here, not at the top, because handler modules import this
    module's exceptions; by the time create_app calls this, every module can be imported."""
    from app.services import calendar_sync, email_sender

    register_handler(OutboxKind.EMAIL, email_sender.send_email)
    for kind, handler in calendar_sync.HANDLERS.items():
        # Calendar handlers derive their own event ids; they take the payload alone.
        register_handler(kind, lambda payload, _key, handler=handler: handler(payload))


@dataclass(frozen=True)
class Claimed:
    """A message taken for one attempt; `attempts` already counts it."""

    id: int
    kind: OutboxKind
    payload: dict
    idempotency_key: str
    attempts: int


def retry_delay(attempts: int, base: float, cap: float) -> timedelta:
    """Exponential backoff: `base` after the first failure, doubling each time, at most `cap`."""
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


# --- the three steps -----------------------------------------------------------------------


def _claim(now: datetime, *, limit: int, ids: Iterable[int] | None = None) -> list[Claimed]:
    """Step 1, one transaction: take due messages for one attempt each, then commit."""
    config = current_app.config
    lease_until = now + timedelta(seconds=config["OUTBOX_LEASE_SECONDS"])
    try:
        rows = repository.lock_due(now, kinds=registered_kinds(), limit=limit, ids=ids)
        taken = repository.claim(((row.id, row.attempts) for row in rows), lease_until)
        claimed = [
            Claimed(row.id, row.kind, row.payload, row.idempotency_key, row.attempts + 1)
            for row in rows
            if row.id in taken
        ]
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return claimed


def _attempt(message: Claimed) -> tuple[OutboxStatus, str | None]:
    """Step 2, outside any transaction: run the kind's handler and classify what happened."""
    handler = _handlers.get(message.kind)
    try:
        if handler is None:  # unregistered since the claim: leave it for a worker that has one
            raise RetryableDeliveryError(f"no handler registered for {message.kind}")
        handler(message.payload, message.idempotency_key)
    except PermanentDeliveryError as exc:
        return OutboxStatus.DEAD, str(exc) or type(exc).__name__
    except RetryableDeliveryError as exc:
        return OutboxStatus.FAILED, str(exc) or type(exc).__name__
    except Exception as exc:  # a handler bug or an unforeseen error: keep the message, retry
        log.warning("outbox %s: %s handler raised", message.id, message.kind, exc_info=True)
        return OutboxStatus.FAILED, f"{type(exc).__name__}: {exc}"
    return OutboxStatus.SENT, None


def _record(message: Claimed, status: OutboxStatus, error: str | None) -> OutboxStatus:
    """Step 3, one short transaction: store the outcome of the attempt, then commit."""
    config = current_app.config
    now = utcnow()
    values: dict = {"status": status, "last_error": error[:MAX_ERROR_CHARS] if error else None}
    if status is OutboxStatus.SENT:
        values["sent_at"] = now
    elif status is OutboxStatus.FAILED and message.attempts >= config["OUTBOX_MAX_ATTEMPTS"]:
        status = values["status"] = OutboxStatus.DEAD
    elif status is OutboxStatus.FAILED:
        delay = retry_delay(
            message.attempts,
            config["OUTBOX_RETRY_BASE_SECONDS"],
            config["OUTBOX_RETRY_MAX_SECONDS"],
        )
        values["next_attempt_at"] = now + delay
    try:
        stored = repository.record(message.id, message.attempts, **values)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    _log_outcome(message, status, error, values.get("next_attempt_at"), stored)
    return status


def _release(messages: Iterable[Claimed]) -> None:
    """Hand claimed but unsent messages back at once, so a stopping worker delays nothing."""
    now = utcnow()
    try:
        for message in messages:
            repository.release(message.id, message.attempts, now)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def _log_outcome(message, status, error, retry_at, stored: bool) -> None:
    where = f"outbox {message.id} ({message.kind}, {message.idempotency_key})"
    if not stored:
        log.warning(
            "%s: lease expired during attempt %d; result not stored", where, message.attempts
        )
    elif status is OutboxStatus.SENT:
        log.info("%s delivered on attempt %d", where, message.attempts)
    elif status is OutboxStatus.FAILED:
        log.warning(
            "%s delivery failed on attempt %d, retrying at %s: %s",
            where,
            message.attempts,
            retry_at.isoformat(timespec="seconds"),
            error,
        )
    else:
        log.warning("%s is dead after %d attempt(s): %s", where, message.attempts, error)


# --- the two ways in -----------------------------------------------------------------------


def deliver(
    *,
    ids: Iterable[int] | None = None,
    stop: threading.Event | None = None,
    stop_at_failure: bool = False,
) -> Counter[OutboxStatus]:
    """Claim one batch of due messages (only `ids`, when given), attempt each, record each.

    Returns how many ended in each status; empty when nothing was due. A stop request between
    two sends hands the rest of the batch straight back, and so does a failed attempt with
    `stop_at_failure`.
    """
    ids = list(ids) if ids is not None else None
    limit = len(ids) if ids is not None else current_app.config["OUTBOX_BATCH_SIZE"]
    batch = _claim(utcnow(), limit=limit, ids=ids) if limit else []
    outcomes: Counter[OutboxStatus] = Counter()
    for index, message in enumerate(batch):
        if stop is not None and stop.is_set():
            _release(batch[index:])
            break
        status = _record(message, *_attempt(message))
        outcomes[status] += 1
        if stop_at_failure and status is OutboxStatus.FAILED:
            _release(batch[index + 1 :])
            break
    return outcomes


def run_worker(*, stop: threading.Event, once: bool = False) -> Counter[OutboxStatus]:
    """The `flask outbox run` loop: deliver batches until `stop` is set, idling when none is due.

    Idle, it waits OUTBOX_IDLE_SECONDS at most: on PostgreSQL it is woken as soon as a
    transaction that queued messages commits (`_Idler`). With `once`, return as soon as nothing
    is due. A database outage is logged and waited out rather than ending the worker.
    """
    idle = current_app.config["OUTBOX_IDLE_SECONDS"]
    idler = _Idler(stop, idle, listen=not once)
    totals: Counter[OutboxStatus] = Counter()
    next_reminder_scan = next_prune = 0.0
    try:
        while not stop.is_set():
            if time.monotonic() >= next_reminder_scan:  # days' agendas, new standing hours
                queue_reminders()
                queue_day_agendas()
                extend_standing_hours()
                next_reminder_scan = time.monotonic() + current_app.config["REMINDER_SCAN_SECONDS"]
            if time.monotonic() >= next_prune:
                _prune_on_schedule(stop)
                next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
            idler.listen()
            try:
                outcomes = deliver(stop=stop)
            except Exception:
                if once:
                    raise
                log.exception("outbox worker: delivery round failed; trying again in %ss", idle)
                db.session.remove()
                stop.wait(idle)
                continue
            totals.update(outcomes)
            if not outcomes:
                if once:
                    break
                idler.wait()
    finally:
        idler.close()
    return totals


class _Idler:
    """How an idle worker waits: until PostgreSQL reports newly queued messages (LISTEN, see
    `repository.Notifications`) or `idle` seconds pass, whichever is first, checking for a stop
    request every STOP_CHECK_SECONDS. Where it cannot listen (SQLite, or the database gone for
    now: it listens again on the next round) it just waits `idle` seconds, the poll that also
    finds retries coming due."""

    STOP_CHECK_SECONDS = 0.5

    def __init__(self, stop: threading.Event, idle: float, *, listen: bool) -> None:
        self._stop = stop
        self._idle = idle
        self._notifications = repository.Notifications(db.engine) if listen else None
        self._lost = False

    def listen(self) -> None:
        """Before each look for due messages, so nothing committed after the look goes unheard."""
        if self._notifications is None or not self._notifications.available:
            return
        try:
            self._notifications.listen()
        except repository.NotificationsLost as exc:
            self._report_lost(exc)
            return
        if self._lost:
            log.info("outbox worker: listening for new messages again")
            self._lost = False

    def wait(self) -> None:
        deadline = time.monotonic() + self._idle
        while not self._stop.is_set() and (left := deadline - time.monotonic()) > 0:
            if self._notifications is None or not self._notifications.listening:
                self._stop.wait(left)
                return
            try:
                if self._notifications.wait(min(left, self.STOP_CHECK_SECONDS)):
                    return
            except repository.NotificationsLost as exc:
                self._report_lost(exc)

    def close(self) -> None:
        if self._notifications is not None:
            self._notifications.close()

    def _report_lost(self, exc: Exception) -> None:
        if not self._lost:  # once per outage, not once per poll
            log.warning("outbox worker: cannot listen for new messages (%s); polling every %ss",
                        exc, self._idle)  # fmt: skip
            self._lost = True


def queue_reminders() -> int:
    """The worker's schedule: queue due reminders as their own unit of work (see reminders.py)."""
    from app.services import reminders

    return _scheduled(reminders.queue_due, "reminder scan", "appointment reminders")


def queue_day_agendas(now: datetime | None = None) -> int:
    """The worker's schedule, with the reminder scan: queue the doctors' lists of the day due
    (see day_agendas.py); one read that finds nothing on most rounds."""
    from app.services import day_agendas

    return _scheduled(partial(day_agendas.queue_due, now), "day agendas", "doctors' day agendas")


def _scheduled(queue: Callable[[], int], job: str, what: str) -> int:
    """Run one of the worker's queuing jobs as its own unit of work: a failure is logged and
    the next scan tries again. Returns how many it queued."""
    try:
        queued = queue()
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("outbox worker: %s failed; next scan will try again", job)
        return 0
    if queued:
        log.info("queued %s %s", queued, what)
    return queued


def extend_standing_hours(now: datetime | None = None) -> int:
    """The worker's schedule, with the reminder scan: publish the days that doctors' standing
    hours have come to, one doctor per transaction (see standing_hours.py). Mostly one read of
    a small table that finds nothing: the window moves on once a day. Returns how many slots
    were published."""
    from app.services import standing_hours

    created = 0
    try:
        due = standing_hours.due_ids(now or utcnow())
    except Exception:
        db.session.rollback()
        log.exception("outbox worker: reading standing hours failed; the next round will retry")
        return 0
    for standing_id in due:
        try:
            extended = standing_hours.extend(standing_id, now)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("outbox worker: standing hours %s not extended; will retry", standing_id)
            continue
        if extended is not None:
            created += extended.created
    if created:
        log.info("published %s slots of doctors' standing hours", created)
    return created


def prune_sent_emails(
    now: datetime | None = None, stop: threading.Event | None = None
) -> tuple[int, datetime | None]:
    """Delete the emails sent more than OUTBOX_KEEP_SENT_DAYS ago, and those given up on whose
    last attempt was that long ago (time enough for an admin to send them again, and too late
    for most to be worth it), PRUNE_BATCH per short transaction. Returns how many went and the
    cut-off (None when the setting keeps them all).

    Their keys are free again once they are gone, which is harmless: each names something that
    happens once (a sign-up, a booking, a cancellation, a reminder for one start time) or carries
    a token of its own, and none of those comes round again after the retention period.
    """
    days = current_app.config["OUTBOX_KEEP_SENT_DAYS"]
    if days <= 0:
        return 0, None
    before = (now or utcnow()) - timedelta(days=days)
    deleted = 0
    try:
        for delete_batch in (repository.delete_sent_emails, repository.delete_given_up_emails):
            while stop is None or not stop.is_set():
                count = delete_batch(before, PRUNE_BATCH)
                db.session.commit()
                deleted += count
                if count < PRUNE_BATCH:
                    break
    except BaseException:
        db.session.rollback()
        raise
    return deleted, before


def _prune_on_schedule(stop: threading.Event) -> None:
    try:
        deleted, before = prune_sent_emails(stop=stop)
    except Exception:
        log.exception("outbox worker: deleting old sent emails failed; the next sweep will retry")
        return
    if deleted:
        when = before.isoformat(timespec="seconds")
        log.info("deleted %s emails sent, or given up on, before %s", deleted, when)


def register_outbox_delivery(app: Flask) -> None:
    """After each response is sent, try the messages its request queued (when configured).

    Unconfigured, it is off on PostgreSQL: there the commit itself wakes the outbox worker
    (`run_worker`), which sends at once, and the web threads are spared the email service's
    round trips (a cold Lambda, a slow SMTP relay). Elsewhere (SQLite, `make run`) the worker
    only polls, so the request's own process sends them.
    """
    if app.config["OUTBOX_LEASE_SECONDS"] <= 2 * app.config["EMAIL_SERVICE_TIMEOUT"]:
        raise RuntimeError("OUTBOX_LEASE_SECONDS must be well above EMAIL_SERVICE_TIMEOUT")
    if app.config["OUTBOX_DELIVER_AFTER_RESPONSE"] is None:
        uri = app.config["SQLALCHEMY_DATABASE_URI"]
        app.config["OUTBOX_DELIVER_AFTER_RESPONSE"] = not uri.startswith("postgresql")
    register_default_handlers()

    @app.after_request
    def deliver_after_response(response: Response) -> Response:
        # The view has committed (or rolled back) by now; rolled-back ids are not found.
        ids = outbox.take_new_ids()
        if ids and app.config["OUTBOX_DELIVER_AFTER_RESPONSE"] and not after_response_pause.on():
            response.call_on_close(lambda: _deliver_in_fresh_context(app, ids))
        return response


class AfterResponsePause:
    """After-response delivery stands aside for a while once one of its attempts fails.

    Its attempts run on the web server's threads. A receiver that is down answers at once, but
    one that hangs holds a thread for EMAIL_SERVICE_TIMEOUT per message: a few bookings would
    then hold every thread of a worker and stall its pages. After a failed attempt, the rest of
    that request's messages go straight back to the queue, and this process leaves new ones to
    the outbox worker for OUTBOX_AFTER_RESPONSE_PAUSE_SECONDS, so each thread waits out at most
    one timeout per pause. Per process: each gunicorn worker finds out for itself.
    """

    def __init__(self) -> None:
        self._until = 0.0  # time.monotonic(); one float, read and written whole under the GIL

    def on(self) -> bool:
        return time.monotonic() < self._until

    def start(self, seconds: float) -> None:
        self._until = time.monotonic() + seconds

    def clear(self) -> None:
        self._until = 0.0


after_response_pause = AfterResponsePause()


def _deliver_in_fresh_context(app: Flask, ids: list[int]) -> None:
    """Runs once the client has the response: a new context, so a new session, and nothing
    raised may reach the server; whatever fails here the worker retries."""
    try:
        with app.app_context():
            outcomes = deliver(ids=ids, stop_at_failure=True)
    except Exception:
        log.exception("after-response delivery of outbox %s failed; the worker will retry", ids)
        outcomes = Counter({OutboxStatus.FAILED: 1})
    if outcomes[OutboxStatus.FAILED]:
        pause = app.config["OUTBOX_AFTER_RESPONSE_PAUSE_SECONDS"]
        after_response_pause.start(pause)
        log.warning("after-response delivery failed: new messages go to the outbox worker "
                    "for the next %ss", pause)  # fmt: skip
