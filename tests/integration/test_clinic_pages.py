"""Rescheduling, the waitlist and visit outcomes through HTTP, as patients and doctors use them."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    DoctorProfile,
    OutboxKind,
    OutboxMessage,
    PatientProfile,
    WaitlistEntry,
)
from app.services import booking
from app.services.reschedule import reschedule
from app.timeutil import to_local, utcnow
from tests.helpers import days_from_now, text_of
from tests.integration.calendar_flow import EVENTS_PATH, book, deliver, messages, slot_start
from tests.integration.google_fakes import calls, connect_google, ok

HOUR = timedelta(hours=1)


@pytest.fixture
def booked(make):
    """A patient's appointment two days ahead, and two other open slots of the same doctor."""
    doctor = make.doctor(user__full_name="Dr. Lena Fischer")
    start = (utcnow() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    slots = [make.slot(doctor=doctor, start_at=start + i * HOUR) for i in range(3)]
    patient = make.patient()
    appointment = booking.book(patient, slots[0].id, actor=patient.user)
    _db.session.commit()
    return appointment, doctor, patient, slots


def test_appointments_pages_offer_to_move(client, login_as, booked):
    appointment, _, patient, _ = booked
    login_as(client, patient.user)
    url = f"/booking/appointments/{appointment.id}/reschedule"
    assert url in text_of(client.get("/patient/appointments"))
    assert url in text_of(client.get("/patient/"))


def test_reschedule_page_lists_the_doctors_open_slots(client, login_as, booked):
    appointment, _, patient, slots = booked
    login_as(client, patient.user)

    page = client.get(f"/booking/appointments/{appointment.id}/reschedule")

    assert page.status_code == 200
    html = text_of(page)
    assert f'value="{slots[1].id}"' in html and f'value="{slots[2].id}"' in html
    assert f'value="{slots[0].id}"' not in html  # its own slot is taken (by itself)


def test_patient_moves_an_appointment(client, db, login_as, booked):
    appointment, _, patient, slots = booked
    login_as(client, patient.user)

    response = client.post(
        f"/booking/appointments/{appointment.id}/reschedule", data={"slot_id": slots[2].id}
    )

    assert response.status_code == 302
    moved = db.session.get(Appointment, appointment.id)
    assert (moved.slot_id, moved.start_at) == (slots[2].id, slots[2].start_at)
    actions = db.session.scalars(select(OutboxMessage.payload)).all()
    assert sum(p.get("action") == "BOOKING_RESCHEDULED" for p in actions) == 2


def test_moving_to_a_taken_slot_answers_409_with_the_reason(client, db, make, login_as, booked):
    appointment, _, patient, slots = booked
    other = make.patient()
    booking.book(other, slots[1].id, actor=other.user)
    db.session.commit()
    login_as(client, patient.user)

    response = client.post(
        f"/booking/appointments/{appointment.id}/reschedule", data={"slot_id": slots[1].id}
    )

    assert response.status_code == 409
    assert "just taken" in text_of(response)
    assert db.session.get(Appointment, appointment.id).slot_id == slots[0].id


@pytest.mark.parametrize("value", ["", "abc", "-3", "99999999999999999999"])
def test_a_bad_slot_choice_answers_400(client, login_as, booked, value):
    appointment, _, patient, _ = booked
    login_as(client, patient.user)
    response = client.post(
        f"/booking/appointments/{appointment.id}/reschedule", data={"slot_id": value}
    )
    assert response.status_code == 400


def test_inside_the_cutoff_the_patient_is_told_to_call(app, client, db, make, login_as):
    patient = make.patient()
    soon = make.slot(start_at=utcnow() + timedelta(minutes=90))
    appointment = make.appointment(slot=soon, patient=patient)
    login_as(client, patient.user)
    url = f"/booking/appointments/{appointment.id}/reschedule"

    page = client.get(url)

    assert page.status_code == 409
    assert app.config["CLINIC_PHONE"] in text_of(page)
    assert url not in text_of(client.get("/patient/appointments"))  # not offered


def test_who_may_move_an_appointment(client, make, login_as, booked):
    appointment, doctor, _, slots = booked
    url = f"/booking/appointments/{appointment.id}/reschedule"
    login_as(client, doctor.user)
    assert client.get(url).status_code == 403
    login_as(client, make.patient().user)
    assert client.get(url).status_code == 404
    assert client.post(url, data={"slot_id": slots[1].id}).status_code == 404
    login_as(client, make.admin())
    assert client.post(url, data={"slot_id": slots[1].id}).status_code == 302


def test_the_front_desk_moves_an_appointment_from_its_list(client, db, make, login_as, booked):
    """A patient phones to move: the desk's list offers "Move" on upcoming booked ones only."""
    appointment, doctor, patient, slots = booked
    past = make.appointment(
        slot=make.slot(doctor=doctor, start_at=utcnow() - timedelta(days=1)), status="completed"
    )
    login_as(client, make.admin())
    url = f"/booking/appointments/{appointment.id}/reschedule"

    listing = text_of(client.get("/admin/appointments"))
    assert f'href="{url}">Move</a>' in listing
    assert f"/booking/appointments/{past.id}/reschedule" not in listing
    page = text_of(client.get(url))
    assert "Move the appointment</h1>" in page
    assert 'href="/admin/appointments">Back to the appointments' in page
    response = client.post(url, data={"slot_id": slots[1].id}, follow_redirects=True)

    assert response.request.path == "/admin/appointments"
    assert "The appointment has been moved. The patient and the doctor are emailed." in text_of(
        response
    )
    assert db.session.get(Appointment, appointment.id).slot_id == slots[1].id


def test_a_reschedule_patches_the_calendar_event_in_place(gctx, make):
    doctor = make.doctor()
    patient = make.patient()
    first = make.slot(doctor=doctor, start_at=slot_start(), end_at=slot_start() + HOUR / 2)
    later = make.slot(doctor=doctor, start_at=slot_start(2), end_at=slot_start(2) + HOUR / 2)
    connect_google(patient.user, sub="sub-p", access="patient-access")
    appointment_id = book(gctx, patient, first)
    [create] = messages(OutboxKind.CALENDAR_CREATE)
    event_id = calls(deliver(gctx, create, ok()))[0].body["id"]

    with gctx():
        mover = _db.session.get(PatientProfile, patient.id).user
        reschedule(appointment_id, later.id, actor=mover)
        _db.session.commit()

    [update] = messages(OutboxKind.CALENDAR_UPDATE)
    [patch] = calls(deliver(gctx, update, ok()))
    assert patch.method == "PATCH"
    assert patch.path == f"{EVENTS_PATH}/{event_id}"
    assert patch.headers["authorization"] == "Bearer patient-access"
    assert messages(OutboxKind.CALENDAR_DELETE) == []  # moved in place, not deleted


# --- waitlist ----------------------------------------------------------------------------------


def _day(slot) -> str:
    return to_local(slot.start_at).date().isoformat()


def test_doctor_page_offers_the_waitlist(client, make, login_as):
    doctor = make.doctor()
    login_as(client, make.patient().user)
    page = text_of(client.get(f"/patient/doctors/{doctor.id}"))
    assert f'action="/patient/doctors/{doctor.id}/waitlist"' in page
    assert 'name="date"' in page


def test_join_see_and_leave_the_waitlist(client, db, make, login_as):
    doctor, patient = make.doctor(user__full_name="Dr. Ada Byron"), make.patient()
    login_as(client, patient.user)
    day = (utcnow() + timedelta(days=5)).date().isoformat()

    joined = client.post(f"/patient/doctors/{doctor.id}/waitlist", data={"date": day})

    assert joined.status_code == 302
    entry = db.session.scalar(select(WaitlistEntry))
    assert (entry.patient_id, entry.doctor_id, entry.day.isoformat()) == (
        patient.id,
        doctor.id,
        day,
    )
    dashboard = text_of(client.get("/patient/"))
    assert "Your waitlist" in dashboard and "Dr. Ada Byron" in dashboard
    assert f"/patient/waitlist/{entry.id}/leave" in dashboard

    again = client.post(f"/patient/doctors/{doctor.id}/waitlist", data={"date": day})
    assert again.status_code == 409
    assert "already on the waitlist" in text_of(again)

    assert client.post(f"/patient/waitlist/{entry.id}/leave").status_code == 302
    assert db.session.scalar(select(func.count(WaitlistEntry.id))) == 0


def _entries(db) -> set[tuple[int, int, str]]:
    db.session.expire_all()
    entries = db.session.scalars(select(WaitlistEntry)).all()
    return {(e.patient_id, e.doctor_id, e.day.isoformat()) for e in entries}


def test_booking_the_day_waited_for_takes_the_patient_off_its_waitlist(client, db, make, login_as):
    """A place found (this one, or any that day): no more "a place opened" emails for that day
    or the days after it. An earlier day stays: something sooner may still come up."""
    doctor, other_doctor, patient = make.doctor(), make.doctor(), make.patient()
    slot = make.slot(doctor=doctor)
    day = to_local(slot.start_at).date()
    stays = [
        WaitlistEntry(patient=patient, doctor=doctor, day=day - timedelta(days=1)),
        WaitlistEntry(patient=patient, doctor=other_doctor, day=day),
        WaitlistEntry(patient=make.patient(), doctor=doctor, day=day),
    ]
    later = day + timedelta(days=1)
    goes = [
        WaitlistEntry(patient=patient, doctor=doctor, day=day),
        WaitlistEntry(patient=patient, doctor=doctor, day=later),
    ]
    db.session.add_all([*goes, *stays])
    db.session.commit()
    kept = {(e.patient_id, e.doctor_id, e.day.isoformat()) for e in stays}
    login_as(client, patient.user)

    assert client.post(f"/booking/slots/{slot.id}").status_code == 302

    assert _entries(db) == kept
    left = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "waitlist.left")).all()
    assert sorted(event.details["day"] for event in left) == [day.isoformat(), later.isoformat()]
    assert all(event.details["booked"] for event in left)


