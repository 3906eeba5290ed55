"""Booking a slot and cancelling an appointment, through HTTP, with every refusal."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.models import (
    Appointment,
    AuditEvent,
    OutboxMessage,
    Role,
)
from app.services import booking
from app.timeutil import format_local
from tests.helpers import text_of


def hours_from_now(hours: float) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)


@pytest.fixture
def doctor(make):
    return make.doctor(user__full_name="Dr. Ada Lovelace", specialization="Cardiology")


@pytest.fixture
def patient(make, client, login_as):
    patient = make.patient(user__full_name="Grace Hopper")
    login_as(client, patient.user)
    return patient


def active_appointments(db) -> list[Appointment]:
    return list(db.session.scalars(select(Appointment).where(Appointment.status == "booked")))


# -- the confirm page and booking ---------------------------------------------------------


def test_confirm_page_shows_doctor_time_and_notes_field(client, db, patient, doctor, make):
    start = hours_from_now(24 * 10).replace(hour=10, minute=0)
    slot = make.slot(doctor=doctor, start_at=start)

    page = client.get(f"/booking/slots/{slot.id}")

    assert page.status_code == 200
    body = text_of(page)
    assert "Dr. Ada Lovelace" in body and "Cardiology" in body
    assert f"{start:%A %d %B %Y}, 10:00–10:30 (UTC)" in body
    assert 'name="notes"' in body and 'maxlength="1000"' in body


def test_patient_books_a_slot(client, db, patient, doctor, make):
    slot = make.slot(doctor=doctor)

    response = client.post(f"/booking/slots/{slot.id}", data={"notes": "  Recurring headaches "})

    assert response.status_code == 302
    assert response.headers["Location"] == "/patient/"
    (appointment,) = active_appointments(db)
    assert (appointment.slot_id, appointment.patient_id, appointment.doctor_id) == (
        slot.id,
        patient.id,
        doctor.id,
    )
    assert appointment.start_at == slot.start_at
    assert appointment.notes == "Recurring headaches"
    assert db.session.scalar(select(AuditEvent.kind).where(AuditEvent.target_type == "Appointment"))
    emails = db.session.scalars(select(OutboxMessage.payload)).all()
    assert sorted(e["to"] for e in emails) == sorted([patient.user.email, doctor.user.email])
    dashboard = text_of(client.get("/patient/"))
    assert "Your appointment is booked." in dashboard
    assert "Dr. Ada Lovelace" in dashboard


def test_notes_are_optional_and_bounded(client, db, patient, doctor, make):
    first, second, third = (make.slot(doctor=doctor) for _ in range(3))

    assert client.post(f"/booking/slots/{first.id}").status_code == 302
    assert client.post(f"/booking/slots/{second.id}", data={"notes": "x" * 1000}).status_code == 302
    too_long = client.post(f"/booking/slots/{third.id}", data={"notes": "x" * 1001})
    control = client.post(f"/booking/slots/{third.id}", data={"notes": "hi\x00"})

    assert too_long.status_code == 400
    assert "longer than 1000" in text_of(too_long)
    assert control.status_code == 400
    assert len(active_appointments(db)) == 2


def test_a_taken_slot_is_409_with_the_doctors_other_open_slots(
    client, db, patient, doctor, make, app, monkeypatch
):
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", "America/New_York")
    taken = make.slot(doctor=doctor, start_at=hours_from_now(30))
    make.appointment(slot=taken)
    later = make.slot(doctor=doctor, start_at=hours_from_now(50))
    booked_elsewhere = make.appointment(slot=make.slot(doctor=doctor, start_at=hours_from_now(60)))
    past = make.slot(doctor=doctor, start_at=hours_from_now(-5))
    someone_else = make.slot(start_at=hours_from_now(40))

    for response in (
        client.get(f"/booking/slots/{taken.id}"),
        client.post(f"/booking/slots/{taken.id}"),
    ):
        assert response.status_code == 409
        body = text_of(response)
        assert "this slot was just taken" in body
        later_link = f'href="/booking/slots/{later.id}">{format_local(later.start_at)}</a>'
        assert later_link in body  # with its date and time in clinic time
        for absent in (taken.id, booked_elsewhere.slot_id, past.id, someone_else.id):
            assert f'href="/booking/slots/{absent}"' not in body
        assert 'name="notes"' not in body  # no form to book what cannot be booked
    assert len(active_appointments(db)) == 2


def test_booking_the_same_slot_twice_says_it_is_already_yours(client, db, patient, make):
    slot = make.slot()
    assert client.post(f"/booking/slots/{slot.id}").status_code == 302

    for response in (
        client.post(f"/booking/slots/{slot.id}"),
        client.get(f"/booking/slots/{slot.id}"),
    ):
        assert response.status_code == 409
        body = text_of(response)
        assert "You have already booked this slot" in body
        assert "taken by someone else" not in body
    assert len(active_appointments(db)) == 1


def test_a_slot_that_no_longer_exists_is_409(client, db, patient):
    for response in (client.get("/booking/slots/4242"), client.post("/booking/slots/4242")):
        assert response.status_code == 409
        assert "no longer exists" in text_of(response)


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        (-1, "This slot is in the past."),
        (0.5, "at least 60 minutes"),
        (24 * 91, "Bookings open 90 days ahead"),
    ],
)
def test_slots_outside_the_booking_window_are_409_with_the_reason(
    client, db, patient, doctor, make, hours, message
):
    slot = make.slot(doctor=doctor, start_at=hours_from_now(hours))
    open_one = make.slot(doctor=doctor, start_at=hours_from_now(48))

    for response in (
        client.get(f"/booking/slots/{slot.id}"),
        client.post(f"/booking/slots/{slot.id}"),
    ):
        assert response.status_code == 409
        assert message in text_of(response)
        assert f'href="/booking/slots/{open_one.id}"' in text_of(response)
    assert active_appointments(db) == []


def test_a_patient_cannot_hold_two_overlapping_appointments(client, db, patient, make):
    start = hours_from_now(30)
    make.appointment(slot=make.slot(start_at=start), patient=patient)
    clash = make.slot(start_at=start + timedelta(minutes=15))

    response = client.post(f"/booking/slots/{clash.id}")

    assert response.status_code == 409
    assert "You already have an appointment at that time." in text_of(response)
    assert len(active_appointments(db)) == 1


def test_a_deactivated_doctors_slot_cannot_be_booked(client, db, patient, make):
    slot = make.slot(doctor__user__active=False)

    for response in (
        client.get(f"/booking/slots/{slot.id}"),
        client.post(f"/booking/slots/{slot.id}"),
    ):
        assert response.status_code == 409
        assert "not taking bookings" in text_of(response)
    assert active_appointments(db) == []


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.ADMIN])
def test_only_patients_book(client, db, make, login_as, role):
    slot = make.slot()
    login_as(client, make.user(role=role))

    assert client.get(f"/booking/slots/{slot.id}").status_code == 403
    assert client.post(f"/booking/slots/{slot.id}").status_code == 403
    assert active_appointments(db) == []


def test_booking_needs_a_signed_in_user(client, db, make):
    slot = make.slot()
    response = client.post(f"/booking/slots/{slot.id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


# -- the booking window at its boundaries (the service, with an injected clock) -------------


@pytest.mark.parametrize(
    ("before_start", "allowed"),
    [
        (timedelta(minutes=60), True),  # exactly the notice period
        (timedelta(minutes=59, seconds=59), False),
        (timedelta(0), False),  # starting now: the past
        (timedelta(days=90), True),  # exactly the horizon
        (timedelta(days=90, seconds=1), False),
    ],
)
def test_booking_window_boundaries(db, make, before_start, allowed):
    slot = make.slot()
    patient = make.patient()
    now = slot.start_at - before_start

    if allowed:
        assert booking.book(patient, slot.id, actor=patient.user, now=now).slot_id == slot.id
    else:
        with pytest.raises(booking.SlotUnavailable):
            booking.book(patient, slot.id, actor=patient.user, now=now)
    db.session.rollback()


def test_notice_period_through_http_with_the_clock_moved(client, db, doctor, make, login_as):
    slot = make.slot(doctor=doctor, start_at=datetime(2030, 5, 6, 9, tzinfo=UTC))
    patient = make.patient()
    # Sign in inside each travelled moment: a session cookie from another time is refused.
    with time_machine.travel(datetime(2030, 5, 6, 8, 1, tzinfo=UTC), tick=False):
        login_as(client, patient.user)
        response = client.post(f"/booking/slots/{slot.id}")
    assert response.status_code == 409
    assert "at least 60 minutes" in text_of(response)

    with time_machine.travel(datetime(2030, 5, 6, 8, 0, tzinfo=UTC), tick=False):
        login_as(client, patient.user)
        assert client.post(f"/booking/slots/{slot.id}").status_code == 302


# -- the whole journey ------------------------------------------------------------------------


def test_find_book_see_on_both_dashboards_cancel_and_rebook(app, client, db, make, login_as):
    doctor = make.doctor(user__full_name="Dr. Journey", specialization="Dermatology")
    slot = make.slot(doctor=doctor, start_at=hours_from_now(72))
    patient = make.patient(user__full_name="Pat Journey")
    login_as(client, patient.user)

    found = text_of(client.get("/patient/doctors?q=journey&specialization=Dermatology"))
    assert f'href="/patient/doctors/{doctor.id}"' in found
    detail = text_of(client.get(f"/patient/doctors/{doctor.id}"))
    assert f'href="/booking/slots/{slot.id}"' in detail
    assert client.post(f"/booking/slots/{slot.id}", data={"notes": "Rash"}).status_code == 302
    assert "Dr. Journey" in text_of(client.get("/patient/"))
    assert f'href="/booking/slots/{slot.id}"' not in text_of(
        client.get(f"/patient/doctors/{doctor.id}")
    )

    doctor_client = login_as(app.test_client(), doctor.user)
    doctor_page = text_of(doctor_client.get("/doctor/"))
    assert "Pat Journey" in doctor_page and "Rash" in doctor_page

    (appointment,) = active_appointments(db)
    assert client.post(f"/booking/appointments/{appointment.id}/cancel").status_code == 302
    assert "Dr. Journey" not in text_of(client.get("/patient/")).split("Upcoming appointments")[1]
    assert "Pat Journey" not in text_of(doctor_client.get("/doctor/"))
    assert f'href="/booking/slots/{slot.id}"' in text_of(
        client.get(f"/patient/doctors/{doctor.id}")
    )
    assert client.post(f"/booking/slots/{slot.id}").status_code == 302
    assert db.session.scalar(select(func.count(Appointment.id))) == 2
