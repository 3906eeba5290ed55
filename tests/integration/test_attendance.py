"""Patients confirm they will come: from the reminder's link without signing in, from their own
pages, or by telling the front desk; the desk and the doctor see who has and who has not."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import current_app
from sqlalchemy import select

from app.extensions import db as _db
from app.models import Appointment, AuditEvent, OutboxMessage
from app.services import attendance, booking, reminders, reschedule
from email_service.actions import parse_request
from email_service.rendering import build_message
from tests.helpers import text_of
from tests.integration.outbox_helpers import messages
from tests.integration.races import run_together

NOW = datetime(2030, 3, 5, 9, 40, tzinfo=UTC)  # the suite's clinic is UTC
TOMORROW_8 = datetime(2030, 3, 6, 8, 0, tzinfo=UTC)  # inside the reminder's 24 hours


@pytest.fixture(autouse=True)
def _morning():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def doctor(make):
    return make.doctor(user__full_name="Dr. Ada Lovelace", specialization="Cardiology")


@pytest.fixture
def grace(make):
    return make.patient(user__full_name="Grace Hopper", user__phone="+44 20 7946 0000")


@pytest.fixture
def visit(make, doctor, grace):
    """Grace's appointment with Dr. Lovelace tomorrow at 08:00."""
    return make.appointment(slot=make.slot(doctor=doctor, start_at=TOMORROW_8), patient=grace)


def reminder_link(db, appointment, now: datetime = NOW) -> str:
    """The path of the link in the patient's reminder, as the worker queues it."""
    reminders.queue_due(now)
    db.session.commit()
    key = f"reminder:{appointment.id}:{appointment.start_at.isoformat()}:patient"
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
    url = message.payload["data"]["attend_url"]
    base = current_app.config["PUBLIC_BASE_URL"]
    assert url.startswith(f"{base}/attendance/")
    return url.removeprefix(base)


def confirmations(db) -> list[AuditEvent]:
    kind = "appointment.attendance_confirmed"
    return db.session.scalars(select(AuditEvent).where(AuditEvent.kind == kind)).all()


def test_the_reminder_link_confirms_without_signing_in_and_only_by_its_button(
    client, db, visit, grace
):
    link = reminder_link(db, visit)
    doctors = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.idempotency_key.like("reminder:%:doctor"))
    ).all()
    assert [m.payload["data"].get("attend_url") for m in doctors] == [None]  # patients only

    page = client.get(link)

    assert page.status_code == 200
    body = text_of(page)
    for shown in (
        "Grace Hopper",
        "Dr. Ada Lovelace (Cardiology)",
        "Wednesday 06 March 2030, 08:00",
    ):
        assert shown in body
    assert "Yes, I will be there</button>" in body
    assert 'href="/patient/appointments">Sign in to cancel or move it' in body
    db.session.expire_all()
    assert db.session.get(Appointment, visit.id).attendance_confirmed_at is None  # GET: nothing

    answer = client.post(link)

    assert answer.status_code == 302
    assert answer.headers["Location"] == link
    db.session.expire_all()
    assert db.session.get(Appointment, visit.id).attendance_confirmed_at == NOW
    [event] = confirmations(db)
    assert (event.actor_id, event.details) == (grace.user_id, {"via": "email link"})
    again = text_of(client.get(link))
    assert "The clinic knows you will come." in again
    assert "You told us on Tue 05 Mar 2030, 09:40 that you will come." in again
    assert "Yes, I will be there</button>" not in again

    assert client.post(link).status_code == 302  # the email opened twice: still one answer
    assert len(confirmations(db)) == 1


def test_a_link_for_a_moved_appointment_does_not_confirm_its_new_time(
    client, db, make, doctor, grace, visit
):
    link = reminder_link(db, visit)
    assert client.post(link).status_code == 302
    week_later = make.slot(doctor=doctor, start_at=TOMORROW_8 + timedelta(days=7))
    reschedule.reschedule(visit.id, week_later.id, actor=grace.user)
    db.session.commit()
    assert db.session.get(Appointment, visit.id).attendance_confirmed_at is None  # asked anew

    for response in (client.get(link), client.post(link)):
        assert response.status_code == 409
        assert "before it moved" in text_of(response)
    db.session.expire_all()
    assert db.session.get(Appointment, visit.id).attendance_confirmed_at is None
    the_day_before = NOW + timedelta(days=7)
    with time_machine.travel(the_day_before, tick=False):
        new_link = reminder_link(db, visit, the_day_before)  # the new time's own link
        assert new_link != link
        assert client.post(new_link).status_code == 302