def test_moving_into_the_day_waited_for_takes_the_patient_off_its_waitlist(
    client, db, make, login_as, booked
):
    appointment, doctor, patient, slots = booked
    later = make.slot(doctor=doctor, start_at=slots[0].start_at + timedelta(days=3))
    day = to_local(later.start_at).date()
    db.session.add(WaitlistEntry(patient=patient, doctor=doctor, day=day))
    db.session.commit()
    login_as(client, patient.user)
    url = f"/booking/appointments/{appointment.id}/reschedule"

    assert client.post(url, data={"slot_id": slots[1].id}).status_code == 302  # the same day
    assert _entries(db) == {(patient.id, doctor.id, day.isoformat())}
    assert client.post(url, data={"slot_id": later.id}).status_code == 302

    assert _entries(db) == set()


@pytest.mark.parametrize(
    ("value", "status", "message"),
    [("", 400, "Choose a day"), ("31/12/2030", 400, "YYYY-MM-DD"), ("2001-01-01", 400, "passed")],
)
def test_waitlist_bad_dates(client, db, make, login_as, value, status, message):
    doctor = make.doctor()
    login_as(client, make.patient().user)
    response = client.post(f"/patient/doctors/{doctor.id}/waitlist", data={"date": value})
    assert response.status_code == status
    assert message in text_of(response)
    assert 'id="date-error"' in text_of(response)
    assert db.session.scalar(select(func.count(WaitlistEntry.id))) == 0


