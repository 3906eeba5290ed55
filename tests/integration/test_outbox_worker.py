"""The outbox worker as `make run` starts it, the handler registry the calendar plugs into,
and the claims that keep two workers from taking the same message."""

import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from app import create_app
from app.models import OutboxKind, OutboxMessage, OutboxStatus
from app.repositories import outbox as repository
from app.services import delivery, outbox
from app.timeutil import utcnow
from config import TestingConfig
from tests.integration.outbox_helpers import messages, run_once, sign_up

ROOT = Path(__file__).resolve().parents[2]


def _lines(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put(line)


def _wait_for_line(lines: queue.Queue, text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            seen.append(lines.get(timeout=0.1))
        except queue.Empty:
            continue
        if text in seen[-1]:
            return seen[-1]
    raise AssertionError(f"no {text!r} within {timeout}s; output: {''.join(seen)}")


def test_the_procfile_worker_delivers_then_stops_cleanly_on_sigterm(
    client, db, database_url, email_service, mailbox
):
    env = {
        **os.environ,
        "HMS_ENV": "development",
        "DATABASE_URL": database_url,
        "EMAIL_SERVICE_URL": email_service.url,
        "EMAIL_SERVICE_SECRET": TestingConfig.EMAIL_SERVICE_SECRET,
        "OUTBOX_IDLE_SECONDS": "0.1",
        "PYTHONUNBUFFERED": "1",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(worker.stdout, lines), daemon=True).start()
    try:
        _wait_for_line(lines, "Outbox worker started", timeout=20)
        sign_up(client, "worker@example.com")
        _wait_for_line(lines, "delivered on attempt 1", timeout=10)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=10) == 0
        _wait_for_line(lines, "Outbox worker stopped: 1 sent.", timeout=2)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert [m["To"] for m in mailbox.messages] == ["worker@example.com"]
    [message] = messages(db)
    assert message.status == OutboxStatus.SENT


@pytest.fixture
def registry(monkeypatch):
    """Handlers registered in a test go away after it."""
    monkeypatch.setattr(delivery, "_handlers", dict(delivery._handlers))
    return delivery


def queue_calendar(db, key: str = "calendar:1") -> OutboxMessage:
    message = outbox.enqueue(OutboxKind.CALENDAR_CREATE, {"appointment_id": 7}, key)
    db.session.commit()
    return message


def test_kinds_without_a_handler_wait_untouched(db, runner, registry):
    registry._handlers.pop(OutboxKind.CALENDAR_CREATE)  # e.g. a worker from an older release
    message = queue_calendar(db)

    assert "nothing was due" in run_once(runner)
    db.session.refresh(message)
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)


def test_a_registered_handler_gets_the_payload_and_key(db, runner, registry):
    calls = []
    registry.register_handler(OutboxKind.CALENDAR_CREATE, lambda *args: calls.append(args))
    message = queue_calendar(db, "calendar:create:7")

    assert "1 sent" in run_once(runner)
    assert calls == [({"appointment_id": 7}, "calendar:create:7")]
    db.session.refresh(message)
    assert message.status == OutboxStatus.SENT


@pytest.mark.parametrize(
    "error, status, last_error",
    [
        (delivery.PermanentDeliveryError("event gone"), OutboxStatus.DEAD, "event gone"),
        (delivery.RetryableDeliveryError("busy"), OutboxStatus.FAILED, "busy"),
        (RuntimeError("token expired"), OutboxStatus.FAILED, "RuntimeError: token expired"),
    ],
)
def test_a_handler_gives_up_or_asks_for_a_retry_by_what_it_raises(
    db, runner, registry, error, status, last_error
):
    def handler(payload, key):
        raise error

    registry.register_handler(OutboxKind.CALENDAR_CREATE, handler)
    message = queue_calendar(db)

    run_once(runner)
    db.session.refresh(message)
    assert (message.status, message.attempts, message.last_error) == (status, 1, last_error)


def test_a_claim_and_a_result_count_only_for_the_current_lease(db):
    message = queue_calendar(db)
    other = queue_calendar(db, "calendar:2")
    lease = utcnow() + timedelta(minutes=1)

    assert repository.claim([(message.id, 0)], lease) == {message.id}
    # a second worker's stale view of the first, beside a fresh one of the second: one statement
    assert repository.claim([(message.id, 0), (other.id, 0)], lease) == {other.id}
    assert repository.record(message.id, 0, status=OutboxStatus.SENT) is False
    assert repository.record(message.id, 1, status=OutboxStatus.SENT) is True
    assert repository.claim([(message.id, 1)], lease) == set()  # sent: nobody claims it again
    assert repository.claim([], lease) == set()
    db.session.commit()


def test_a_stopping_worker_hands_its_claimed_batch_back(db, registry):
    calls = []
    registry.register_handler(OutboxKind.CALENDAR_CREATE, lambda *args: calls.append(args))
    queue_calendar(db, "calendar:1")
    queue_calendar(db, "calendar:2")
    stop = threading.Event()
    stop.set()

    assert delivery.deliver(stop=stop) == {}

    assert calls == []
    for message in db.session.scalars(select(OutboxMessage)):
        db.session.refresh(message)
        assert message.status == OutboxStatus.PENDING
        assert message.next_attempt_at <= utcnow()  # due again now, not after the lease


