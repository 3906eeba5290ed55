"""Booking a slot and cancelling an appointment, through HTTP, with every refusal."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    OutboxMessage,
    Role,
)
from app.services import booking
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


def test_a_taken_slot_is_409_with_the_doctors_other_open_slots(client, db, patient, doctor, make):
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
        assert f'href="/booking/slots/{later.id}"' in body
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


# -- cancelling ------------------------------------------------------------------------------


@pytest.fixture
def appointment(make, patient, doctor):
    return make.appointment(
        slot=make.slot(doctor=doctor, start_at=hours_from_now(48)), patient=patient
    )


def test_patient_cancels_and_the_slot_opens_again(client, db, patient, appointment, make):
    response = client.post(
        f"/booking/appointments/{appointment.id}/cancel",
        headers={"Referer": "http://localhost/patient/appointments?when=upcoming"},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/patient/appointments?when=upcoming"
    db.session.expire_all()
    cancelled = db.session.get(Appointment, appointment.id)
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert cancelled.cancelled_by_id == patient.user_id
    assert "has been cancelled" in text_of(client.get("/patient/appointments"))
    other = make.patient()
    assert booking.book(other, appointment.slot_id, actor=other.user).status == "booked"


@pytest.mark.parametrize(
    "referrer",
    [
        "http://evil.example/patient/",
        "http://localhost//evil.example",
        "http://localhost/\\evil.example",
        "http://[broken",
        "not a url",
        None,
    ],
)
def test_cancel_returns_to_the_dashboard_when_the_referrer_is_not_ours(
    client, db, patient, appointment, referrer
):
    headers = {"Referer": referrer} if referrer else {}
    response = client.post(f"/booking/appointments/{appointment.id}/cancel", headers=headers)
    assert response.headers["Location"] == "/patient/"


@pytest.mark.parametrize("who", ["doctor", "admin"])
def test_doctor_and_admin_cancel_even_inside_the_patient_cutoff(
    client, db, make, login_as, doctor, who
):
    appointment = make.appointment(slot=make.slot(doctor=doctor, start_at=hours_from_now(1)))
    login_as(client, doctor.user if who == "doctor" else make.admin())

    response = client.post(f"/booking/appointments/{appointment.id}/cancel")

    assert response.status_code == 302
    assert response.headers["Location"] == ("/doctor/" if who == "doctor" else "/admin/")
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.CANCELLED


def test_patient_cannot_cancel_inside_the_cutoff(client, db, make, patient):
    appointment = make.appointment(slot=make.slot(start_at=hours_from_now(1.5)), patient=patient)

    assert f"/booking/appointments/{appointment.id}/cancel" not in text_of(client.get("/patient/"))
    response = client.post(f"/booking/appointments/{appointment.id}/cancel")

    assert response.status_code == 409
    assert "up to 2 hours before they start" in text_of(response)
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.BOOKED


@pytest.mark.parametrize(
    ("before_start", "allowed"),
    [(timedelta(hours=2), True), (timedelta(hours=2) - timedelta(seconds=1), False)],
)
def test_patient_cutoff_boundary(db, make, before_start, allowed):
    patient = make.patient()
    appointment = make.appointment(patient=patient)
    now = appointment.start_at - before_start

    if allowed:
        booking.cancel(appointment.id, actor=patient.user, now=now)
    else:
        with pytest.raises(booking.CancelRefused):
            booking.cancel(appointment.id, actor=patient.user, now=now)
    db.session.rollback()


def test_cancel_reads_the_locked_row_not_a_stale_copy(app, db, make):
    appointment = make.appointment()
    first_admin, second_admin = make.admin(), make.admin()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.BOOKED
    with app.app_context():  # another request, with its own session, cancels it meanwhile
        booking.cancel(appointment.id, actor=first_admin)
        db.session.commit()
        db.session.remove()

    # this session still holds the appointment as "booked"; the lock must read it afresh
    with pytest.raises(booking.CancelRefused, match="already cancelled"):
        booking.cancel(appointment.id, actor=second_admin)
    db.session.rollback()


@pytest.mark.parametrize(
    ("status", "hours", "message"),
    [
        ("cancelled", 48, "already cancelled"),
        ("booked", -1, "already started or taken place"),
        ("completed", -30, "already started or taken place"),
    ],
)
def test_refused_cancels_are_409(client, db, make, patient, status, hours, message):
    appointment = make.appointment(
        slot=make.slot(start_at=hours_from_now(hours)), patient=patient, status=status
    )

    response = client.post(f"/booking/appointments/{appointment.id}/cancel")

    assert response.status_code == 409
    assert message in text_of(response)


@pytest.mark.parametrize("who", ["other patient", "other doctor", "missing", "huge"])
def test_cancelling_what_is_not_yours_is_404(client, db, make, login_as, appointment, who):
    target = appointment.id
    if who == "other patient":
        login_as(client, make.patient().user)
    elif who == "other doctor":
        login_as(client, make.doctor().user)
    elif who == "missing":
        target = appointment.id + 1000
    else:
        target = "9" * 30

    response = client.post(f"/booking/appointments/{target}/cancel")

    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.BOOKED


def test_cancel_is_post_only(client, db, appointment):
    assert client.get(f"/booking/appointments/{appointment.id}/cancel").status_code == 405


def test_audit_and_emails_on_cancel(client, db, appointment):
    client.post(f"/booking/appointments/{appointment.id}/cancel")
    kinds = db.session.scalars(select(AuditEvent.kind)).all()
    assert "appointment.cancelled" in kinds
    actions = db.session.scalars(select(OutboxMessage.payload)).all()
    assert [a["action"] for a in actions] == ["BOOKING_CANCELLED", "BOOKING_CANCELLED"]


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
