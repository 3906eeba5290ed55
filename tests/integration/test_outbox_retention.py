"""Sent emails are deleted OUTBOX_KEEP_SENT_DAYS after they went: each holds a copy of what a
patient was told (names, times, links), and nothing reads it once it is sent. Emails given up on
go the same time after their last attempt (the front desk could send them again until then).
What is still to be sent and the calendar's messages stay."""

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect

from app.models import OutboxKind, OutboxMessage, OutboxStatus
from app.repositories import outbox as repository
from app.services import delivery, outbox
from app.timeutil import utcnow
from tests.integration.outbox_helpers import messages, run_once, sign_up

DAY = timedelta(days=1)


def _message(db, key: str, *, kind=OutboxKind.EMAIL, status=OutboxStatus.SENT, sent_ago=None):
    """A message queued 40 days ago, in `status`, sent `sent_ago` before now (when given)."""
    payload = {"action": "SIGNUP_WELCOME", "to": f"{key}@example.com", "data": {}}
    if kind is not OutboxKind.EMAIL:
        payload = {"appointment_id": 1, "user_id": 1, "roles": ["patient"]}
    message = outbox.enqueue(kind, payload, idempotency_key=key)
    message.status = status
    message.created_at = utcnow() - 40 * DAY
    if sent_ago is not None:
        message.sent_at = utcnow() - sent_ago
    db.session.commit()
    return message


def _keys(db) -> set[str]:
    return {m.idempotency_key for m in messages(db)}


def test_the_sweep_deletes_only_emails_sent_before_the_retention(app, db):
    assert app.config["OUTBOX_KEEP_SENT_DAYS"] == 30  # the default
    _message(db, "sent-31-days-ago", sent_ago=31 * DAY)
    _message(db, "sent-a-year-ago", sent_ago=365 * DAY)
    _message(db, "sent-29-days-ago", sent_ago=29 * DAY)
    _message(db, "sent-just-now", sent_ago=timedelta(0))
    _message(db, "waiting", status=OutboxStatus.PENDING)
    _message(db, "retrying", status=OutboxStatus.FAILED)
    _message(db, "given-up", status=OutboxStatus.DEAD)
    long_ago = _message(db, "given-up-long-ago", status=OutboxStatus.DEAD)
    _message(db, "calendar-create", kind=OutboxKind.CALENDAR_CREATE, sent_ago=365 * DAY)
    calendar = _message(
        db, "calendar-given-up", kind=OutboxKind.CALENDAR_CREATE, status=OutboxStatus.DEAD
    )
    long_ago.next_attempt_at = calendar.next_attempt_at = utcnow() - 31 * DAY  # the last try
    db.session.commit()

    deleted, before = delivery.prune_sent_emails()

    assert deleted == 3
    assert abs(before - (utcnow() - 30 * DAY)) < timedelta(minutes=1)
    assert _keys(db) == {
        "sent-29-days-ago",
        "sent-just-now",
        "waiting",
        "retrying",
        "given-up",  # the front desk may still send it again
        "calendar-create",  # a cancellation later looks the create up by its key
        "calendar-given-up",
    }


def test_the_sweep_goes_through_any_number_in_short_batches(db, monkeypatch):
    monkeypatch.setattr(delivery, "PRUNE_BATCH", 2)
    for n in range(5):
        _message(db, f"old-{n}", sent_ago=(40 + n) * DAY)
    _message(db, "recent", sent_ago=DAY)
    deletes = []
    real_delete = repository.delete_sent_emails

    def delete_sent_emails(before, limit):
        deletes.append(real_delete(before, limit))
        return deletes[-1]

    monkeypatch.setattr(repository, "delete_sent_emails", delete_sent_emails)

    assert delivery.prune_sent_emails()[0] == 5

    assert deletes == [2, 2, 1]  # oldest first, each batch committed before the next
    assert _keys(db) == {"recent"}


