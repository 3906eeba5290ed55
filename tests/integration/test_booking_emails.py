"""Booking and cancelling tell both parties by email, through the outbox and the email service."""

from sqlalchemy import select

from app.models import Appointment, OutboxStatus
from app.services import booking
from tests.integration.mail_fixtures import closed_url
from tests.integration.outbox_helpers import PASSWORD, make_due, messages, run_once, sign_up


def actions_to(mailbox, address: str) -> list[str]:
    return [m["X-HMS-Action"] for m in mailbox.to(address)]


def test_booking_then_cancelling_emails_patient_and_doctor_once_each(
    db, make, runner, email_service, mailbox
):
    patient = make.patient(user__email="patient@example.com")
    slot = make.slot(doctor=make.doctor(user__email="doctor@example.com"))

    booking.book(patient, slot.id, "Bring previous results", actor=patient.user)
    db.session.commit()
    assert "2 sent" in run_once(runner)

    assert actions_to(mailbox, "patient@example.com") == ["BOOKING_CONFIRMATION"]
    assert actions_to(mailbox, "doctor@example.com") == ["BOOKING_CONFIRMATION"]

    appointment = db.session.scalar(select(Appointment))
    booking.cancel(appointment.id, actor=patient.user)
    db.session.commit()
    assert "2 sent" in run_once(runner)

    expected = ["BOOKING_CONFIRMATION", "BOOKING_CANCELLED"]
    assert actions_to(mailbox, "patient@example.com") == expected
    assert actions_to(mailbox, "doctor@example.com") == expected


def test_through_the_app_and_through_an_outage_every_mail_arrives_exactly_once(
    app, client, db, make, runner, mailbox, monkeypatch, request
):
    """Sign up and book over HTTP with the service up; then book again with it down: the booking
    still succeeds, its mails wait, and once the service is back each arrives exactly once."""
    monkeypatch.setitem(app.config, "OUTBOX_DELIVER_AFTER_RESPONSE", True)
    doctor = make.doctor(user__email="doctor@example.com")
    first, second = make.slot(doctor=doctor), make.slot(doctor=doctor)
    request.getfixturevalue("email_service")  # the service is up
    sign_up(client, "pat@example.com").close()
    client.post("/auth/login", data={"email": "pat@example.com", "password": PASSWORD})
    client.post(f"/booking/slots/{first.id}", data={"notes": "first"}).close()
    run_once(runner)
    assert actions_to(mailbox, "pat@example.com") == ["SIGNUP_WELCOME", "BOOKING_CONFIRMATION"]
    assert actions_to(mailbox, "doctor@example.com") == ["BOOKING_CONFIRMATION"]

    monkeypatch.setitem(app.config, "EMAIL_SERVICE_URL", closed_url())  # the service goes down
    response = client.post(f"/booking/slots/{second.id}", data={"notes": "second"})
    response.close()
    assert response.status_code == 302  # the booking does not care
    waiting = [m for m in messages(db) if m.status != OutboxStatus.SENT]
    # the first quick attempt fails; the other mail goes straight back to the worker's queue
    assert [m.status for m in waiting] == [OutboxStatus.FAILED, OutboxStatus.PENDING]

    service = request.getfixturevalue("email_service")  # the same service, up again
    monkeypatch.setitem(app.config, "EMAIL_SERVICE_URL", service.url)
    make_due(db)
    run_once(runner)
    run_once(runner)
    assert {m.status for m in messages(db)} == {OutboxStatus.SENT}
    for message in messages(db):
        assert len(mailbox.with_key(message.idempotency_key)) == 1
    assert actions_to(mailbox, "pat@example.com") == [
        "SIGNUP_WELCOME",
        "BOOKING_CONFIRMATION",
        "BOOKING_CONFIRMATION",
    ]
