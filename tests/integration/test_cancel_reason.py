"""A cancel may say why: the reason is kept, emailed to both sides and shown in their lists.

The audit trail records only that a reason was given: it may speak of the patient's health."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import Appointment, AuditEvent, OutboxMessage
from app.services import booking
from tests.helpers import text_of


def cancel_url(appointment) -> str:
    return f"/booking/appointments/{appointment.id}/cancel"


@pytest.fixture
def doctor(make):
    return make.doctor(user__full_name="Dr. Ada Lovelace")


@pytest.fixture
def patient(make):
    return make.patient(user__full_name="Grace Hopper", user__email="grace@example.com")


@pytest.fixture
def appointment(make, doctor, patient):
    start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    return make.appointment(slot=make.slot(doctor=doctor, start_at=start), patient=patient)


def payloads(db) -> list[dict]:
    return [m.payload for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_the_doctors_reason_is_kept_and_emailed_to_both(client, db, login_as, doctor, appointment):
    login_as(client, doctor.user)

    response = client.post(cancel_url(appointment), data={"reason": "  Called away,\n sorry  "})

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).cancel_reason == "Called away, sorry"
    sent = [p for p in payloads(db) if p["action"] == "BOOKING_CANCELLED"]
    assert {p["data"]["recipient_role"] for p in sent} == {"doctor", "patient"}
    assert {p["data"]["cancel_reason"] for p in sent} == {"Called away, sorry"}
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "appointment.cancelled")
    ).one()
    assert event.details["with_reason"] is True
    assert "Called away" not in str(event.details)


@pytest.mark.parametrize("reason", [None, "", "   \n "])
def test_without_a_reason_the_emails_have_none(client, db, login_as, patient, appointment, reason):
    login_as(client, patient.user)
    data = {} if reason is None else {"reason": reason}

    assert client.post(cancel_url(appointment), data=data).status_code == 302

    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).cancel_reason is None
    assert all("cancel_reason" not in p["data"] for p in payloads(db))
    event = db.session.scalars(select(AuditEvent)).one()
    assert event.details["with_reason"] is False


@pytest.mark.parametrize(
    ("reason", "message"),
    [("x" * 201, "longer than 200 characters"), ("nul\x00here", "remove the special characters")],
)
def test_a_reason_refused_cancels_nothing(
    client, db, login_as, doctor, appointment, reason, message
):
    login_as(client, doctor.user)

    response = client.post(cancel_url(appointment), data={"reason": reason})

    assert response.status_code == 400
    assert "Nothing was cancelled" in text_of(response)
    assert message in text_of(response).lower()
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == "booked"
    assert payloads(db) == []


def test_the_service_refuses_a_reason_too_long(db, doctor, appointment):
    with pytest.raises(booking.DomainError, match="200 characters"):
        booking.cancel(appointment.id, actor=doctor.user, reason="x" * 201)
    db.session.rollback()
    assert db.session.get(Appointment, appointment.id).status == "booked"


@pytest.mark.parametrize(
    ("canceller", "viewer", "page", "who"),
    [
        ("doctor", "patient", "/patient/appointments", "the doctor"),
        ("doctor", "doctor", "/doctor/appointments", "you"),
        ("patient", "doctor", "/doctor/appointments", "the patient"),
        ("patient", "patient", "/patient/appointments", "you"),
        ("admin", "patient", "/patient/appointments", "the clinic"),
        ("admin", "doctor", "/doctor/appointments", "the clinic"),
    ],
)
def test_both_lists_say_who_cancelled_and_why(
    client, db, make, login_as, doctor, patient, appointment, canceller, viewer, page, who
):
    people = {"doctor": doctor.user, "patient": patient.user, "admin": make.admin()}
    booking.cancel(appointment.id, actor=people[canceller], reason="Called away")
    db.session.commit()
    login_as(client, people[viewer])

    html = text_of(client.get(page + "?when=upcoming"))

    assert f"by {who}: <q>Called away</q>" in html


def test_the_admin_list_shows_the_reason(client, db, make, login_as, appointment):
    admin = make.admin()
    booking.cancel(appointment.id, actor=admin, reason="Room flooded")
    db.session.commit()
    login_as(client, admin)

    assert "Reason: <q>Room flooded</q>" in text_of(client.get("/admin/appointments"))


@pytest.mark.parametrize(
    ("role", "page"),
    [
        ("patient", "/patient/appointments"),
        ("doctor", "/doctor/appointments"),
        ("doctor", "/doctor/"),
        ("admin", "/admin/appointments"),
    ],
)
def test_every_cancel_form_asks_for_a_reason(
    client, make, login_as, doctor, patient, appointment, role, page
):
    """The form carries the dialog's texts and an empty `reason` the dialog fills in
    (static/js/confirm.js); without JavaScript it cancels with no reason, as before."""
    people = {"patient": patient.user, "doctor": doctor.user, "admin": make.admin()}
    login_as(client, people[role])

    html = client.get(page).get_data(as_text=True)

    form = html[html.index(f'action="{cancel_url(appointment)}"') :].split("</form>", 1)[0]
    assert 'data-reason="Reason, for the email to both of you (optional)"' in form
    assert 'data-reason-max="200"' in form
    assert '<input type="hidden" name="reason" value="">' in form