def test_a_retention_of_zero_keeps_every_sent_email(app, db, runner, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_KEEP_SENT_DAYS", 0)
    _message(db, "sent-years-ago", sent_ago=1000 * DAY)

    assert delivery.prune_sent_emails() == (0, None)
    result = runner.invoke(args=["outbox", "prune"])

    assert result.exit_code == 0, result.output
    assert "OUTBOX_KEEP_SENT_DAYS is 0: sent emails are kept." in result.output
    assert _keys(db) == {"sent-years-ago"}


def test_operators_can_run_the_sweep_from_the_command_line(app, db, runner, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_KEEP_SENT_DAYS", 7)
    _message(db, "sent-8-days-ago", sent_ago=8 * DAY)
    _message(db, "sent-9-days-ago", sent_ago=9 * DAY)
    _message(db, "sent-6-days-ago", sent_ago=6 * DAY)

    result = runner.invoke(args=["outbox", "prune"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Deleted 2 emails sent, or given up on, before ")
    assert _keys(db) == {"sent-6-days-ago"}
    assert runner.invoke(args=["outbox", "prune"]).output.startswith("Deleted 0 emails sent,")


def test_the_worker_sweeps_when_it_starts_and_still_delivers(
    client, db, runner, email_service, mailbox, caplog
):
    caplog.set_level(logging.INFO, logger=delivery.__name__)
    _message(db, "sent-long-ago", sent_ago=100 * DAY)
    sign_up(client, "new@example.com")

    assert "1 sent" in run_once(runner)

    assert [m["To"] for m in mailbox.messages] == ["new@example.com"]
    [welcome] = messages(db)  # the one just sent stays for its 30 days
    assert (welcome.kind, welcome.status) == (OutboxKind.EMAIL, OutboxStatus.SENT)
    assert any("deleted 1 emails sent, or given up on" in r.getMessage() for r in caplog.records)


def test_a_failing_sweep_is_logged_and_the_worker_carries_on(
    client, db, runner, email_service, mailbox, monkeypatch, caplog
):
    def broken(before, limit):
        db.session.execute(text("SELECT * FROM no_such_table"))

    monkeypatch.setattr(repository, "delete_sent_emails", broken)
    sign_up(client, "still@example.com")

    assert "1 sent" in run_once(runner)

    assert [m["To"] for m in mailbox.messages] == ["still@example.com"]
    assert "deleting old sent emails failed" in caplog.text


@pytest.mark.postgres  # SQLite, without statistics, picks ix_outbox_messages_due instead
def test_the_sweep_finds_old_emails_through_its_partial_index(db):
    """psycopg prepares a statement run often, and PostgreSQL may then plan it once for any
    values: the predicate is written out in the statement, not bound, so that even that generic
    plan matches `ix_outbox_messages_sent_emails` (a bound status would not imply its WHERE)."""
    _message(db, "old", sent_ago=40 * DAY)
    dialect = psycopg_dialect(paramstyle="numeric_dollar")  # $1, $2 as PREPARE takes them
    compiled = repository._delete_sent_emails().compile(dialect=dialect)
    connection = db.session.connection()
    connection.exec_driver_sql(f"PREPARE sweep AS {compiled}")
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    for plan_node in ("seqscan", "bitmapscan", "sort"):  # left: an index that gives the order
        connection.exec_driver_sql(f"SET LOCAL enable_{plan_node} = off")
    plan = connection.exec_driver_sql("EXPLAIN EXECUTE sweep(now(), 10)").scalars().all()
    connection.exec_driver_sql("DEALLOCATE sweep")
    db.session.rollback()
    assert any("ix_outbox_messages_sent_emails" in line for line in plan), plan


@pytest.mark.parametrize("status", [OutboxStatus.PENDING, OutboxStatus.FAILED])
def test_an_email_still_to_send_is_never_swept_however_old(db, status):
    message = _message(db, "stuck", status=status)
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(created_at=utcnow() - 1000 * DAY, next_attempt_at=utcnow() - 1000 * DAY)
    )
    db.session.commit()

    assert delivery.prune_sent_emails()[0] == 0
    assert db.session.scalar(select(OutboxMessage.status)) == status
