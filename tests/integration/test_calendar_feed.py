"""The calendar subscription: a secret address any calendar application fetches a doctor's or a
patient's appointments from, with no session; replacing or turning it off ends the old one."""

from datetime import timedelta

import pytest
from icalendar import Calendar
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from app.extensions import db
from app.models import AppointmentStatus, AuditEvent
from app.services import calendar_feed, password_reset
from app.timeutil import utcnow
from tests.helpers import count_queries, text_of


def hours(offset: float):
    return (utcnow() + timedelta(hours=offset)).replace(second=0, microsecond=0)


@pytest.fixture
def clinic(make):
    """A doctor and a patient with appointments of every kind, and strangers with their own."""
    doctor = make.doctor(user__full_name="Dr. Amara Okafor", specialization="Cardiology")
    patient = make.patient(user__full_name="Noah Williams")

    def visit(start, status=AppointmentStatus.BOOKED, **kwargs):
        slot = make.slot(doctor=kwargs.pop("doctor", doctor), start_at=start)
        return make.appointment(
            slot=slot, patient=kwargs.pop("patient", patient), status=status, **kwargs
        )

    class Clinic:
        pass

    c = Clinic()
    c.doctor, c.patient = doctor, patient
    c.coming = visit(hours(48), notes="Bring previous ECG")
    c.last_week = visit(hours(-24 * 7), AppointmentStatus.COMPLETED)
    c.long_ago = visit(hours(-24 * 40), AppointmentStatus.COMPLETED)
    c.cancelled = visit(hours(72), AppointmentStatus.CANCELLED)
    c.others_patient = visit(hours(50), patient=make.patient(user__full_name="Ada Stranger"))
    c.strangers = visit(hours(52), doctor=make.doctor(), patient=make.patient())
    return c


def turn_on(client, login_as, user) -> str:
    """Sign in as `user`, make the address and return its path, as the page shows it."""
    login_as(client, user)
    assert client.post("/auth/calendar/feed").status_code == 302
    page = client.get("/auth/calendar")
    assert page.status_code == 200
    db.session.refresh(user)
    address = f"http://127.0.0.1:8000/calendar/{calendar_feed.token(user)}.ics"
    assert address in page.get_data(as_text=True)
    return address.removeprefix("http://127.0.0.1:8000")


def events(response) -> dict[str, object]:
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return {str(e["UID"]): e for e in Calendar.from_ical(response.data).walk("VEVENT")}


def uid(appointment) -> str:
    return f"appointment-{appointment.id}@127.0.0.1"


def test_a_patient_subscribes_to_their_own_appointments(app, client, login_as, clinic):
    path = turn_on(client, login_as, clinic.patient.user)

    calendar_app = app.test_client()  # a calendar application: no cookie, no session
    response = calendar_app.get(path)

    found = events(response)
    assert set(found) == {uid(clinic.coming), uid(clinic.last_week)}
    event = found[uid(clinic.coming)]
    assert str(event["SUMMARY"]) == "Appointment with Dr. Amara Okafor (Cardiology)"
    assert "Bring previous ECG" in str(event["DESCRIPTION"])
    assert event.decoded("DTSTART") == clinic.coming.start_at
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["X-WR-CALNAME"]) == "HMS Clinic appointments"
    assert calendar.decoded("REFRESH-INTERVAL") == timedelta(hours=1)
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_doctor_subscribes_to_theirs_with_the_patients_names(app, client, login_as, clinic):
    clinic.last_week.visit_notes = "Suspected arrhythmia"  # the doctor's own: never in a calendar
    db.session.commit()
    path = turn_on(client, login_as, clinic.doctor.user)

    response = app.test_client().get(path)

    found = events(response)
    assert b"arrhythmia" not in response.data

    assert set(found) == {uid(clinic.coming), uid(clinic.last_week), uid(clinic.others_patient)}
    assert str(found[uid(clinic.others_patient)]["SUMMARY"]) == (
        "Appointment with Ada Stranger (Cardiology)"
    )


