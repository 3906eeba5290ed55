"""What a doctor asks of the patient after a visit: written by that doctor from the visit's
start, read by the patient on their appointment's page, and announced by an email that says only
that they are there (held a while, so that a correction is not a second email)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.models import Appointment, AuditEvent, OutboxMessage, OutboxStatus
from app.services import email_recovery, visits
from app.timeutil import utcnow
from tests.helpers import text_of
from tests.integration.outbox_helpers import messages, run_once

TEXT = "Take amlodipine 5 mg each morning.\nBook a blood test before your review in 4 weeks."
DELAY = timedelta(minutes=10)


def hours_from_now(hours: float) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)


@pytest.fixture
def doctor(make):
    return make.doctor(user__full_name="Dr. Ada Lovelace")


@pytest.fixture
def patient(make):
    return make.patient(user__full_name="Grace Hopper", user__email="grace@example.com")


@pytest.fixture
def seen(make, doctor, patient):
    """Grace's visit to Dr. Lovelace, an hour ago."""
    slot = make.slot(doctor=doctor, start_at=hours_from_now(-1))
    return make.appointment(slot=slot, patient=patient, notes="Headaches")


def url(appointment) -> str:
    return f"/doctor/appointments/{appointment.id}/instructions"


def told(db) -> list[OutboxMessage]:
    return [m for m in messages(db) if m.payload["action"] == "VISIT_INSTRUCTIONS"]


def test_the_doctor_writes_them_and_the_patient_reads_them(
    client, db, login_as, doctor, patient, seen
):
    login_as(client, doctor.user)
    assert client.get(url(seen)).status_code == 200
    before = utcnow()

    response = client.post(url(seen), data={"notes": f"  {TEXT}  "})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/doctor/patients/{patient.id}"
    record = text_of(client.get(response.headers["Location"]))
    assert "Grace Hopper is emailed that they are there to read." in record
    assert f'<span class="keep-lines">{TEXT}</span>' in record
    assert f'href="{url(seen)}">Edit instructions</a>' in record
    db.session.expire_all()
    stored = db.session.get(Appointment, seen.id)
    assert stored.patient_instructions == TEXT
    assert before <= stored.instructions_at <= utcnow()
    assert stored.visit_notes is None  # the doctor's own notes are another thing

    login_as(client, patient.user)
    listing = text_of(client.get("/patient/appointments?when=past"))
    assert f'href="/patient/appointments/{seen.id}#instructions-heading"' in listing
    page = client.get(f"/patient/appointments/{seen.id}")
    assert page.status_code == 200
    assert "Instructions from Dr. Ada Lovelace" in text_of(page)
    assert TEXT in text_of(page)
    export = client.get("/patient/account/data.json").get_json()
    [exported] = export["appointments"]
    assert exported["instructions"] == TEXT
    assert exported["instructions_at"] == stored.instructions_at.isoformat()


def test_the_email_says_they_are_there_not_what_they_say(
    client, db, login_as, doctor, seen, email_service, mailbox
):
    login_as(client, doctor.user)
    before = utcnow()
    client.post(url(seen), data={"notes": TEXT})

    [email] = told(db)
    assert before + DELAY <= email.next_attempt_at <= utcnow() + DELAY  # held, for corrections
    assert email.payload["to"] == "grace@example.com"
    data = email.payload["data"]
    assert data["read_url"].endswith(f"/patient/appointments/{seen.id}")
    assert "amlodipine" not in str(email.payload)
    runner = client.application.test_cli_runner()
    assert "nothing was due" in run_once(runner)

    db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(1)))
    db.session.commit()
    assert "1 sent" in run_once(runner)
    [message] = mailbox.to("grace@example.com")
    assert message["Subject"] == "Dr. Ada Lovelace left you instructions after your visit"
    body = message.get_body(("plain",)).get_content()
    assert data["read_url"] in body
    assert "amlodipine" not in body


def test_a_correction_while_the_email_waits_is_no_second_email(db, doctor, seen):
    visits.write_instructions(seen.id, TEXT, actor=doctor.user)
    db.session.commit()
    visits.write_instructions(seen.id, TEXT + " Fast from midnight.", actor=doctor.user)
    db.session.commit()

    assert len(told(db)) == 1
    kinds = db.session.scalars(select(AuditEvent.kind)).all()
    assert kinds == ["appointment.instructions"] * 2
    assert all("amlodipine" not in str(e.details) for e in db.session.scalars(select(AuditEvent)))


def test_a_change_after_the_email_went_is_news_again(db, doctor, seen):
    visits.write_instructions(seen.id, TEXT, actor=doctor.user)
    db.session.commit()
    db.session.execute(update(OutboxMessage).values(status=OutboxStatus.SENT, sent_at=utcnow()))
    db.session.commit()

    visits.write_instructions(seen.id, "Also: no driving today.", actor=doctor.user)
    db.session.commit()

    assert [m.status for m in told(db)] == [OutboxStatus.SENT, OutboxStatus.PENDING]


