"""Several workers draining one outbox on PostgreSQL: every message delivered exactly once.

Counted where it matters, at the SMTP server behind the real email service: two workers that
both sent a message would show up there as two deliveries, whatever the status column says.
"""

import threading

import pytest
from sqlalchemy import select

from app.models import OutboxKind, OutboxMessage, OutboxStatus
from app.services import delivery, outbox

MESSAGES = 200
WORKERS = 2


@pytest.mark.postgres
def test_concurrent_workers_deliver_each_message_exactly_once(
    app, db, email_service, mailbox, monkeypatch
):
    monkeypatch.setitem(app.config, "OUTBOX_BATCH_SIZE", 5)  # many small claims: many races
    keys = [f"concurrency:{n}" for n in range(MESSAGES)]
    for n, key in enumerate(keys):
        payload = {
            "action": "SIGNUP_WELCOME",
            "to": f"patient{n}@example.com",
            "data": {"full_name": f"Patient {n}", "role": "patient"},
        }
        outbox.enqueue(OutboxKind.EMAIL, payload, key)
    db.session.commit()

    start = threading.Barrier(WORKERS)
    results, errors = [], []

    def worker() -> None:
        try:
            with app.app_context():  # its own session and connection, as a worker process has
                start.wait(timeout=10)
                results.append(delivery.run_worker(stop=threading.Event(), once=True))
        except Exception as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    sent_by_worker = [totals[OutboxStatus.SENT] for totals in results]
    assert sum(sent_by_worker) == MESSAGES
    assert all(sent_by_worker), f"one worker did everything: {sent_by_worker}"
    assert len(mailbox.messages) == MESSAGES
    assert set(mailbox.deliveries(keys).values()) == {1}
    db.session.expire_all()
    rows = db.session.execute(select(OutboxMessage.status, OutboxMessage.attempts)).all()
    assert set(rows) == {(OutboxStatus.SENT, 1)}
