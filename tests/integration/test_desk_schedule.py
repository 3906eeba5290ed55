"""The front desk keeps a doctor's schedule: the doctor's availability page, opened for them by an
admin, with the same rules, and the admin named in the audit trail."""

from datetime import UTC, datetime, time, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from app.models import Appointment, AuditEvent, AvailabilitySlot
from app.timeutil import local_today
from tests.helpers import count_queries
from tests.helpers import text_of as html_of
from tests.integration.outbox_helpers import messages


@pytest.fixture
def admin(make, client, login_as):
    admin = make.admin(full_name="Desk Person")
    login_as(client, admin)
    return admin


@pytest.fixture
def doctor(make):
    return make.doctor(user__full_name="Dr. Ada Lovelace", specialization="Neurology")


def text_of(response) -> str:
    return unescape(html_of(response))


def url(doctor, rest: str = "") -> str:
    return f"/admin/users/{doctor.user.id}/availability{rest}"


def at(days: int, hour: int) -> datetime:
    day = local_today() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=UTC)  # the suite's clinic is UTC


def iso(days: int) -> str:
    return (local_today() + timedelta(days=days)).isoformat()


def one_morning(days: int) -> dict:
    """The weekly template's form for one day, 09:00 to 10:00 in two slots."""
    day = iso(days)
    weekdays = [str(d) for d in range(7)]
    return {
        "start_date": day,
        "end_date": day,
        "weekdays": weekdays,
        "day_start": "09:00",
        "day_end": "10:00",
        "slot_minutes": "30",
    }


def starts(db, doctor) -> list[datetime]:
    db.session.expire_all()
    query = select(AvailabilitySlot.start_at).where(AvailabilitySlot.doctor_id == doctor.id)
    return sorted(db.session.scalars(query))


def audit(db) -> list[tuple[str, int | None]]:
    rows = db.session.execute(select(AuditEvent.kind, AuditEvent.actor_id).order_by(AuditEvent.id))
    return [tuple(row) for row in rows]


def test_the_desk_sees_the_doctors_schedule_and_posts_to_its_own_urls(client, doctor, make, admin):
    open_slot = make.slot(doctor=doctor, start_at=at(2, 9))
    make.appointment(
        slot=make.slot(doctor=doctor, start_at=at(2, 10)),
        patient__user__full_name="Grace Hopper",
    )
    make.slot(start_at=at(2, 11))  # another doctor's

    page = client.get(url(doctor))

    assert page.status_code == 200
    text = text_of(page)
    assert "Dr. Ada Lovelace's availability" in text
    assert "Dr. Ada Lovelace's slots" in text
    assert "Grace Hopper" in text
    assert "11:00" not in text
    html = page.get_data(as_text=True)
    for action in ("", "/weekly", "/clear", f"/{open_slot.id}/delete"):
        assert f'action="{url(doctor, action)}"' in html
    assert 'action="/doctor/' not in html
    assert "Your slots" not in text


