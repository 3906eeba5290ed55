"""The front desk books for a caller: same rules as a patient's own booking, the admin on record."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import Appointment, AuditEvent, WaitlistEntry
from app.timeutil import utcnow
from tests.helpers import text_of
from tests.integration.outbox_helpers import messages
from tests.integration.test_query_counts import queries_for


def start_in(days: int, hour: int) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


@pytest.fixture
def desk(client, make, login_as):
    admin = make.admin(full_name="Front Desk")
    login_as(client, admin)
    return admin


@pytest.fixture
def caller(make):
    return make.patient(user__full_name="Grace Hopper", user__email="grace@example.com")


@pytest.fixture
def cardiologist(make):
    return make.doctor(user__full_name="Dr. Ada Byron", specialization="Cardiology")


def page(client, caller, **args):
    return client.get(f"/admin/users/{caller.user.id}/book", query_string=args)


def book(client, caller, doctor, slot_id, notes=""):
    return client.post(
        f"/admin/users/{caller.user.id}/book?doctor={doctor.id}",
        data={"slot_id": str(slot_id), "notes": notes},
    )


def test_the_user_list_offers_booking_for_active_patients_only(client, desk, caller, make):
    gone = make.patient(user__active=False).user
    doctor = make.doctor().user

    html = client.get("/admin/users").get_data(as_text=True)

    assert f'href="/admin/users/{caller.user.id}/book"' in html
    assert f'href="/admin/users/{gone.id}/book"' not in html
    assert f'href="/admin/users/{doctor.id}/book"' not in html


def test_the_desk_finds_a_doctor_then_a_time(client, desk, caller, cardiologist, make):
    make.doctor(user__full_name="Dr. Skin Deep", specialization="Dermatology")
    soon, later = start_in(2, 9), start_in(3, 14)
    open_ids = [make.slot(doctor=cardiologist, start_at=t).id for t in (soon, later)]
    taken = make.appointment(slot=make.slot(doctor=cardiologist, start_at=start_in(2, 11)))

    search = page(client, caller, specialization="Cardiology")

    assert search.status_code == 200
    html = search.get_data(as_text=True)
    assert "Book for Grace Hopper" in html and "grace@example.com" in html
    assert f'href="/admin/users/{caller.user.id}/book?doctor={cardiologist.id}"' in html
    assert "Dr. Skin Deep" not in html

    times = page(client, caller, doctor=cardiologist.id)

    html = times.get_data(as_text=True)
    assert "Choose a time with Dr. Ada Byron" in html
    for slot_id in open_ids:
        assert f'value="{slot_id}"' in html
    assert f'value="{taken.slot_id}"' not in html
    assert soon.strftime("%A %d %B %Y") in text_of(times)


def test_the_desk_books_and_both_parties_are_told(client, desk, caller, cardiologist, make, db):
    slot = make.slot(doctor=cardiologist, start_at=start_in(2, 9))

    response = book(client, caller, cardiologist, slot.id, "Called in: chest pain since Monday.")

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/appointments?patient=grace@example.com"
    appointment = db.session.scalar(select(Appointment))
    assert (appointment.patient_id, appointment.slot_id) == (caller.id, slot.id)
    assert appointment.notes == "Called in: chest pain since Monday."
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "appointment.booked"))
    assert event.actor_id == desk.id
    sent = {(m.payload["action"], m.payload["to"]) for m in messages(db)}
    assert ("BOOKING_CONFIRMATION", "grace@example.com") in sent
    assert ("BOOKING_CONFIRMATION", cardiologist.user.email) in sent
    listing = text_of(client.get(response.headers["Location"]))
    assert "Booked Grace Hopper with Dr. Ada Byron" in listing


def test_a_taken_time_is_a_409_with_the_times_still_open(
    client, desk, caller, cardiologist, make, db
):
    taken = make.appointment(slot=make.slot(doctor=cardiologist, start_at=start_in(2, 9)))
    other = make.slot(doctor=cardiologist, start_at=start_in(2, 10))

    response = book(client, caller, cardiologist, taken.slot_id)

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "this slot was just taken" in text_of(response)
    assert f'value="{other.id}"' in html
    assert db.session.scalar(select(Appointment).where(Appointment.patient_id == caller.id)) is None


def test_the_booking_rules_hold_for_the_desk_too(client, desk, caller, cardiologist, make, db):
    make.appointment(patient=caller, slot=make.slot(start_at=start_in(2, 9)))  # elsewhere
    clash = make.slot(doctor=cardiologist, start_at=start_in(2, 9))
    too_soon = make.slot(doctor=cardiologist, start_at=datetime.now(UTC) + timedelta(minutes=20))

    overlapping = book(client, caller, cardiologist, clash.id)
    inside_notice = book(client, caller, cardiologist, too_soon.id)

    assert overlapping.status_code == inside_notice.status_code == 409
    assert "This patient already has an appointment at that time." in text_of(overlapping)
    assert "notice" in text_of(inside_notice)


def test_no_time_chosen_is_a_400_next_to_the_times(client, desk, caller, cardiologist, make):
    make.slot(doctor=cardiologist, start_at=start_in(2, 9))

    response = client.post(
        f"/admin/users/{caller.user.id}/book?doctor={cardiologist.id}", data={"notes": ""}
    )

    assert response.status_code == 400
    assert 'id="slot_id-error"' in response.get_data(as_text=True)
    assert "Choose a time." in text_of(response)


@pytest.mark.parametrize("who", ["doctor", "admin", "missing"])
def test_only_patients_can_be_booked_for(client, desk, make, who):
    user_id = {"doctor": lambda: make.doctor().user.id, "admin": lambda: desk.id}.get(
        who, lambda: 999_999
    )()

    assert client.get(f"/admin/users/{user_id}/book").status_code == 404


def test_a_deactivated_patient_cannot_be_booked_for(client, desk, make, cardiologist):
    gone = make.patient(user__active=False)
    slot = make.slot(doctor=cardiologist, start_at=start_in(2, 9))

    response = book(client, gone, cardiologist, slot.id)

    assert response.status_code == 409
    assert "reactivate it before booking" in text_of(response)


def test_an_unknown_doctor_is_a_404(client, desk, caller):
    assert page(client, caller, doctor=999_999).status_code == 404


def test_the_times_page_costs_the_same_for_few_or_many_slots(
    client, db, desk, caller, cardiologist, make
):
    url = f"/admin/users/{caller.user.id}/book?doctor={cardiologist.id}"
    make.slot(doctor=cardiologist, start_at=start_in(2, 9))
    few = queries_for(client, db, url)
    for n in range(30):
        make.slot(doctor=cardiologist, start_at=start_in(3 + n // 8, 8 + n % 8))

    assert queries_for(client, db, url) == few <= 6


def test_the_desk_reads_about_the_patient_not_about_itself(
    client, desk, caller, cardiologist, make
):
    slot = make.slot(doctor=cardiologist, start_at=start_in(2, 9))
    assert book(client, caller, cardiologist, slot.id).status_code == 302

    again = book(client, caller, cardiologist, slot.id)

    assert again.status_code == 409
    assert "This patient has already booked this slot." in text_of(again)
    assert "You have" not in text_of(again)


def test_a_move_by_the_desk_names_the_patient_in_a_clash(client, desk, caller, cardiologist, make):
    appointment = make.appointment(
        patient=caller, slot=make.slot(doctor=cardiologist, start_at=start_in(2, 9))
    )
    make.appointment(patient=caller, slot=make.slot(start_at=start_in(3, 9)))  # elsewhere
    clash = make.slot(doctor=cardiologist, start_at=start_in(3, 9))

    response = client.post(
        f"/booking/appointments/{appointment.id}/reschedule", data={"slot_id": str(clash.id)}
    )

    assert response.status_code == 409
    assert "The patient already has another appointment at that time." in text_of(response)


def test_the_desk_puts_a_caller_on_a_doctors_waitlist_for_a_stretch(client, db, make, login_as):
    """No time suits Alan: the desk adds him to Dr. Byron's waitlist for three days."""
    doctor = make.doctor(user__full_name="Dr. Ada Byron")
    alan = make.patient(user__full_name="Alan Turing")
    desk = make.desk()
    login_as(client, desk)
    page = client.get(f"/admin/users/{alan.user_id}/book?doctor={doctor.id}")
    assert "No time that suits Alan Turing?" in page.get_data(as_text=True)
    first = (utcnow() + timedelta(days=4)).date()
    form = {"date": first.isoformat(), "last_date": (first + timedelta(days=2)).isoformat()}

    response = client.post(f"/admin/users/{alan.user_id}/waitlist?doctor={doctor.id}", data=form)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/users/{alan.user_id}/book?doctor={doctor.id}"
    days = db.session.scalars(
        select(WaitlistEntry.day)
        .where(WaitlistEntry.patient_id == alan.id)
        .order_by(WaitlistEntry.day)
    ).all()
    assert days == [first + timedelta(days=n) for n in range(3)]
    joined = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "waitlist.joined"))
    assert {event.actor_id for event in joined} == {desk.id}
    assert "Alan Turing is on Dr. Ada Byron" in text_of(client.get(response.headers["Location"]))

    again = client.post(f"/admin/users/{alan.user_id}/waitlist?doctor={doctor.id}", data=form)
    assert again.status_code == 409
    assert "already on the waitlist for those days" in text_of(again)
    backwards = {"date": form["last_date"], "last_date": form["date"]}
    refused = client.post(
        f"/admin/users/{alan.user_id}/waitlist?doctor={doctor.id}", data=backwards
    )
    assert refused.status_code == 400
    assert 'id="last_date-error"' in text_of(refused)
