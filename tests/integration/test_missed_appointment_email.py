"""A patient marked as a no-show is told: what was recorded, how to book again, and where they
stand with the no-show rule."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import OutboxMessage, OutboxStatus
from app.services import email_recovery
from tests.integration.outbox_helpers import run_once


def hours_ago(hours: float) -> datetime:
    return (datetime.now(UTC) - timedelta(hours=hours)).replace(second=0, microsecond=0)


@pytest.fixture
def doctor(make):
    return make.doctor(user__full_name="Dr. Ada Byron")


@pytest.fixture
def patient(make):
    return make.patient(user__full_name="Grace Hopper", user__email="grace@example.com")


@pytest.fixture
def appointment(make, doctor, patient):
    return make.appointment(slot=make.slot(doctor=doctor, start_at=hours_ago(2)), patient=patient)


def missed_emails(db) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.idempotency_key.like("missed:%"))
    return list(db.session.scalars(query.order_by(OutboxMessage.id)))


def mark(client, appointment, status: str):
    response = client.post(f"/doctor/appointments/{appointment.id}/status", data={"status": status})
    assert response.status_code == 302
    return response


def test_a_no_show_tells_the_patient_how_near_the_rule_they_are(
    client, db, make, login_as, doctor, patient, appointment
):
    login_as(client, doctor.user)

    mark(client, appointment, "no_show")

    [message] = missed_emails(db)
    assert (message.payload["action"], message.payload["to"]) == (
        "MISSED_APPOINTMENT",
        "grace@example.com",
    )
    data = message.payload["data"]
    assert data["missed_note"] == (
        "You have missed 1 appointment in the last 180 days; at 3, new bookings are made by the "
        "front desk rather than online."
    )
    assert data["book_url"].endswith(f"/patient/doctors/{doctor.id}")
    assert (data["doctor_name"], data["appointment_id"]) == ("Dr. Ada Byron", appointment.id)

    mark(client, appointment, "no_show")  # recorded again: nothing new to tell
    assert len(missed_emails(db)) == 1


def test_the_one_that_reaches_the_limit_says_bookings_now_go_through_the_desk(
    client, db, make, login_as, doctor, patient, appointment
):
    for days in (10, 50):
        make.appointment(
            slot=make.slot(start_at=hours_ago(24 * days)), patient=patient, status="no_show"
        )
    login_as(client, doctor.user)

    mark(client, appointment, "no_show")

    assert missed_emails(db)[0].payload["data"]["missed_note"] == (
        "You have now missed 3 appointments in the last 180 days, so new bookings are made by "
        "the front desk: please call +1 555 0100."
    )


def test_without_the_rule_the_email_goes_without_a_note(
    app, client, db, login_as, doctor, appointment, monkeypatch
):
    monkeypatch.setitem(app.config, "NO_SHOW_LIMIT", 0)
    login_as(client, doctor.user)

    mark(client, appointment, "no_show")

    assert "missed_note" not in missed_emails(db)[0].payload["data"]


def test_a_mistake_corrected_before_the_email_went_withdraws_it(
    client, db, login_as, doctor, appointment
):
    login_as(client, doctor.user)
    mark(client, appointment, "no_show")

    mark(client, appointment, "completed")

    assert missed_emails(db) == []
    mark(client, appointment, "no_show")  # and marked again after all: a new email
    assert len(missed_emails(db)) == 1


def test_it_arrives_and_one_sent_already_stays_sent(
    client, db, login_as, doctor, appointment, runner, email_service, mailbox
):
    login_as(client, doctor.user)
    mark(client, appointment, "no_show")

    run_once(runner)
    [message] = mailbox.to("grace@example.com")
    assert message["X-HMS-Action"] == "MISSED_APPOINTMENT"
    text = message.get_body(("plain",)).get_content()
    assert "We missed you" in message["Subject"]
    assert "at 3, new bookings are made by the front desk" in " ".join(text.split())

    mark(client, appointment, "completed")  # too late to withdraw: it is kept as sent
    assert [m.status for m in missed_emails(db)] == [OutboxStatus.SENT]


def test_given_up_on_it_goes_later_only_while_the_visit_stays_a_no_show(
    client, db, login_as, doctor, appointment
):
    login_as(client, doctor.user)
    mark(client, appointment, "no_show")
    [message] = missed_emails(db)
    message.status = OutboxStatus.DEAD  # the email service was down for longer than the retries
    db.session.commit()

    assert email_recovery.describe([message])[0].too_late is None  # long started, still true

    mark(client, appointment, "completed")  # corrected: a given-up email is not withdrawn, but
    [kept] = missed_emails(db)
    assert email_recovery.describe([kept])[0].too_late == (  # it must not go now
        "the appointment has changed since; it no longer says what is true."
    )
