"""Cancelling an appointment: who may, until when, and where they land afterwards."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import Appointment, AppointmentStatus, AuditEvent, OutboxMessage
from app.services import booking
from tests.helpers import text_of


def hours_from_now(hours: float) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)


@pytest.fixture
def doctor(make):
    return make.doctor(user__full_name="Dr. Ada Lovelace")


@pytest.fixture
def patient(make, client, login_as):
    patient = make.patient(user__full_name="Grace Hopper")
    login_as(client, patient.user)
    return patient


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


@pytest.mark.parametrize(
    ("role", "pages"),
    [
        ("patient", ["/patient/", "/patient/appointments"]),
        ("doctor", ["/doctor/", "/doctor/appointments"]),
        ("admin", ["/admin/appointments"]),
    ],
)
def test_every_cancel_button_asks_first_naming_the_time(
    client, make, login_as, doctor, role, pages
):
    """A cancel cannot be taken back (both parties are emailed, the time opens to others): each
    cancel form carries the question the browser asks (static/js/confirm.js), with the time."""
    patient = make.patient()
    appointment = make.appointment(
        slot=make.slot(doctor=doctor, start_at=hours_from_now(48)), patient=patient
    )
    cancel = f'action="/booking/appointments/{appointment.id}/cancel"'
    when = appointment.start_at.strftime("%d %b %Y, %H:%M")  # the clinic's zone is UTC here
    people = {"patient": patient.user, "doctor": doctor.user, "admin": make.admin()}
    login_as(client, people[role])
    for page in pages:
        html = client.get(page).get_data(as_text=True)
        form = html[html.index(cancel) :].split(">", 1)[0]
        assert 'data-confirm="Cancel the appointment on ' in form, page
        assert when in form, page
        assert 'src="/static/js/confirm.js"' in html


def test_the_confirming_script_is_served_by_the_app(client):
    """The Content-Security-Policy allows scripts from the app's own origin only."""
    response = client.get("/static/js/confirm.js")
    assert response.status_code == 200
    assert "window.confirm(" in response.get_data(as_text=True)
    assert "script-src 'self'" in client.get("/auth/login").headers["Content-Security-Policy"]
