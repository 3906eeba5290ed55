"""A doctor's notes of a visit: written from its start, read by that doctor alone.

Not the patient, not the front desk, not another doctor; never in an email, a calendar, the CSV
export or the audit trail."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import Appointment, AuditEvent, OutboxMessage
from app.services import visits
from tests.helpers import text_of

NOTE = "BP 150/95.\nStart amlodipine 5 mg; review in 4 weeks."


def hours_from_now(hours: float) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)


@pytest.fixture
def doctor(make):
    return make.doctor(user__full_name="Dr. Ada Lovelace")


@pytest.fixture
def patient(make):
    return make.patient(user__full_name="Grace Hopper")


@pytest.fixture
def seen(make, doctor, patient):
    """Grace's visit to Dr. Lovelace, an hour ago."""
    slot = make.slot(doctor=doctor, start_at=hours_from_now(-1))
    return make.appointment(slot=slot, patient=patient, notes="Headaches")


def url(appointment) -> str:
    return f"/doctor/appointments/{appointment.id}/visit-notes"


def test_the_doctor_writes_notes_and_finds_them_on_the_record(
    client, db, login_as, doctor, patient, seen
):
    login_as(client, doctor.user)

    page = client.get(url(seen))
    assert page.status_code == 200
    assert 'The patient wrote:</span> <span class="keep-lines">Headaches</span>' in text_of(page)
    response = client.post(url(seen), data={"notes": f"  {NOTE}  "})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/doctor/patients/{patient.id}"
    db.session.expire_all()
    assert db.session.get(Appointment, seen.id).visit_notes == NOTE
    record = text_of(client.get(f"/doctor/patients/{patient.id}"))
    assert f'<span class="fw-semibold">Your visit notes:</span> {NOTE}</div>' in record
    assert f'href="{url(seen)}">Edit visit notes</a>' in record
    assert NOTE in text_of(client.get("/doctor/appointments?when=past"))
    day = seen.start_at.date().isoformat()
    assert NOTE in text_of(client.get(f"/doctor/day?date={day}"))
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "appointment.visit_notes")
    ).one()
    assert "amlodipine" not in str(event.details)


def test_saving_the_same_notes_again_is_not_a_change(db, doctor, seen):
    visits.write_notes(seen.id, NOTE, actor=doctor.user)
    visits.write_notes(seen.id, NOTE + "\n", actor=doctor.user)
    visits.write_notes(seen.id, "", actor=doctor.user)  # cleared
    db.session.commit()

    assert db.session.get(Appointment, seen.id).visit_notes is None
    kinds = db.session.scalars(select(AuditEvent.kind)).all()
    assert kinds == ["appointment.visit_notes"] * 2


def test_nobody_else_reads_them(client, db, make, login_as, doctor, patient, seen):
    visits.write_notes(seen.id, NOTE, actor=doctor.user)
    db.session.commit()

    login_as(client, patient.user)
    for page in ("/patient/", "/patient/appointments?when=past"):
        assert "amlodipine" not in text_of(client.get(page)), page
    login_as(client, make.admin())
    for page in ("/admin/appointments", "/admin/appointments.csv", "/admin/audit"):
        assert "amlodipine" not in text_of(client.get(page)), page
    other = make.doctor()
    login_as(client, other.user)
    assert client.get(url(seen)).status_code == 404
    assert client.post(url(seen), data={"notes": "mine"}).status_code == 404
    assert all(
        "amlodipine" not in str(m.payload) for m in db.session.scalars(select(OutboxMessage))
    )


@pytest.mark.parametrize(
    ("when", "status", "message"),
    [
        (48, "booked", "once the appointment has started"),
        (-3, "cancelled", "was cancelled"),
    ],
)
def test_before_the_start_or_once_cancelled_there_is_nothing_to_write(
    client, db, make, login_as, doctor, when, status, message
):
    appointment = make.appointment(
        slot=make.slot(doctor=doctor, start_at=hours_from_now(when)), status=status
    )
    login_as(client, doctor.user)

    assert f'href="{url(appointment)}"' not in text_of(client.get("/doctor/appointments"))
    page = client.get(url(appointment))
    posted = client.post(url(appointment), data={"notes": "x"})

    assert (page.status_code, posted.status_code) == (409, 409)
    assert message in text_of(page)
    assert db.session.get(Appointment, appointment.id).visit_notes is None


def test_a_no_show_may_have_notes(client, db, make, login_as, doctor):
    missed = make.appointment(
        slot=make.slot(doctor=doctor, start_at=hours_from_now(-5)), status="no_show"
    )
    login_as(client, doctor.user)

    assert client.post(url(missed), data={"notes": "Phoned, no answer."}).status_code == 302


@pytest.mark.parametrize(
    ("notes", "message"),
    [("x" * 4001, "longer than 4000 characters"), ("a\x00b", "remove the special characters")],
)
def test_bad_notes_are_400_next_to_the_field(client, db, login_as, doctor, seen, notes, message):
    login_as(client, doctor.user)

    response = client.post(url(seen), data={"notes": notes})

    assert response.status_code == 400
    assert message in text_of(response).lower()
    assert 'id="notes-error"' in text_of(response)
    assert db.session.get(Appointment, seen.id).visit_notes is None
