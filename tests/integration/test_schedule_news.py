"""A doctor is emailed (SCHEDULE_CHANGED) when the front desk changes their schedule: one email
for a sitting's changes, held a while to gather them; never for their own changes."""

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, update

from app.models import OutboxMessage
from app.services import closures, notifications
from app.timeutil import local_today, utcnow
from tests.helpers import text_of
from tests.integration.outbox_helpers import messages, run_once

DELAY = timedelta(minutes=10)


@pytest.fixture
def desk(make):
    return make.admin(full_name="Olivia Desk")


@pytest.fixture
def doctor(make):
    return make.doctor(user__full_name="Dr. Ada Lovelace", user__email="ada@example.com")


def iso(days: int) -> str:
    return (local_today() + timedelta(days=days)).isoformat()


def at(days: int, hour: int) -> datetime:
    return datetime.combine(local_today() + timedelta(days=days), time(hour), tzinfo=UTC)


def url(doctor, rest: str = "") -> str:
    return f"/admin/users/{doctor.user.id}/availability{rest}"


def week(first: int, last: int, **more) -> dict:
    return {
        "start_date": iso(first),
        "end_date": iso(last),
        "weekdays": [str(d) for d in range(7)],
        "day_start": "09:00",
        "day_end": "10:00",
        "slot_minutes": "30",
        **more,
    }


def news(db) -> list[OutboxMessage]:
    return [m for m in messages(db) if m.payload["action"] == "SCHEDULE_CHANGED"]


def test_a_sitting_at_the_desk_is_one_email_held_to_gather_it(
    client, db, make, login_as, desk, doctor
):
    gone = make.slot(doctor=doctor, start_at=at(4, 15))
    make.slot(doctor=doctor, start_at=at(6, 9))
    login_as(client, desk)
    before = utcnow()

    assert client.post(url(doctor), data={"date": iso(3), "start_time": "10:00",
                                          "end_time": "10:30"}).status_code == 302  # fmt: skip
    assert client.post(url(doctor, "/weekly"), data=week(7, 8, repeat="y")).status_code == 302
    assert client.post(url(doctor, f"/{gone.id}/delete")).status_code == 302
    cleared = {"first_day": iso(6), "last_day": iso(6)}
    assert client.post(url(doctor, "/clear"), data=cleared).status_code == 302

    [email] = news(db)
    assert email.payload["to"] == "ada@example.com"
    assert email.payload["data"]["doctor_name"] == "Dr. Ada Lovelace"
    assert email.payload["data"]["schedule_url"].endswith("/doctor/availability")
    day = lambda days: f"{local_today() + timedelta(days=days):%a %d %b}"  # noqa: E731
    assert email.payload["data"]["changes"].split("\n") == [
        f"Olivia Desk published a time: {at(3, 10):%a %d %b %Y}, 10:00.",
        f"Olivia Desk published 4 times from {day(7)} to {day(8)}.",
        "Olivia Desk set these hours to repeat every week: Mon, Tue, Wed, Thu, Fri, Sat, Sun "
        "09:00-10:00.",
        f"Olivia Desk removed the open time {at(4, 15):%a %d %b %Y}, 15:00.",
        f"Olivia Desk removed 1 open time on {day(6)}.",
    ]
    # held from the first change, not pushed back by each one after it
    assert before + DELAY <= email.next_attempt_at <= utcnow() + DELAY
    assert "nothing was due" in run_once_output(client)
    assert news(db)[0].sent_at is None


def run_once_output(client) -> str:
    return run_once(client.application.test_cli_runner())


def test_it_goes_once_due_and_a_change_after_that_starts_another(
    client, db, make, login_as, desk, doctor, email_service, mailbox
):
    login_as(client, desk)
    client.post(url(doctor), data={"date": iso(3), "start_time": "10:00", "end_time": "10:30"})
    db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(1)))
    db.session.commit()

    assert "1 sent" in run_once_output(client)
    [message] = mailbox.to("ada@example.com")
    assert message["Subject"] == "Your schedule was changed by the front desk"
    assert "Olivia Desk published a time:" in message.get_body(("plain",)).get_content()

    client.post(url(doctor), data={"date": iso(4), "start_time": "10:00", "end_time": "10:30"})
    first, second = news(db)
    assert first.sent_at is not None and second.sent_at is None
    assert second.payload["data"]["changes"].startswith("Olivia Desk published a time: ")


def test_one_a_worker_has_taken_is_left_alone(db, make, desk, doctor):
    now = utcnow()
    notifications.schedule_changed(doctor, "Olivia Desk did one thing.", now)
    db.session.commit()
    # a worker's claim counts an attempt (and leases the row): what it sends is what it read
    db.session.execute(update(OutboxMessage).values(attempts=1))
    db.session.commit()

    notifications.schedule_changed(doctor, "Olivia Desk did another.", now)
    db.session.commit()

    assert [m.payload["data"]["changes"] for m in news(db)] == [
        "Olivia Desk did one thing.",
        "Olivia Desk did another.",
    ]


def test_a_long_sitting_ends_its_list_with_a_pointer_to_the_page(db, doctor):
    now = utcnow()
    for number in range(60):
        notifications.schedule_changed(doctor, f"Olivia Desk made change number {number}.", now)
    db.session.commit()

    [email] = news(db)
    lines = email.payload["data"]["changes"].split("\n")
    assert len(email.payload["data"]["changes"]) <= notifications.MAX_SCHEDULE_CHANGES_CHARS
    assert lines[0] == "Olivia Desk made change number 0."
    assert lines[-1] == notifications.MORE_SCHEDULE_CHANGES
    assert len(lines) < 60


def test_the_doctors_own_changes_and_the_workers_tell_nobody(client, db, login_as, doctor):
    login_as(client, doctor.user)

    client.post("/doctor/availability", data={"date": iso(3), "start_time": "10:00",
                                              "end_time": "10:30"})  # fmt: skip
    client.post("/doctor/availability/weekly", data=week(7, 8, repeat="y"))
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_a_doctor_who_turned_it_off_is_not_told(client, db, login_as, desk, doctor):
    login_as(client, doctor.user)
    page = text_of(client.get("/doctor/emails"))
    assert "When the front desk changes my schedule" in page and "10 minutes" in page
    client.post("/doctor/emails", data={"booking_emails": "y", "reminder_emails": "y"})
    db.session.expire_all()
    assert not doctor.schedule_emails

    login_as(client, desk)
    client.post(url(doctor), data={"date": iso(3), "start_time": "10:00", "end_time": "10:30"})

    assert news(db) == []


def test_a_clinic_closure_is_not_a_change_to_one_doctors_hours(db, make, desk, doctor):
    make.slot(doctor=doctor, start_at=at(5, 9))

    closures.close(local_today() + timedelta(days=5), "Public holiday", actor=desk)
    db.session.commit()

    assert news(db) == []