def test_a_patient_waits_for_any_day_of_a_stretch(client, db, make, login_as):
    """ "Any day this week": one request, a place on each day; the days already waited for stay
    as they were; booking one of them leaves only the days before it."""
    doctor, patient = make.doctor(), make.patient()
    first = (utcnow() + timedelta(days=3)).date()
    db.session.add(WaitlistEntry(patient=patient, doctor=doctor, day=first + timedelta(days=1)))
    db.session.commit()
    login_as(client, patient.user)
    form = {"date": first.isoformat(), "last_date": (first + timedelta(days=3)).isoformat()}

    response = client.post(f"/patient/doctors/{doctor.id}/waitlist", data=form)

    assert response.status_code == 302
    days = [(first + timedelta(days=n)).isoformat() for n in range(4)]
    assert _entries(db) == {(patient.id, doctor.id, day) for day in days}
    joined = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "waitlist.joined"))
    assert sorted(event.details["day"] for event in joined) == [days[0], days[2], days[3]]
    page = text_of(client.get(response.headers["Location"]))
    assert f"You are on the waitlist for every day from {first:%A %d %B} to " in page
    again = client.post(f"/patient/doctors/{doctor.id}/waitlist", data=form)
    assert again.status_code == 409
    assert "You are already on the waitlist for those days." in text_of(again)

    slot = make.slot(doctor=doctor, start_at=days_from_now(5))  # the third of those days
    assert client.post(f"/booking/slots/{slot.id}").status_code == 302
    assert _entries(db) == {(patient.id, doctor.id, day) for day in days[:2]}