def test_booking_or_moving_to_a_time_within_the_reminders_reach_says_they_will_come(
    client, db, make, doctor, grace
):
    """Nobody is asked about a visit they chose minutes ago: neither in their list nor by the
    reminder's link (the reminder itself still goes)."""
    soon = make.slot(doctor=doctor, start_at=TOMORROW_8)
    later = make.slot(doctor=doctor, start_at=TOMORROW_8 + timedelta(days=7))
    near = booking.book(grace, soon.id, None, actor=grace.user)
    far = booking.book(grace, later.id, None, actor=grace.user)
    db.session.commit()
    assert (near.attendance_confirmed_at, far.attendance_confirmed_at) == (NOW, None)
    reminders.queue_due(NOW)
    db.session.commit()
    (reminder,) = [
        m
        for m in messages(db)
        if m.idempotency_key.startswith("reminder:") and m.idempotency_key.endswith(":patient")
    ]
    assert reminder.payload["action"] == "APPOINTMENT_REMINDER"
    assert "attend_url" not in reminder.payload["data"]

    other = make.slot(doctor=doctor, start_at=TOMORROW_8 + timedelta(hours=1))
    reschedule.reschedule(far.id, other.id, actor=grace.user)  # moved into the next day
    db.session.commit()
    assert db.session.get(Appointment, far.id).attendance_confirmed_at == NOW


def test_no_confirming_a_cancelled_appointment(client, db, visit, grace):
    link = reminder_link(db, visit)
    booking.cancel(visit.id, actor=grace.user)
    db.session.commit()

    response = client.post(link)

    assert response.status_code == 409
    assert "This appointment was cancelled, so there is nothing to confirm." in text_of(response)
    assert client.get(link).status_code == 409
    assert confirmations(db) == []


def test_a_started_appointment_cannot_be_confirmed(client, db, visit):
    link = reminder_link(db, visit)
    with time_machine.travel(TOMORROW_8 + timedelta(minutes=5), tick=False):
        response = client.post(link)
    assert response.status_code == 409
    assert "This appointment has already started." in text_of(response)
    assert confirmations(db) == []


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda token: token[:-3] + "AAA", "This link is not valid"),
        (lambda token: "not-a-link", "This link is not valid"),
    ],
)
def test_a_broken_link_answers_400_and_points_to_signing_in(client, db, visit, mangle, message):
    token = reminder_link(db, visit).rsplit("/", 1)[1]
    for response in (
        client.get(f"/attendance/{mangle(token)}"),
        client.post(f"/attendance/{mangle(token)}"),
    ):
        assert response.status_code == 400
        body = text_of(response)
        assert message in body
        assert 'href="/patient/appointments">Sign in to see your appointments' in body
    assert confirmations(db) == []


def test_a_link_expires_a_day_after_the_reminders_reach(client, db, app, visit):
    link = reminder_link(db, visit)
    hours = app.config["REMINDER_HOURS_BEFORE"] + 24
    with time_machine.travel(NOW + timedelta(hours=hours, seconds=1), tick=False):
        response = client.get(link)
    assert response.status_code == 400
    assert "This link has expired." in text_of(response)


def test_a_closed_account_cannot_confirm_from_a_link(client, db, visit, grace):
    link = reminder_link(db, visit)
    grace.user.active = False
    db.session.commit()
    response = client.post(link)
    assert response.status_code == 409
    assert "This account is closed." in text_of(response)


