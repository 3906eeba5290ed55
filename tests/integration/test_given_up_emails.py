"""Emails the outbox worker gave up on: the front desk sees them and sends them again once the
email service is back, except those that would now be wrong to send."""

import re
from datetime import timedelta

from sqlalchemy import select, update

from app.models import AuditEvent, OutboxKind, OutboxMessage, OutboxStatus
from app.services import booking, notifications, outbox, password_reset
from app.services.reschedule import reschedule
from app.timeutil import utcnow
from tests.helpers import count_queries
from tests.integration.mail_fixtures import closed_url
from tests.integration.outbox_helpers import messages, run_once, sign_up


def _give_up(db, ids=None) -> None:
    """The worker's last attempt failed for these messages (every one, without `ids`)."""
    query = update(OutboxMessage).values(
        status=OutboxStatus.DEAD, attempts=8, last_error="email service unreachable"
    )
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    db.session.execute(query)
    db.session.commit()


def _sent_again_event(db) -> AuditEvent:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "email.sent_again")).one()


def _ids(db) -> set[int]:
    return {m.id for m in messages(db)}


def _rows(client) -> dict[str, str]:
    """The page's rows, by recipient and email: the last cell ("Send again" or why not)."""
    page = client.get("/admin/emails").get_data(as_text=True)
    rows = re.findall(r"<tr data-email-id=\"\d+\">(.*?)</tr>", page, re.S)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]
    text = [[" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in row] for row in cells]
    return {f"{row[2]} {row[1]}": row[5] for row in text}


def test_an_email_given_up_on_during_an_outage_is_sent_again_once(
    app, client, db, runner, email_service, mailbox, login_as, make, monkeypatch
):
    monkeypatch.setitem(app.config, "EMAIL_SERVICE_URL", closed_url())  # the outage
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 1)
    sign_up(client, "welcome@example.com", "Wendy Welcome")
    assert "1 dead" in run_once(runner)
    admin = make.admin()
    login_as(client, admin)
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "Given up on: 1" in dashboard
    assert 'href="/admin/emails"' in dashboard

    page = client.get("/admin/emails").get_data(as_text=True)
    assert "1 email given up on." in page
    assert _rows(client) == {"welcome@example.com Welcome": "Send again"}
    assert "unreachable" in page  # why it failed

    monkeypatch.setitem(app.config, "EMAIL_SERVICE_URL", email_service.url)  # it is back
    response = client.post("/admin/emails/send-again")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/emails"
    assert "1 email queued to be sent again." in client.get("/admin/emails").get_data(True)
    assert "1 sent" in run_once(runner)
    assert "nothing was due" in run_once(runner)

    [mail] = mailbox.messages
    assert (mail["To"], mail["X-HMS-Action"]) == ("welcome@example.com", "SIGNUP_WELCOME")
    [message] = messages(db)
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 1, None)
    assert _rows(client) == {}
    assert "Given up on" not in client.get("/admin/").get_data(as_text=True)
    event = _sent_again_event(db)
    assert (event.actor_id, event.details) == (admin.id, {"count": 1})


def test_emails_that_would_now_be_wrong_are_not_sent_again(client, db, login_as, make):
    now = utcnow()
    doctor, admin = make.doctor(), make.admin()
    stays, moves, cancelled, started = (make.patient() for _ in range(4))
    slots = [make.slot(doctor=doctor, start_at=now + timedelta(days=2, hours=h)) for h in range(5)]
    booked = {
        patient: make.appointment(slot=slot, patient=patient)
        for patient, slot in zip((stays, moves, cancelled), slots, strict=False)
    }
    soon = make.slot(doctor=doctor, start_at=now + timedelta(hours=3))
    gone_by = make.appointment(slot=soon, patient=started)
    for appointment in [*booked.values(), gone_by]:
        notifications.appointment_booked(appointment)
    notifications.appointment_reminder(gone_by)
    notifications.running_late(gone_by, doctor, started, 15, "e1")
    db.session.commit()
    _give_up(db)
    before = _ids(db)
    # after the worker gave up: one visit moves, one is cancelled, one has started
    reschedule(booked[moves].id, slots[4].id, actor=moves.user, now=now)
    booking.cancel(booked[cancelled].id, actor=admin)
    db.session.commit()
    _give_up(db, _ids(db) - before)  # the move's and the cancellation's emails fail too
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.kind != OutboxKind.EMAIL).values(status="sent")
    )
    gone_by.start_at = soon.start_at = now - timedelta(minutes=5)
    db.session.commit()
    login_as(client, admin)

    changed = "Too late to send: the appointment has changed since; it no longer says what is true."
    started_already = "Too late to send: the appointment has started."
    rows = {what: last for what, last in _rows(client).items() if doctor.user.email not in what}
    assert rows == {  # the patients' (the doctor's follow the same rules)
        f"{stays.user.email} Booking confirmed": "Send again",
        f"{moves.user.email} Booking confirmed": changed,  # it says the old time
        f"{moves.user.email} Booking moved": "Send again",
        f"{cancelled.user.email} Booking confirmed": changed,  # it would send them to no visit
        f"{cancelled.user.email} Booking cancelled": "Send again",
        f"{started.user.email} Booking confirmed": started_already,
        f"{started.user.email} Appointment reminder": started_already,
        f"{started.user.email} Doctor running late": "Too late to send: it was news of the moment.",
    }

    response = client.post("/admin/emails/send-again")

    assert response.status_code == 302
    flashed = client.get("/admin/emails").get_data(as_text=True)
    queued = [m for m in messages(db) if m.status == OutboxStatus.PENDING]
    sent_again = {(m.payload["to"], m.payload["action"]) for m in queued}
    assert (stays.user.email, "BOOKING_CONFIRMATION") in sent_again
    assert (moves.user.email, "BOOKING_RESCHEDULED") in sent_again
    assert (cancelled.user.email, "BOOKING_CANCELLED") in sent_again
    assert (moves.user.email, "BOOKING_CONFIRMATION") not in sent_again
    assert (cancelled.user.email, "BOOKING_CONFIRMATION") not in sent_again
    assert all(m.payload["to"] != started.user.email for m in queued)
    too_late = client.get("/admin/emails").get_data(as_text=True).count("Too late to send:")
    assert f"{len(queued)} emails queued to be sent again. {too_late} too late" in flashed
    assert {m.attempts for m in queued} == {0}