@pytest.mark.parametrize(
    ("last", "message"),
    [(-1, "The last day must not be before the first."), (14, "At most 14 days at a time.")],
)
def test_a_stretch_backwards_or_too_long_is_refused(client, db, make, login_as, last, message):
    doctor = make.doctor()
    login_as(client, make.patient().user)
    first = (utcnow() + timedelta(days=3)).date()
    form = {"date": first.isoformat(), "last_date": (first + timedelta(days=last)).isoformat()}

    response = client.post(f"/patient/doctors/{doctor.id}/waitlist", data=form)

    assert response.status_code == 400
    assert message in text_of(response)
    assert 'id="last_date-error"' in text_of(response)
    assert db.session.scalar(select(func.count(WaitlistEntry.id))) == 0


def test_waitlist_for_an_unknown_doctor_or_someone_elses_entry_is_404(client, make, login_as):
    login_as(client, make.patient().user)
    day = (utcnow() + timedelta(days=5)).date().isoformat()
    assert client.post("/patient/doctors/987654/waitlist", data={"date": day}).status_code == 404
    other = make.patient()
    doctor = make.doctor()
    entry = WaitlistEntry(patient_id=other.id, doctor_id=doctor.id, day=utcnow().date())
    _db.session.add(entry)
    _db.session.commit()
    assert client.post(f"/patient/waitlist/{entry.id}/leave").status_code == 404


def test_cancelling_notifies_the_days_waitlist_over_http(client, db, make, login_as, booked):
    appointment, doctor, patient, slots = booked
    waiting = make.patient()
    login_as(client, waiting.user)
    client.post(f"/patient/doctors/{doctor.id}/waitlist", data={"date": _day(slots[0])})
    login_as(client, patient.user)

    client.post(f"/booking/appointments/{appointment.id}/cancel")

    payloads = db.session.scalars(select(OutboxMessage.payload)).all()
    notices = [p for p in payloads if p.get("action") == "WAITLIST_SLOT_OPEN"]
    assert [p["to"] for p in notices] == [waiting.user.email]


# --- visit outcomes ----------------------------------------------------------------------------


@pytest.fixture
def visit(make):
    """An appointment that started an hour ago."""
    slot = make.slot(start_at=utcnow() - HOUR)
    appointment = make.appointment(slot=slot)
    doctor_user = _db.session.get(DoctorProfile, appointment.doctor_id).user
    return appointment, doctor_user


