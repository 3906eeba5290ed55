"""Outbox delivery against the real email service and an SMTP server on loopback.

Each test follows one message from the change that queues it to the mailbox that receives it,
counting at the mailbox: a status column can say "sent" for a mail that never arrived.
"""

import logging
from datetime import timedelta

from app.models import OutboxStatus
from app.timeutil import utcnow
from tests.integration.mail_fixtures import closed_url, free_port
from tests.integration.outbox_helpers import make_due, messages, run_once, sign_up


def test_the_worker_delivers_a_signup_welcome_exactly_once(
    client, db, runner, email_service, mailbox
):
    sign_up(client, "pat@example.com", "Pat Example")
    assert mailbox.messages == []  # after-response delivery is off in testing

    assert "1 sent" in run_once(runner)
    assert "nothing was due" in run_once(runner)

    [mail] = mailbox.messages
    assert mail["To"] == "pat@example.com"
    assert mail["X-HMS-Action"] == "SIGNUP_WELCOME"
    assert mail["Subject"] == "Welcome to HMS, Pat Example"
    [message] = messages(db)
    assert mailbox.with_key(message.idempotency_key) == [mail]
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 1, None)
    assert message.sent_at is not None


def test_after_response_delivery_sends_the_welcome_once_the_response_is_closed(
    app, client, db, email_service, mailbox, monkeypatch
):
    monkeypatch.setitem(app.config, "OUTBOX_DELIVER_AFTER_RESPONSE", True)
    response = sign_up(client, "quick@example.com")
    assert mailbox.messages == []  # nothing is sent before the response is finished

    response.close()  # what the WSGI server does once the client has the response

    assert [m["To"] for m in mailbox.messages] == ["quick@example.com"]
    [message] = messages(db)
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)


def test_delivery_runs_statements_built_once_per_process(
    app, client, db, email_service, mailbox, monkeypatch
):
    """Find, claim and record: a booking's emails run them after the response, the worker
    thousands of times; a second delivery builds none of them again."""
    from app.repositories import outbox as repository

    builders = (repository._due, repository._claim, repository._update_if_unchanged)
    monkeypatch.setitem(app.config, "OUTBOX_DELIVER_AFTER_RESPONSE", True)
    sign_up(client, "one@example.com").close()
    built = [builder.cache_info().misses for builder in builders]
    sign_up(client, "two@example.com").close()
    assert [builder.cache_info().misses for builder in builders] == built
    assert [m["To"] for m in mailbox.messages] == ["one@example.com", "two@example.com"]


def test_after_response_delivery_stays_off_when_configured_off(client, db, email_service, mailbox):
    sign_up(client, "later@example.com").close()

    assert mailbox.messages == []
    [message] = messages(db)
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)


def test_after_response_delivery_skips_rolled_back_and_already_sent_messages(
    app, db, make, email_service, mailbox
):
    from app.services import delivery, notifications, outbox

    user = make.user(email="kept@example.com")
    with app.test_request_context():  # a request's messages are remembered for after its commit
        notifications.signup_welcome(make.user(email="dropped@example.com"))
        db.session.flush()
        flushed = [m.id for m in db.session.info[outbox.SESSION_KEY]]
        db.session.rollback()
        assert outbox.take_new_ids() == []  # rolled back: nothing to try
        assert delivery.deliver(ids=flushed) == {}  # and a stale id finds nothing

        notifications.signup_welcome(user)
        db.session.commit()
        kept = outbox.take_new_ids()
    assert len(kept) == 1
    assert delivery.deliver(ids=kept) == {OutboxStatus.SENT: 1}
    assert delivery.deliver(ids=kept) == {}  # sent already: never twice

    assert [m["To"] for m in mailbox.messages] == ["kept@example.com"]


def test_mail_queued_while_the_email_service_is_down_arrives_once_it_is_back(
    app, client, db, runner, mailbox, monkeypatch, request
):
    monkeypatch.setitem(app.config, "OUTBOX_DELIVER_AFTER_RESPONSE", True)
    monkeypatch.setitem(app.config, "EMAIL_SERVICE_URL", closed_url())
    addresses = [f"patient{n}@example.com" for n in range(3)]
    before = utcnow()
    for address in addresses:
        sign_up(client, address).close()  # sign-up works; the quick attempt fails

    first, *rest = messages(db)
    assert (first.status, first.attempts) == (OutboxStatus.FAILED, 1)
    # after that failure, after-response delivery stood aside: the worker has the others
    assert [(m.status, m.attempts) for m in rest] == [(OutboxStatus.PENDING, 0)] * 2
    assert "2 failed" in run_once(runner)
    for message in messages(db):
        assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)
        assert "unreachable" in message.last_error
        base = app.config["OUTBOX_RETRY_BASE_SECONDS"]
        assert message.next_attempt_at >= before + timedelta(seconds=base)
    assert "nothing was due" in run_once(runner)  # backing off: not hammered again
    assert {m.attempts for m in messages(db)} == {1}

    request.getfixturevalue("email_service")  # the service comes back
    make_due(db)
    assert "3 sent" in run_once(runner)
    assert "nothing was due" in run_once(runner)

    for message in messages(db):
        assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)
        assert len(mailbox.with_key(message.idempotency_key)) == 1
    assert sorted(m["To"] for m in mailbox.messages) == addresses