def test_a_link_is_sent_again_only_while_it_still_works(app, client, db, login_as, make):
    person = make.patient().user
    password_reset.request_reset(person.email)
    db.session.commit()
    _give_up(db)
    admin = make.admin()
    login_as(client, admin)
    [reset] = messages(db)
    assert _rows(client) == {f"{person.email} Password reset link": "Send again"}

    lifetime = timedelta(minutes=app.config["PASSWORD_RESET_MAX_AGE_MINUTES"])
    reset.created_at = utcnow() - lifetime - timedelta(seconds=1)
    db.session.commit()

    expired = "Too late to send: its link has expired; they can ask for a new one."
    assert _rows(client) == {f"{person.email} Password reset link": expired}
    response = client.post(f"/admin/emails/{reset.id}/send-again")
    assert response.status_code == 409
    assert "its link has expired" in response.get_data(as_text=True)
    assert messages(db)[0].status == OutboxStatus.DEAD


def test_one_email_is_sent_again_on_its_own(client, db, login_as, make):
    first, second = make.patient().user, make.patient().user
    notifications.signup_welcome(first)
    notifications.signup_welcome(second)
    db.session.commit()
    _give_up(db)
    admin = make.admin()
    login_as(client, admin)
    one, other = messages(db)

    response = client.post(f"/admin/emails/{one.id}/send-again")

    assert response.status_code == 302
    assert [m.status for m in messages(db)] == [OutboxStatus.PENDING, OutboxStatus.DEAD]
    event = _sent_again_event(db)
    assert (event.target_type, event.target_id) == ("OutboxMessage", one.id)
    assert event.details == {"count": 1}
    # it is no longer given up on: asking again finds nothing (a double click)
    assert client.post(f"/admin/emails/{one.id}/send-again").status_code == 404


def test_only_emails_given_up_on_can_be_sent_again(client, db, login_as, make):
    outbox.enqueue(OutboxKind.EMAIL, {"action": "SIGNUP_WELCOME", "to": "a@example.com"}, "sent")
    outbox.enqueue(OutboxKind.CALENDAR_CREATE, {"appointment_id": 1, "user_id": 1}, "calendar")
    db.session.commit()
    sent, calendar = messages(db)
    sent.status, calendar.status = OutboxStatus.SENT, OutboxStatus.DEAD
    db.session.commit()
    login_as(client, make.admin())

    assert client.post(f"/admin/emails/{sent.id}/send-again").status_code == 404
    assert client.post(f"/admin/emails/{calendar.id}/send-again").status_code == 404
    assert client.post("/admin/emails/99999/send-again").status_code == 404
    assert "None: every email" in client.get("/admin/emails").get_data(as_text=True)
    assert "Given up on" not in client.get("/admin/").get_data(as_text=True)  # emails only
    assert [m.status for m in messages(db)] == [OutboxStatus.SENT, OutboxStatus.DEAD]


def test_the_page_costs_the_same_however_many_emails_it_shows(app, client, db, login_as, make):
    login_as(client, make.admin())
    doctor = make.doctor()

    def add(n: int) -> None:
        for _ in range(n):
            slot = make.slot(
                doctor=doctor, start_at=utcnow() + timedelta(days=3, hours=len(_ids(db)))
            )
            notifications.appointment_booked(make.appointment(slot=slot, doctor=doctor))
        db.session.commit()
        _give_up(db)

    add(1)
    with count_queries(db.engine) as few:
        assert client.get("/admin/emails").status_code == 200
    add(8)
    with count_queries(db.engine) as many:
        assert client.get("/admin/emails").status_code == 200
    assert client.get("/admin/emails").get_data(as_text=True).count("data-email-id=") == 18
    assert len(many) == len(few) <= 6