def test_a_cancelled_appointment_leaves_the_feed(app, client, login_as, clinic):
    path = turn_on(client, login_as, clinic.patient.user)
    assert uid(clinic.coming) in events(app.test_client().get(path))

    response = client.post(f"/booking/appointments/{clinic.coming.id}/cancel")
    assert response.status_code == 302

    assert uid(clinic.coming) not in events(app.test_client().get(path))


def test_a_new_address_ends_the_old_one(app, client, login_as, clinic):
    old = turn_on(client, login_as, clinic.patient.user)
    new = turn_on(client, login_as, clinic.patient.user)

    assert new != old
    assert app.test_client().get(old).status_code == 404
    assert events(app.test_client().get(new))
    kinds = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind.like("calendar_feed.%")).order_by(AuditEvent.id)
    ).all()
    assert [(e.kind, e.details) for e in kinds] == [
        ("calendar_feed.created", {}),
        ("calendar_feed.created", {"replaced": True}),
    ]
    assert all(e.actor_id == clinic.patient.user.id for e in kinds)


def test_turning_it_off_ends_the_address(app, client, login_as, clinic):
    path = turn_on(client, login_as, clinic.patient.user)

    response = client.post("/auth/calendar/feed/off", follow_redirects=True)

    assert "subscription is off" in text_of(response)
    assert "Make my calendar address" in text_of(response)
    assert app.test_client().get(path).status_code == 404
    again = client.post("/auth/calendar/feed/off", follow_redirects=True)
    assert again.status_code == 200
    assert "already off" in text_of(again)
    # Turning it on again makes a new address: the old one does not come back.
    assert turn_on(client, login_as, clinic.patient.user) != path
    assert app.test_client().get(path).status_code == 404


def test_a_closed_account_has_no_feed(app, client, login_as, clinic):
    path = turn_on(client, login_as, clinic.patient.user)
    clinic.patient.user.active = False
    db.session.commit()

    assert app.test_client().get(path).status_code == 404


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda user: "not-a-token", id="junk"),
        pytest.param(lambda user: calendar_feed.token(user)[:-2] + "xx", id="tampered-signature"),
        pytest.param(
            lambda user: URLSafeSerializer("a guessed key", salt=calendar_feed.SALT).dumps(
                [user.id, user.calendar_feed_nonce]
            ),
            id="signed-with-another-key",
        ),
        pytest.param(
            lambda user: calendar_feed._serializer().dumps([user.id, "a guessed nonce"]),
            id="wrong-nonce",
        ),
        pytest.param(lambda user: calendar_feed._serializer().dumps([user.id]), id="wrong-shape"),
        pytest.param(lambda user: password_reset.make_token(user), id="a-reset-link"),
    ],
)
def test_anything_but_the_current_address_is_404(app, client, login_as, clinic, forge):
    turn_on(client, login_as, clinic.patient.user)
    db.session.refresh(clinic.patient.user)

    response = app.test_client().get(f"/calendar/{forge(clinic.patient.user)}.ics")

    assert response.status_code == 404


def test_an_admin_has_no_subscription(app, client, login_as, make):
    admin = make.admin()
    with app.test_request_context():
        admin.calendar_feed_nonce = "set-by-hand"
        db.session.commit()
        token = calendar_feed.token(admin)
    assert app.test_client().get(f"/calendar/{token}.ics").status_code == 404
    login_as(client, admin)
    assert client.get("/auth/calendar").status_code == 403


def test_the_dashboards_link_the_page(client, login_as, clinic):
    login_as(client, clinic.doctor.user)
    assert "Subscribe to your appointments" in text_of(client.get("/doctor/"))
    client.post("/auth/calendar/feed")
    assert "fetching your appointments" in text_of(client.get("/doctor/"))


def test_the_feed_sends_the_same_statements_however_many_appointments(
    app, client, db, login_as, make, clinic
):
    path = turn_on(client, login_as, clinic.doctor.user)
    calendar_app = app.test_client()

    with count_queries(db.engine) as few:
        assert len(events(calendar_app.get(path))) == 3
    for n in range(12):
        slot = make.slot(doctor=clinic.doctor, start_at=hours(100 + n))
        make.appointment(slot=slot, patient=make.patient())
    with count_queries(db.engine) as many:
        assert len(events(calendar_app.get(path))) == 15

    assert len(many) == len(few) <= 3