def test_doctor_records_an_outcome_from_the_appointments_page(client, db, login_as, visit):
    appointment, doctor_user = visit
    login_as(client, doctor_user)
    url = f"/doctor/appointments/{appointment.id}/status"
    assert url in text_of(client.get("/doctor/appointments?when=past"))

    response = client.post(url, data={"status": "no_show"})

    assert response.status_code == 302
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.NO_SHOW


def test_only_the_other_outcome_is_offered_once_one_is_recorded(client, db, login_as, visit):
    appointment, doctor_user = visit
    login_as(client, doctor_user)

    def offered() -> list[str]:
        page = text_of(client.get("/doctor/appointments?when=past"))
        return re.findall(r'name="status" value="(\w+)"', page)

    assert offered() == ["completed", "no_show"]  # not recorded yet: both
    client.post(f"/doctor/appointments/{appointment.id}/status", data={"status": "no_show"})
    assert offered() == ["completed"]  # a mistake can still be corrected
    client.post(f"/doctor/appointments/{appointment.id}/status", data={"status": "completed"})
    assert offered() == ["no_show"]


def test_outcome_rules_over_http(client, db, make, login_as, visit):
    appointment, doctor_user = visit
    url = f"/doctor/appointments/{appointment.id}/status"
    login_as(client, doctor_user)
    assert client.post(url, data={"status": "vanished"}).status_code == 400
    assert client.post(url, data={}).status_code == 400
    future = make.appointment(doctor_id=appointment.doctor_id)
    early = client.post(f"/doctor/appointments/{future.id}/status", data={"status": "completed"})
    assert early.status_code == 409
    assert "once the appointment has started" in text_of(early)
    login_as(client, make.doctor().user)
    assert client.post(url, data={"status": "completed"}).status_code == 404
    login_as(client, make.patient().user)
    assert client.post(url, data={"status": "completed"}).status_code == 403
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.BOOKED


def _waiting(db, make, doctor, day):
    """Two patients waiting for `day` with `doctor`, and one for the day after."""
    people = [make.patient() for _ in range(3)]
    for patient, waits_for in zip(people, (day, day, day + timedelta(days=1)), strict=True):
        db.session.add(WaitlistEntry(patient=patient, doctor=doctor, day=waits_for))
    db.session.commit()
    return people


def _waitlist_notices(db) -> list[dict]:
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    return [m.payload for m in rows if m.payload["action"] == "WAITLIST_SLOT_OPEN"]


def test_a_slot_published_on_a_waited_for_day_tells_its_waitlist(client, db, make, login_as):
    doctor = make.doctor()
    day = (utcnow() + timedelta(days=4)).date()  # the suite's clinic runs on UTC
    first, second, other_day = _waiting(db, make, doctor, day)
    login_as(client, doctor.user)

    response = client.post(
        "/doctor/availability",
        data={"date": day.isoformat(), "start_time": "15:00", "end_time": "15:30"},
    )

    assert response.status_code == 302
    notices = _waitlist_notices(db)
    assert sorted(n["to"] for n in notices) == sorted([first.user.email, second.user.email])
    assert all(n["data"]["start_display"].endswith(", 15:00 (UTC)") for n in notices)


def test_a_weekly_template_tells_each_waitlist_once_a_day(client, db, make, login_as):
    doctor = make.doctor()
    day = (utcnow() + timedelta(days=4)).date()
    first, second, other_day = _waiting(db, make, doctor, day)
    login_as(client, doctor.user)

    client.post(
        "/doctor/availability/weekly",
        data={
            "start_date": day.isoformat(),
            "end_date": (day + timedelta(days=1)).isoformat(),
            "weekdays": [str(d) for d in range(7)],
            "day_start": "09:00",
            "day_end": "11:00",
            "slot_minutes": "30",
        },
    )

    notices = _waitlist_notices(db)  # 4 new slots a day: one notice per person waiting
    assert sorted(n["to"] for n in notices) == sorted(
        [first.user.email, second.user.email, other_day.user.email]
    )
    assert all(n["data"]["start_display"].endswith(", 09:00 (UTC)") for n in notices)  # the first