def test_removing_them_before_the_email_goes_sends_nothing(client, db, login_as, doctor, seen):
    login_as(client, doctor.user)
    client.post(url(seen), data={"notes": TEXT})

    response = client.post(url(seen), data={"notes": ""})

    assert response.status_code == 302
    assert "Your instructions to Grace Hopper are removed." in text_of(client.get("/doctor/"))
    assert told(db) == []
    stored = db.session.get(Appointment, seen.id)
    assert (stored.patient_instructions, stored.instructions_at) == (None, None)
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.details.get("removed") for e in events] == [False, True]


def test_saving_the_same_text_again_is_not_a_change(db, doctor, seen):
    visits.write_instructions(seen.id, TEXT, actor=doctor.user)
    db.session.commit()
    written = db.session.get(Appointment, seen.id).instructions_at

    visits.write_instructions(seen.id, TEXT + "\n", actor=doctor.user, now=utcnow() + DELAY)
    db.session.commit()

    assert db.session.get(Appointment, seen.id).instructions_at == written
    assert len(db.session.scalars(select(AuditEvent)).all()) == 1


def test_a_closed_account_is_not_emailed(client, db, login_as, doctor, patient, seen):
    patient.user.active = False
    db.session.commit()
    login_as(client, doctor.user)

    client.post(url(seen), data={"notes": TEXT})

    assert "account is closed: nobody is emailed" in text_of(client.get("/doctor/"))
    assert db.session.get(Appointment, seen.id).patient_instructions == TEXT
    assert told(db) == []


def test_nobody_else_reads_or_writes_them(client, db, make, login_as, doctor, patient, seen):
    visits.write_instructions(seen.id, TEXT, actor=doctor.user)
    db.session.commit()

    other_patient = make.patient()
    login_as(client, other_patient.user)
    assert client.get(f"/patient/appointments/{seen.id}").status_code == 404
    login_as(client, make.admin())
    for page in ("/admin/appointments", "/admin/appointments.csv", "/admin/audit"):
        assert "amlodipine" not in text_of(client.get(page)), page
    assert client.get(url(seen)).status_code == 403
    other = make.doctor()
    login_as(client, other.user)
    assert client.get(url(seen)).status_code == 404
    assert client.post(url(seen), data={"notes": "mine"}).status_code == 404
    assert db.session.get(Appointment, seen.id).patient_instructions == TEXT


@pytest.mark.parametrize(
    ("when", "status", "message"),
    [
        (48, "booked", "Instructions for the patient can be written once the appointment"),
        (-3, "cancelled", "was cancelled"),
    ],
)
def test_before_the_start_or_once_cancelled_there_is_nothing_to_write(
    client, db, make, login_as, doctor, patient, when, status, message
):
    appointment = make.appointment(
        slot=make.slot(doctor=doctor, start_at=hours_from_now(when)), patient=patient, status=status
    )
    login_as(client, doctor.user)

    assert f'href="{url(appointment)}"' not in text_of(client.get("/doctor/appointments"))
    page = client.get(url(appointment))
    posted = client.post(url(appointment), data={"notes": "x"})

    assert (page.status_code, posted.status_code) == (409, 409)
    assert message in text_of(page)
    assert db.session.get(Appointment, appointment.id).patient_instructions is None
    assert told(db) == []
    login_as(client, patient.user)
    shown = text_of(client.get(f"/patient/appointments/{appointment.id}"))
    expected = "appears here" if status == "booked" else "This appointment was cancelled."
    assert expected in shown


@pytest.mark.parametrize(
    ("text", "message"),
    [("x" * 4001, "longer than 4000 characters"), ("a\x00b", "remove the special characters")],
)
def test_bad_instructions_are_400_next_to_the_field(
    client, db, login_as, doctor, seen, text, message
):
    login_as(client, doctor.user)

    response = client.post(url(seen), data={"notes": text})

    assert response.status_code == 400
    assert message in text_of(response).lower()
    assert 'id="notes-error"' in text_of(response)
    assert db.session.get(Appointment, seen.id).patient_instructions is None


def test_an_email_given_up_on_goes_again_only_while_they_are_there(db, make, doctor, seen):
    visits.write_instructions(seen.id, TEXT, actor=doctor.user)
    db.session.commit()
    db.session.execute(update(OutboxMessage).values(status=OutboxStatus.DEAD, attempts=8))
    db.session.commit()

    [given_up] = email_recovery.describe(told(db))
    assert (given_up.what, given_up.too_late) == ("Instructions after a visit", None)

    visits.write_instructions(seen.id, "", actor=doctor.user)
    db.session.commit()
    [given_up] = email_recovery.describe(told(db))  # a given-up email is kept, not deleted
    assert given_up.too_late == "the doctor has removed the instructions since."


def test_a_visit_without_instructions_says_so(client, db, login_as, patient, seen):
    login_as(client, patient.user)

    page = text_of(client.get(f"/patient/appointments/{seen.id}"))

    assert "Your doctor has left no instructions for this visit." in page
    assert "Headaches" in page
    assert "#instructions-heading" not in text_of(client.get("/patient/appointments?when=past"))