def test_after_a_failure_after_response_delivery_stands_aside_for_a_while(
    app, db, make, mailbox, monkeypatch, request, caplog
):
    """A hung email service holds a web thread for its timeout per message: after one failed
    attempt the request's other messages go back to the queue at once, and new requests leave
    theirs to the worker until the pause is over."""
    from app.services import delivery, notifications

    monkeypatch.setitem(app.config, "OUTBOX_DELIVER_AFTER_RESPONSE", True)
    monkeypatch.setitem(app.config, "EMAIL_SERVICE_URL", closed_url())
    clock = [1000.0]
    monkeypatch.setattr(delivery.time, "monotonic", lambda: clock[0])

    def one_request(*emails):
        """What a request that queues these welcomes does, up to its response being closed."""
        with app.test_request_context():
            for email in emails:
                notifications.signup_welcome(make.user(email=email))
            db.session.commit()
            response = app.make_response("done")
            response = app.process_response(response)
        response.close()

    one_request("a@example.com", "b@example.com")  # the first attempt fails; b is handed back
    a, b = messages(db)
    assert (a.status, a.attempts) == (OutboxStatus.FAILED, 1)
    assert (b.status, b.attempts, b.last_error) == (OutboxStatus.PENDING, 1, None)
    assert b.next_attempt_at <= utcnow()  # due now, for the worker
    assert "new messages go to the outbox worker for the next 30s" in caplog.text

    clock[0] += 29
    one_request("c@example.com")  # paused: not even tried
    assert (messages(db)[2].status, messages(db)[2].attempts) == (OutboxStatus.PENDING, 0)

    request.getfixturevalue("email_service")  # the service is back (at a new address)
    clock[0] += 2
    one_request("d@example.com")  # the pause is over: delivered right after the response
    assert (messages(db)[3].status, messages(db)[3].attempts) == (OutboxStatus.SENT, 1)
    assert [m["To"] for m in mailbox.messages] == ["d@example.com"]


def test_a_request_the_service_refuses_is_dead_at_once_and_never_retried(
    app, client, db, runner, email_service, mailbox, monkeypatch, caplog
):
    monkeypatch.setitem(app.config, "EMAIL_SERVICE_SECRET", "not-the-service-secret")
    sign_up(client, "refused@example.com")

    with caplog.at_level(logging.INFO, logger="app.services.delivery"):
        assert "1 dead" in run_once(runner)
    make_due(db)
    assert "nothing was due" in run_once(runner)

    [message] = messages(db)
    assert (message.status, message.attempts) == (OutboxStatus.DEAD, 1)
    assert "401" in message.last_error and "bad signature" in message.last_error
    assert mailbox.messages == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"outbox {message.id} " in w and "dead" in w for w in warnings), warnings


def test_a_malformed_email_is_dead_with_the_services_reason(db, runner, email_service, mailbox):
    from app.models import OutboxKind
    from app.services import outbox

    outbox.enqueue(OutboxKind.EMAIL, {"action": "NOPE", "to": "a@example.com", "data": {}}, "x:1")
    db.session.commit()

    assert "1 dead" in run_once(runner)
    [message] = messages(db)
    assert message.status == OutboxStatus.DEAD
    assert "400" in message.last_error and "unknown action" in message.last_error


def test_a_502_from_the_service_is_retried_until_the_mail_server_is_back(
    client, db, runner, email_service, mailbox, monkeypatch
):
    monkeypatch.setenv("SMTP_PORT", str(free_port()))  # the service's SMTP server is down
    sign_up(client, "retry@example.com")

    assert "1 failed" in run_once(runner)
    [message] = messages(db)
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)
    assert "502" in message.last_error

    monkeypatch.setenv("SMTP_PORT", str(mailbox.port))
    make_due(db)
    assert "1 sent" in run_once(runner)
    [message] = messages(db)
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)
    assert len(mailbox.with_key(message.idempotency_key)) == 1


def test_a_message_is_dead_after_the_last_attempt_with_a_warning(
    app, client, db, runner, monkeypatch, caplog
):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 3)
    monkeypatch.setitem(app.config, "EMAIL_SERVICE_URL", closed_url())
    sign_up(client, "unlucky@example.com")

    outcomes = []
    with caplog.at_level(logging.INFO, logger="app.services.delivery"):
        for _ in range(4):
            outcomes.append(run_once(runner))
            make_due(db)

    assert ["1 failed" in o for o in outcomes] == [True, True, False, False]
    assert "1 dead" in outcomes[2] and "nothing was due" in outcomes[3]
    [message] = messages(db)
    assert (message.status, message.attempts) == (OutboxStatus.DEAD, 3)
    dead = [r for r in caplog.records if "dead after 3 attempt" in r.getMessage()]
    assert [r.levelno for r in dead] == [logging.WARNING]
    assert f"outbox {message.id} " in dead[0].getMessage()