class IdleWorker:
    """`run_worker` in a thread of its own (its own session and connections, as a worker
    process has), with `went_idle` set each time a delivery round finds nothing due."""

    def __init__(self, app, monkeypatch):
        self.stop = threading.Event()
        self.went_idle = threading.Event()
        self.errors: list[BaseException] = []
        real_deliver = delivery.deliver

        def deliver(**kwargs):
            outcomes = real_deliver(**kwargs)
            if not outcomes:
                self.went_idle.set()
            return outcomes

        monkeypatch.setattr(delivery, "deliver", deliver)
        self.thread = threading.Thread(target=self._run, args=(app,))

    def _run(self, app) -> None:
        try:
            with app.app_context():
                delivery.run_worker(stop=self.stop)
        except BaseException as exc:  # reported by stopped(): a thread's exception is lost
            self.errors.append(exc)

    def __enter__(self):
        self.thread.start()
        assert self.went_idle.wait(timeout=20), "the worker never went idle"
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        self.thread.join(timeout=10)

    def stopped(self) -> bool:
        return not self.thread.is_alive() and not self.errors


def listeners(db) -> list[int]:
    """Backends (other than ours) listening for new outbox messages."""
    db.session.commit()  # pg_stat_activity is read once per transaction: look afresh
    rows = db.session.execute(
        text("SELECT pid FROM pg_stat_activity WHERE query = :listen AND pid <> pg_backend_pid()"),
        {"listen": repository.LISTEN},
    )
    return list(rows.scalars())


def eventually(check, timeout: float = 10):
    """`check()` once it is truthy, polling for `timeout` seconds; its last value otherwise."""
    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


@pytest.mark.postgres
def test_an_idle_worker_is_woken_by_the_commit_that_queues_mail(
    app, client, db, email_service, mailbox, monkeypatch
):
    monkeypatch.setitem(app.config, "OUTBOX_IDLE_SECONDS", 60)  # a poll would come far too late
    with IdleWorker(app, monkeypatch) as worker:
        started = time.monotonic()
        sign_up(client, "woken@example.com")  # after-response delivery is off in tests
        assert mailbox.wait_for(1, timeout=10), "the worker slept through the commit"
        woken_after = time.monotonic() - started
        worker.went_idle.clear()
        assert worker.went_idle.wait(timeout=10)
    assert worker.stopped(), worker.errors  # and a stop request ends a 60 s idle within 10 s
    assert woken_after < 10
    assert [m["To"] for m in mailbox.messages] == ["woken@example.com"]
    assert [m.status for m in messages(db)] == [OutboxStatus.SENT]
    assert eventually(lambda: listeners(db) == [])  # closed, not left listening in the pool


@pytest.mark.postgres
def test_an_idle_worker_is_woken_when_the_desk_sends_a_given_up_email_again(
    app, client, db, make, login_as, email_service, mailbox, monkeypatch
):
    sign_up(client, "given.up@example.com")
    db.session.execute(
        update(OutboxMessage).values(status=OutboxStatus.DEAD, attempts=8, last_error="down")
    )
    db.session.commit()
    monkeypatch.setitem(app.config, "OUTBOX_IDLE_SECONDS", 60)  # a poll would come far too late
    with IdleWorker(app, monkeypatch) as worker:
        login_as(client, make.admin())
        assert client.post("/admin/emails/send-again").status_code == 302  # an UPDATE: no trigger
        assert mailbox.wait_for(1, timeout=10), "the worker slept through the sending again"
    assert worker.stopped(), worker.errors
    assert [m["To"] for m in mailbox.messages] == ["given.up@example.com"]


@pytest.mark.postgres
def test_a_worker_that_loses_its_listening_connection_polls_then_listens_again(
    app, client, db, email_service, mailbox, monkeypatch, caplog
):
    monkeypatch.setitem(app.config, "OUTBOX_IDLE_SECONDS", 0.5)
    caplog.set_level(logging.INFO, logger=delivery.__name__)
    with IdleWorker(app, monkeypatch) as worker:
        [pid] = listeners(db)
        db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        db.session.commit()
        sign_up(client, "after-the-cut@example.com")
        assert mailbox.wait_for(1, timeout=10)
        again = eventually(lambda: listeners(db))
        assert again and again != [pid]
        sign_up(client, "listening-again@example.com")
        assert mailbox.wait_for(2, timeout=10)
    assert worker.stopped(), worker.errors
    assert "cannot listen for new messages" in caplog.text
    assert "listening for new messages again" in caplog.text


def test_after_response_delivery_defaults_to_off_where_the_worker_is_woken(monkeypatch):
    monkeypatch.delenv("OUTBOX_DELIVER_AFTER_RESPONSE", raising=False)
    defaults = {}
    for url in ("postgresql+psycopg://hms@127.0.0.1:9/hms", "sqlite:///:memory:"):
        app = create_app(TestingConfig, {"SQLALCHEMY_DATABASE_URI": url,
                                         "OUTBOX_DELIVER_AFTER_RESPONSE": None})  # fmt: skip
        defaults[url.split(":")[0]] = app.config["OUTBOX_DELIVER_AFTER_RESPONSE"]
    assert defaults == {"postgresql+psycopg": False, "sqlite": True}
    explicit = create_app(TestingConfig, {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x/y",
                                          "OUTBOX_DELIVER_AFTER_RESPONSE": True})  # fmt: skip
    assert explicit.config["OUTBOX_DELIVER_AFTER_RESPONSE"] is True