def test_the_patient_confirms_from_their_pages_once_the_reminder_asks(
    client, db, make, login_as, doctor, grace, visit
):
    weeks_away = make.appointment(
        slot=make.slot(doctor=doctor, start_at=TOMORROW_8 + timedelta(days=20)), patient=grace
    )
    login_as(client, grace.user)
    url = f"/booking/appointments/{visit.id}/attendance"
    dashboard = text_of(client.get("/patient/"))
    assert f'action="{url}"' in dashboard
    assert f'action="/booking/appointments/{weeks_away.id}/attendance"' not in dashboard
    assert f'action="{url}"' in text_of(client.get("/patient/appointments"))

    response = client.post(url, headers={"Referer": "http://localhost/patient/"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/patient/"
    db.session.expire_all()
    assert db.session.get(Appointment, visit.id).attendance_confirmed_at == NOW
    after = text_of(client.get("/patient/"))
    assert "You said you will come" in after
    assert f'action="{url}"' not in after
    [event] = confirmations(db)
    assert event.details == {"via": "patient"}


def test_the_desk_lists_tomorrows_unconfirmed_and_records_a_phone_call(
    client, db, make, login_as, doctor, visit
):
    said_yes = make.appointment(
        slot=make.slot(doctor=doctor, start_at=TOMORROW_8 + timedelta(hours=1)),
        patient=make.patient(user__full_name="Alan Turing"),
        attendance_confirmed_at=NOW,
    )
    make.appointment(  # the day after: not tomorrow's call
        slot=make.slot(doctor=doctor, start_at=TOMORROW_8 + timedelta(days=1)),
        patient=make.patient(user__full_name="Edsger Dijkstra"),
    )
    login_as(client, make.admin())
    day = "date_from=2030-03-06&date_to=2030-03-06"
    listing = f"/admin/appointments?{day}&status=unconfirmed&order=soonest"
    link = f'href="{listing.replace("&", "&amp;")}">Tomorrow'
    assert link in text_of(client.get("/admin/appointments"))
    before = text_of(client.get(listing))
    assert "1 appointment found." in before
    assert "Grace Hopper" in before
    assert "Alan Turing" not in before and "Edsger Dijkstra" not in before
    assert "Not confirmed yet" in before
    assert 'href="tel:+442079460000">+44 20 7946 0000</a>' in before  # whom to call
    url = f"/booking/appointments/{visit.id}/attendance"
    assert f'action="{url}"' in before

    assert client.post(url, headers={"Referer": f"http://localhost{listing}"}).status_code == 302

    assert "0 appointments found." in text_of(client.get(listing))  # nobody left to call
    everyone = text_of(client.get(f"/admin/appointments?{day}"))
    assert everyone.count("Said they will come") == 2  # Grace now, and Alan before
    assert "Not confirmed yet" not in everyone
    assert f'action="{url}"' not in everyone
    assert f'action="/booking/appointments/{said_yes.id}/attendance"' not in everyone
    [event] = confirmations(db)
    assert event.details == {"via": "told the clinic"}
    login_as(client, doctor.user)
    sheet = text_of(client.get("/doctor/day?date=2030-03-06"))
    assert "Said they will come" in sheet
    assert f'action="{url}"' not in sheet


def test_the_doctor_records_a_confirmation_from_the_day_sheet(client, db, login_as, doctor, visit):
    login_as(client, doctor.user)
    url = f"/booking/appointments/{visit.id}/attendance"
    assert f'action="{url}"' in text_of(client.get("/doctor/day?date=2030-03-06"))
    assert client.post(url).status_code == 302
    assert "Said they will come" in text_of(client.get("/doctor/day?date=2030-03-06"))


def test_the_signed_in_route_refuses_a_cancelled_appointment(client, db, login_as, grace, visit):
    booking.cancel(visit.id, actor=grace.user)
    db.session.commit()
    login_as(client, grace.user)
    response = client.post(f"/booking/appointments/{visit.id}/attendance")
    assert response.status_code == 409
    assert confirmations(db) == []


def test_the_reminder_email_offers_the_link_as_a_button(db, visit):
    """The email service renders the new optional field (its own tests check the protocol)."""
    reminders.queue_due(NOW)
    db.session.commit()
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.idempotency_key.like("reminder:%:patient"))
    )
    request = parse_request({"id": message.idempotency_key, **message.payload})
    email = build_message(request, mail_from="clinic@example.com")
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    url = message.payload["data"]["attend_url"]
    assert f"Will you come? Tell us with one click: {url}" in text
    assert re.search(rf'<a href="{re.escape(url)}"[^>]*>Yes, I will be there</a>', html)


@pytest.mark.postgres
def test_the_email_opened_in_two_tabs_and_both_pressed_at_once_confirms_once(race_app, db, visit):
    token = reminder_link(db, visit).rsplit("/", 1)[1]

    def attempt(i: int, barrier) -> str:
        with race_app.test_request_context():
            shown = attendance.visit_for_token(token)  # as the page read it, and held
            try:
                barrier.wait()
                attendance.confirm_from_link(token)
                assert shown.appointment.attendance_confirmed_at is not None
                _db.session.commit()
                return "confirmed"
            finally:
                _db.session.remove()

    assert run_together(2, attempt) == ["confirmed", "confirmed"]  # both told it is done
    db.session.expire_all()
    assert len(confirmations(db)) == 1


def test_the_desk_is_asked_about_all_of_tomorrow_patients_only_within_the_reminders_reach(
    client, db, make, login_as, doctor, grace
):
    """At 09:40 the desk calls tomorrow's patients, the evening ones too (34 hours off), though
    their reminder has not gone yet; the patient is not asked before their reminder."""
    evening = make.appointment(
        slot=make.slot(doctor=doctor, start_at=datetime(2030, 3, 6, 19, 30, tzinfo=UTC)),
        patient=grace,
    )
    after = make.appointment(
        slot=make.slot(doctor=doctor, start_at=datetime(2030, 3, 7, 8, 0, tzinfo=UTC)),
        patient=grace,
    )
    button = f'action="/booking/appointments/{evening.id}/attendance"'
    later_button = f'action="/booking/appointments/{after.id}/attendance"'
    login_as(client, make.admin())
    desk = text_of(client.get("/admin/appointments?order=soonest"))
    assert button in desk and later_button not in desk
    assert desk.count("Not confirmed yet") == 1
    login_as(client, doctor.user)
    sheet = text_of(client.get("/doctor/day?date=2030-03-06"))
    assert button in sheet
    login_as(client, grace.user)
    mine = text_of(client.get("/patient/appointments"))
    assert button not in mine and later_button not in mine
