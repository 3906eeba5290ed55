"""A doctor's email settings: which emails about their appointments they want."""

import re
import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.models import Appointment, AuditEvent, OutboxKind, OutboxMessage
from app.services import day_agendas, delivery, email_recovery, reminders
from tests.helpers import count_queries, days_from_now, text_of
from tests.integration.races import run_together


@pytest.fixture
def doctor(make):
    return make.doctor(user__email="dr.busy@example.com")


@pytest.fixture
def patient(make):
    return make.patient(user__email="pat@example.com")


def emails(db) -> list[tuple[str, str]]:
    """(action, to) of every email queued, in order."""
    db.session.expire_all()
    query = select(OutboxMessage.payload).where(OutboxMessage.kind == OutboxKind.EMAIL)
    return [(p["action"], p["to"]) for p in db.session.scalars(query.order_by(OutboxMessage.id))]


def box(page: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)


def test_both_are_on_until_the_doctor_turns_them_off(client, db, login_as, doctor):
    login_as(client, doctor.user)
    page = text_of(client.get("/doctor/emails"))
    assert "checked" in box(page, "booking_emails") and "checked" in box(page, "reminder_emails")
    assert 'href="/doctor/emails"' in text_of(client.get("/doctor/profile"))

    response = client.post("/doctor/emails", data={"reminder_emails": "y", "schedule_emails": "y"})

    assert response.status_code == 302
    assert "Your email settings have been saved." in text_of(client.get("/doctor/emails"))
    db.session.expire_all()
    assert (doctor.booking_emails, doctor.reminder_emails) == (False, True)
    page = text_of(client.get("/doctor/emails"))
    assert "checked" not in box(page, "booking_emails") and "checked" in box(
        page, "reminder_emails"
    )
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "profile.updated")).one()
    assert (event.actor_id, event.details["fields"]) == (doctor.user.id, ["booking_emails"])


def test_without_booking_emails_only_the_patient_hears_of_bookings_cancels_and_moves(
    client, db, make, login_as, doctor, patient
):
    doctor.booking_emails = False
    db.session.commit()
    first, later = (make.slot(doctor=doctor, start_at=days_from_now(d)) for d in (5, 6))
    login_as(client, patient.user)

    assert client.post(f"/booking/slots/{first.id}").status_code == 302
    appointment = db.session.scalar(select(Appointment))
    moved = client.post(
        f"/booking/appointments/{appointment.id}/reschedule", data={"slot_id": str(later.id)}
    )
    assert moved.status_code == 302
    assert client.post(f"/booking/appointments/{appointment.id}/cancel").status_code == 302

    assert emails(db) == [
        ("BOOKING_CONFIRMATION", "pat@example.com"),
        ("BOOKING_RESCHEDULED", "pat@example.com"),
        ("BOOKING_CANCELLED", "pat@example.com"),
    ]


def test_with_them_on_the_doctor_hears_of_each(client, db, make, login_as, doctor, patient):
    slot = make.slot(doctor=doctor, start_at=days_from_now(5))
    login_as(client, patient.user)

    client.post(f"/booking/slots/{slot.id}")

    assert emails(db) == [
        ("BOOKING_CONFIRMATION", "pat@example.com"),
        ("BOOKING_CONFIRMATION", "dr.busy@example.com"),
    ]


@pytest.mark.parametrize("doctor_wants", [True, False])
def test_reminders_go_to_the_doctor_only_when_they_want_them(
    db, make, doctor, patient, doctor_wants
):
    doctor.reminder_emails = doctor_wants
    db.session.commit()
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    make.appointment(slot=make.slot(doctor=doctor, start_at=soon), patient=patient)

    assert reminders.queue_due() == 1
    db.session.commit()

    expected = [("APPOINTMENT_REMINDER", "pat@example.com")]
    if doctor_wants:
        expected.append(("APPOINTMENT_REMINDER", "dr.busy@example.com"))
    assert emails(db) == expected