def test_the_desk_publishes_a_slot_for_the_doctor_in_its_own_name(client, db, doctor, admin):
    response = client.post(
        url(doctor), data={"date": iso(3), "start_time": "10:00", "end_time": "10:30"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == url(doctor)
    assert starts(db, doctor) == [at(3, 10)]
    assert audit(db) == [("slot.created", admin.id)]
    assert "Slot published." in text_of(client.get(url(doctor)))


def test_the_desk_fills_a_weekly_template(client, db, doctor, admin):
    response = client.post(
        url(doctor, "/weekly"),
        data=one_morning(7),
    )

    assert response.status_code == 302
    assert starts(db, doctor) == [at(7, 9), at(7, 9) + timedelta(minutes=30)]
    assert audit(db) == [("slot.created_weekly", admin.id)]


def test_the_desk_clears_days_off_and_the_patients_hear_from_the_clinic(
    client, db, doctor, make, admin
):
    make.slot(doctor=doctor, start_at=at(3, 9))
    booked = make.appointment(
        slot=make.slot(doctor=doctor, start_at=at(3, 10)),
        patient__user__email="grace@example.com",
    )
    kept = make.slot(doctor=doctor, start_at=at(5, 9))

    response = client.post(
        url(doctor, "/clear"),
        data={"first_day": iso(3), "last_day": iso(4), "cancel_booked": "y", "reason": "Unwell"},
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Appointment, booked.id).status == "cancelled"
    assert starts(db, doctor) == [kept.start_at]
    told = [m.payload for m in messages(db) if m.payload["to"] == "grace@example.com"]
    assert [(m["action"], m["data"].get("cancelled_by")) for m in told] == [
        ("BOOKING_CANCELLED", "the clinic")
    ]
    assert told[0]["data"]["cancel_reason"] == "Unwell"
    assert audit(db) == [("appointment.cancelled", admin.id), ("slot.cleared", admin.id)]
    assert "Removed 2 open slots. Cancelled 1 booked appointment first" in text_of(
        client.get(url(doctor))
    )


def test_the_desk_deletes_an_open_slot_but_not_a_booked_one(client, db, doctor, make, admin):
    open_slot = make.slot(doctor=doctor, start_at=at(2, 9))
    booked = make.slot(doctor=doctor, start_at=at(2, 10))
    make.appointment(slot=booked)

    deleted = client.post(url(doctor, f"/{open_slot.id}/delete"))
    refused = client.post(url(doctor, f"/{booked.id}/delete"))

    assert deleted.status_code == 302
    assert deleted.headers["Location"] == url(doctor)
    assert refused.status_code == 409
    assert starts(db, doctor) == [booked.start_at]
    assert audit(db) == [("slot.deleted", admin.id)]


def test_another_doctors_slot_is_not_found_under_this_doctor(client, db, doctor, make, admin):
    theirs = make.slot(start_at=at(2, 9))

    response = client.post(url(doctor, f"/{theirs.id}/delete"))

    assert response.status_code == 404
    assert db.session.get(AvailabilitySlot, theirs.id) is not None


@pytest.mark.parametrize("who", ["patient", "admin", "missing"])
def test_only_a_doctors_account_has_a_schedule(client, make, admin, who):
    user_id = {"patient": make.patient().user.id, "admin": admin.id, "missing": 987654}[who]

    assert client.get(f"/admin/users/{user_id}/availability").status_code == 404


def test_bad_input_is_400_with_the_error_next_to_the_field(client, db, doctor, admin):
    response = client.post(
        url(doctor), data={"date": iso(3), "start_time": "10:00", "end_time": "09:00"}
    )

    assert response.status_code == 400
    page = text_of(response)
    assert "The end time must be after the start time." in page
    assert 'id="end_time-error"' in page
    assert "Dr. Ada Lovelace's availability" in page
    assert db.session.scalar(select(func.count(AvailabilitySlot.id))) == 0


def test_a_switched_off_doctor_gets_no_new_times_but_old_ones_can_go(client, db, make, admin):
    doctor = make.doctor(user__active=False, user__full_name="Dr. Gone")
    old = make.slot(doctor=doctor, start_at=at(2, 9))

    page = client.get(url(doctor))
    one = client.post(
        url(doctor), data={"date": iso(3), "start_time": "10:00", "end_time": "10:30"}
    )
    weekly = client.post(
        url(doctor, "/weekly"),
        data=one_morning(7),
    )
    removed = client.post(url(doctor, f"/{old.id}/delete"))

    assert "account is switched off" in text_of(page)
    assert one.status_code == weekly.status_code == 409
    assert "Dr. Gone's account is switched off: reactivate it before publishing times." in (
        text_of(one)
    )
    assert removed.status_code == 302
    assert starts(db, doctor) == []


def test_a_doctor_waiting_for_approval_can_have_times_ready(client, db, make, admin):
    doctor = make.doctor(approved_at=None)

    page = client.get(url(doctor))
    response = client.post(
        url(doctor), data={"date": iso(3), "start_time": "10:00", "end_time": "10:30"}
    )

    assert "is waiting for approval" in text_of(page)
    assert f"/admin/users/{doctor.user.id}/approve" in page.get_data(as_text=True)
    assert response.status_code == 302
    assert starts(db, doctor) == [at(3, 10)]


def test_the_users_list_offers_the_schedule_for_doctors_only(client, make, doctor, admin):
    patient = make.patient()

    html = client.get("/admin/users").get_data(as_text=True)

    assert f'href="/admin/users/{doctor.user.id}/availability"' in html
    assert f"/admin/users/{patient.user.id}/availability" not in html


def test_the_page_does_not_grow_with_the_slots(client, db, doctor, make, admin):
    page = url(doctor)

    def queries() -> int:
        with count_queries(db.engine) as statements:
            assert client.get(page).status_code == 200
        return len(statements)

    make.appointment(slot=make.slot(doctor=doctor, start_at=at(2, 9)))
    few = queries()
    for n in range(12):
        slot = make.slot(doctor=doctor, start_at=at(3 + n, 9))
        if n % 3 == 0:
            make.appointment(slot=slot)
    many = queries()

    assert few == many <= 8