# The day's agenda. The clinic's zone is UTC in the tests; AGENDA_EMAIL_HOUR is 7.


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


@pytest.fixture
def day() -> date:
    return datetime.now(UTC).date() + timedelta(days=3)  # any day: the scan is given its clock


@pytest.fixture
def agenda_doctor(db, doctor):
    doctor.agenda_emails = True
    db.session.commit()
    return doctor


def agendas(db) -> list[dict]:
    db.session.expire_all()
    query = select(OutboxMessage.payload).where(OutboxMessage.idempotency_key.like("agenda:%"))
    return list(db.session.scalars(query.order_by(OutboxMessage.id)))


def test_the_days_agenda_goes_once_from_the_hour_with_every_appointment_in_order(
    db, make, agenda_doctor, day
):
    ada = make.patient(user__full_name="Ada Byron")
    alan = make.patient(user__full_name="Alan Turing")
    make.appointment(  # Alan has been seen by this doctor: not a first visit
        slot=make.slot(doctor=agenda_doctor, start_at=at(day, 9) - timedelta(days=40)),
        patient=alan,
        status="completed",
    )
    for hour, patient, status in ((11, alan, "booked"), (9, ada, "booked"), (10, ada, "cancelled")):
        make.appointment(
            slot=make.slot(doctor=agenda_doctor, start_at=at(day, hour)),
            patient=patient,
            status=status,
        )
    make.appointment(slot=make.slot(doctor=agenda_doctor, start_at=at(day + timedelta(1), 9)))

    assert day_agendas.queue_due(at(day, 6, 59)) == 0  # before AGENDA_EMAIL_HOUR
    assert day_agendas.queue_due(at(day, 7)) == 1
    db.session.commit()
    assert day_agendas.queue_due(at(day, 7, 1)) == 0  # once a day
    db.session.commit()

    [payload] = agendas(db)
    assert (payload["action"], payload["to"]) == ("DAILY_AGENDA", "dr.busy@example.com")
    data = payload["data"]
    assert data["agenda"] == "09:00–09:30  Ada Byron (first visit)\n11:00–11:30  Alan Turing"
    assert data["count_display"] == "2 appointments"
    assert data["date_display"] == day.strftime("%A %d %B %Y")
    assert data["manage_url"].endswith(f"/doctor/day?date={day.isoformat()}")
    db.session.expire_all()
    assert agenda_doctor.agenda_sent_on == day

    assert day_agendas.queue_due(at(day + timedelta(days=1), 8)) == 1  # the next day's
    db.session.commit()
    assert len(agendas(db)) == 2


def test_no_agenda_for_a_free_day_for_doctors_who_did_not_ask_or_are_switched_off(
    db, make, agenda_doctor, day
):
    quiet = make.doctor()  # never asked
    make.appointment(slot=make.slot(doctor=quiet, start_at=at(day, 9)))
    gone = make.doctor(agenda_emails=True)
    make.appointment(slot=make.slot(doctor=gone, start_at=at(day, 9)))
    gone.user.active = False
    db.session.commit()

    assert day_agendas.queue_due(at(day, 9)) == 0

    db.session.commit()
    assert agendas(db) == []
    db.session.expire_all()
    assert agenda_doctor.agenda_sent_on == day  # looked at: not read again every minute today


def test_a_long_day_says_what_it_left_out(db, make, agenda_doctor, day, monkeypatch):
    monkeypatch.setattr(day_agendas, "MAX_AGENDA_CHARS", 100)
    for n in range(6):
        make.appointment(
            slot=make.slot(doctor=agenda_doctor, start_at=at(day, 8) + timedelta(minutes=30 * n)),
            patient=make.patient(user__full_name=f"Patient Number {n}"),
        )

    day_agendas.queue_due(at(day, 7))
    db.session.commit()

    lines = agendas(db)[0]["data"]["agenda"].split("\n")
    assert lines[0] == "08:00–08:30  Patient Number 0 (first visit)"
    assert lines[-1] == f"… and {6 - (len(lines) - 1)} more: see your day sheet."
    assert len(lines) - 1 < 6
    assert agendas(db)[0]["data"]["count_display"] == "6 appointments"


def test_the_doctor_turns_it_on_and_the_worker_sends_it(
    client, db, make, login_as, doctor, runner, email_service, mailbox, monkeypatch
):
    login_as(client, doctor.user)
    page = text_of(client.get("/doctor/emails"))
    assert "checked" not in box(page, "agenda_emails")  # off until asked for
    assert "From 07:00, UTC time" in page
    client.post(
        "/doctor/emails", data={"booking_emails": "y", "reminder_emails": "y", "agenda_emails": "y"}
    )
    today = datetime.now(UTC).date()
    monkeypatch.setitem(client.application.config, "AGENDA_EMAIL_HOUR", 0)  # whatever the hour
    make.appointment(slot=make.slot(doctor=doctor, start_at=at(today, 0)))  # the day's first

    # the worker's round queues it (with its reminder scan), then sends what is due
    runner.invoke(args=["outbox", "run", "--once"])

    [message] = mailbox.to("dr.busy@example.com")
    assert message["X-HMS-Action"] == "DAILY_AGENDA"
    assert message["Subject"] == f"Your day, {today:%A %d %B %Y}: 1 appointment"
    assert "00:00–00:30" in message.get_body(("plain",)).get_content()
    again = runner.invoke(args=["reminders", "agendas"]).output
    assert again == "Queued the day's appointments for 0 doctors.\n"  # today's has gone


def test_an_agenda_given_up_on_is_not_sent_late(db, make, agenda_doctor, day):
    make.appointment(slot=make.slot(doctor=agenda_doctor, start_at=at(day, 9)))
    day_agendas.queue_due(at(day, 7))
    db.session.commit()
    message = db.session.scalar(select(OutboxMessage))

    [given_up] = email_recovery.describe([message])

    assert given_up.too_late == "it was news of the moment."
    assert given_up.what == "A doctor's day of appointments"


@pytest.mark.postgres
def test_two_workers_at_once_queue_each_doctors_agenda_once(race_app, db, make, day):
    doctors = [make.doctor(agenda_emails=True) for _ in range(4)]
    for doctor in doctors:
        make.appointment(slot=make.slot(doctor=doctor, start_at=at(day, 9)))

    def attempt(i: int, barrier: threading.Barrier) -> int:
        with race_app.app_context():
            try:
                barrier.wait()
                return delivery.queue_day_agendas(at(day, 7))
            finally:
                _db.session.remove()

    queued = run_together(2, attempt)

    assert sum(queued) == len(doctors)
    keys = sorted(p["to"] for p in agendas(db))
    assert keys == sorted(doctor.user.email for doctor in doctors)


def test_the_scan_reads_in_two_statements_however_many_doctors(db, make, day):
    for _ in range(3):
        doctor = make.doctor(agenda_emails=True)
        seen = make.patient()
        make.appointment(
            slot=make.slot(doctor=doctor, start_at=at(day, 8) - timedelta(days=20)),
            patient=seen,
            status="completed",
        )
        for hour, patient in ((9, seen), (10, make.patient())):
            make.appointment(slot=make.slot(doctor=doctor, start_at=at(day, hour)), patient=patient)

    with count_queries(db.engine) as statements:
        assert day_agendas.queue_due(at(day, 7)) == 3
    db.session.commit()

    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 2  # the doctors due, then all their appointments: no query per doctor
    for payload in agendas(db):  # each doctor's returning patient, then a first visit
        lines = payload["data"]["agenda"].split("\n")
        assert [line.endswith("(first visit)") for line in lines] == [False, True]
