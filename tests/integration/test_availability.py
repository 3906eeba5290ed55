"""A doctor's availability: one slot, weekly templates, deleting, the list, and DST."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, AvailabilitySlot
from app.timeutil import local_today
from tests.helpers import text_of


@pytest.fixture
def doctor(make, client, login_as):
    doctor = make.doctor(user__full_name="Dr. Ada Lovelace")
    login_as(client, doctor.user)
    return doctor


def day(offset: int) -> str:
    return (local_today() + timedelta(days=offset)).isoformat()


def slot_count(db) -> int:
    return db.session.scalar(select(func.count(AvailabilitySlot.id)))


def test_doctor_publishes_one_slot(client, db, doctor):
    response = client.post(
        "/doctor/availability", data={"date": day(3), "start_time": "10:00", "end_time": "10:30"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/doctor/availability"
    slot = db.session.scalar(select(AvailabilitySlot))
    target = local_today() + timedelta(days=3)
    assert slot.doctor_id == doctor.id
    assert slot.start_at == datetime(target.year, target.month, target.day, 10, tzinfo=UTC)
    assert slot.end_at - slot.start_at == timedelta(minutes=30)
    assert db.session.scalar(select(AuditEvent.kind)) == "slot.created"
    page = text_of(client.get("/doctor/availability"))
    assert "Slot published." in page
    assert "10:00–10:30" in page
    assert f"/doctor/availability/{slot.id}/delete" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date", "", "This field is required"),
        ("date", "2026-02-30", "YYYY-MM-DD"),
        ("date", "tomorrow", "YYYY-MM-DD"),
        ("date", "9" * 5000, "YYYY-MM-DD"),
        ("date", "0001-01-01", "already passed"),
        ("date", "9999-12-31", "up to 366 days ahead"),
        ("start_time", "", "This field is required"),
        ("start_time", "25:00", "HH:MM"),
        ("start_time", "10:00\x00", "HH:MM"),
        ("end_time", "noon", "HH:MM"),
        ("end_time", "09:00", "end time must be after the start time"),
        ("end_time", "10:03", "between 5 minutes and 8 hours"),
        ("end_time", "19:00", "between 5 minutes and 8 hours"),
    ],
)
def test_bad_slot_input_is_400_with_the_error_next_to_the_field(
    client, db, doctor, field, value, message
):
    data = {"date": day(3), "start_time": "10:00", "end_time": "10:30", field: value}

    response = client.post("/doctor/availability", data=data)

    assert response.status_code == 400
    page = text_of(response)
    assert message in page
    assert f'id="{field}-error"' in page
    assert slot_count(db) == 0


def test_a_slot_in_the_past_is_refused(client, db, doctor):
    yesterday = client.post(
        "/doctor/availability", data={"date": day(-1), "start_time": "10:00", "end_time": "10:30"}
    )
    earlier_today = client.post(
        "/doctor/availability", data={"date": day(0), "start_time": "00:00", "end_time": "00:05"}
    )

    assert yesterday.status_code == 400
    assert "That date has already passed." in text_of(yesterday)
    assert earlier_today.status_code == 400
    assert "That time has already passed." in text_of(earlier_today)
    assert slot_count(db) == 0


def test_an_overlapping_slot_is_a_409(client, db, doctor):
    data = {"date": day(3), "start_time": "10:00", "end_time": "10:30"}
    assert client.post("/doctor/availability", data=data).status_code == 302

    response = client.post("/doctor/availability", data={**data, "start_time": "10:15"})

    assert response.status_code == 409
    assert "overlaps a slot already published" in text_of(response)
    assert slot_count(db) == 1


def test_slots_of_other_doctors_do_not_count_as_overlap(client, db, doctor, make):
    target = local_today() + timedelta(days=3)
    start = datetime(target.year, target.month, target.day, 10, tzinfo=UTC)
    make.slot(start_at=start, end_at=start + timedelta(minutes=30))

    response = client.post(
        "/doctor/availability", data={"date": day(3), "start_time": "10:00", "end_time": "10:30"}
    )

    assert response.status_code == 302
    assert slot_count(db) == 2


WEEKLY = {
    "start_date": "",
    "end_date": "",
    "weekdays": ["0", "1", "2", "3", "4"],
    "day_start": "09:00",
    "day_end": "12:00",
    "slot_minutes": "30",
}


def weekly(**changes) -> dict:
    data = {**WEEKLY, "start_date": day(7), "end_date": day(13)}
    data.update(changes)
    return data


def test_weekly_template_creates_slots_and_says_how_many(client, db, doctor):
    response = client.post("/doctor/availability/weekly", data=weekly())

    assert response.status_code == 302
    assert slot_count(db) == 5 * 6
    page = text_of(client.get("/doctor/availability"))
    assert "Created 30 slots, skipped 0 (overlapping or in the past)" in page
    assert db.session.scalar(select(AuditEvent.kind)) == "slot.created_weekly"
    starts = db.session.scalars(select(AvailabilitySlot.start_at)).all()
    assert {s.weekday() for s in starts} == {0, 1, 2, 3, 4}
    assert {(s.hour, s.minute) for s in starts} == {(h, m) for h in (9, 10, 11) for m in (0, 30)}

    again = client.post("/doctor/availability/weekly", data=weekly())
    assert again.status_code == 302
    assert "Created 0 slots, skipped 30" in text_of(client.get("/doctor/availability"))
    assert slot_count(db) == 30


def test_weekly_template_skips_overlaps_and_the_past(client, db, doctor):
    client.post(
        "/doctor/availability", data={"date": day(7), "start_time": "09:10", "end_time": "09:40"}
    )
    everyday = [str(d) for d in range(7)]

    response = client.post(
        "/doctor/availability/weekly",
        data=weekly(start_date=day(-1), end_date=day(7), weekdays=everyday, day_start="00:00"),
    )

    assert response.status_code == 302
    page = text_of(client.get("/doctor/availability"))
    # 9 days x 24 half-hour slots; yesterday's 24 and some of today's are past, 2 overlap.
    created = slot_count(db) - 1
    skipped = 9 * 24 - created
    assert f"Created {created} slots, skipped {skipped} (overlapping or in the past)" in page
    assert 24 + 2 <= skipped <= 24 + 24 + 2


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"end_date": "__day97"}, "end_date", "at most 90 days"),
        (
            {
                "end_date": "__day89",
                "weekdays": [str(d) for d in range(7)],
                "day_start": "00:00",
                "day_end": "23:55",
                "slot_minutes": "5",
            },
            "slot_minutes",
            "the limit is 2000",
        ),
        ({"weekdays": []}, "weekdays", "Choose at least one weekday"),
        ({"weekdays": ["7"]}, "weekdays", "not a valid choice"),
        ({"weekdays": ["monday"]}, "weekdays", "could not be coerced"),
        ({"slot_minutes": "0"}, "slot_minutes", "between 5 and 480"),
        ({"slot_minutes": "100000000000000000000"}, "slot_minutes", "between 5 and 480"),
        ({"slot_minutes": "thirty"}, "slot_minutes", "Not a valid integer"),
        ({"slot_minutes": ""}, "slot_minutes", "This field is required"),
        ({"day_end": "08:00"}, "day_end", "must end after it starts"),
        ({"day_start": "9am"}, "day_start", "HH:MM"),
        ({"start_date": "__day14"}, "end_date", "must not be before the start date"),
        ({"start_date": "2026-13-01"}, "start_date", "YYYY-MM-DD"),
        ({"end_date": "__day-2", "start_date": "__day-9"}, "end_date", "already passed"),
        ({"end_date": "__day400", "start_date": "__day390"}, "end_date", "366 days ahead"),
        ({"start_date": "0001-01-01", "end_date": "0001-01-05"}, "end_date", "already passed"),
    ],
)
def test_bad_weekly_templates_are_400(client, db, doctor, changes, field, message):
    for key, value in changes.items():
        if isinstance(value, str) and value.startswith("__day"):
            changes[key] = day(int(value[5:]))

    response = client.post("/doctor/availability/weekly", data=weekly(**changes))

    assert response.status_code == 400
    page = text_of(response)
    assert message in page
    assert f'id="{field}-error"' in page
    assert slot_count(db) == 0


def test_delete_own_free_slot(client, db, doctor, make):
    slot = make.slot(doctor=doctor)

    response = client.post(f"/doctor/availability/{slot.id}/delete")

    assert response.status_code == 302
    assert slot_count(db) == 0
    assert "Slot deleted." in text_of(client.get("/doctor/availability"))
    assert db.session.scalar(select(AuditEvent.kind)) == "slot.deleted"


def test_a_slot_freed_by_a_cancellation_can_be_deleted(client, db, doctor, make):
    appointment = make.appointment(slot=make.slot(doctor=doctor), doctor=doctor, status="cancelled")

    response = client.post(f"/doctor/availability/{appointment.slot_id}/delete")

    assert response.status_code == 302
    db.session.expire_all()
    assert slot_count(db) == 0
    assert db.session.get(type(appointment), appointment.id).slot_id is None  # history kept


def test_a_booked_slot_cannot_be_deleted(client, db, doctor, make):
    appointment = make.appointment(slot=make.slot(doctor=doctor))

    response = client.post(f"/doctor/availability/{appointment.slot_id}/delete")

    assert response.status_code == 409
    assert "This slot is booked" in text_of(response)
    assert slot_count(db) == 1


@pytest.mark.parametrize("slot_id", ["other", "missing", "99999999999999999999999"])
def test_deleting_someone_elses_or_a_missing_slot_is_404(client, db, doctor, make, slot_id):
    other = make.slot()
    target = {"other": other.id, "missing": other.id + 100}.get(slot_id, slot_id)

    response = client.post(f"/doctor/availability/{target}/delete")

    assert response.status_code == 404
    assert slot_count(db) == 1


def test_slot_list_marks_booked_slots_and_puts_upcoming_first(client, db, doctor, make):
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    past = make.slot(doctor=doctor, start_at=now - timedelta(days=2))
    later = make.slot(doctor=doctor, start_at=now + timedelta(days=5))
    sooner = make.slot(doctor=doctor, start_at=now + timedelta(days=1))
    make.appointment(slot=sooner, patient__user__full_name="Grace Hopper")

    page = text_of(client.get("/doctor/availability"))

    order = [page.index(f"{s.start_at:%d %b %Y}") for s in (sooner, later, past)]
    assert order == sorted(order)
    assert "Grace Hopper" in page
    assert f"/doctor/availability/{sooner.id}/delete" not in page  # booked: no delete button
    assert f"/doctor/availability/{later.id}/delete" in page


@pytest.mark.parametrize("page", ["2", "abc", "-3", "0", "99999999999999999999999"])
def test_slot_list_paginates_and_tolerates_odd_page_numbers(client, db, doctor, make, page):
    for _ in range(25):
        make.slot(doctor=doctor)

    response = client.get(f"/doctor/availability?page={page}")

    assert response.status_code == 200
    body = text_of(response)
    rows = body.count("/delete")
    assert rows == {"2": 5, "abc": 20, "-3": 20, "0": 20}.get(page, 0)
    if page in ("abc", "-3", "0"):
        assert 'href="/doctor/availability?page=2"' in body


def test_the_page_shows_the_days_patients_wait_for_and_links_them(client, db, doctor, make):
    from app.models import WaitlistEntry

    today = local_today()
    days = [today + timedelta(days=n) for n in (-1, 2, 2, 5)]  # yesterday's entry is over
    for day in days:
        db.session.add(WaitlistEntry(patient=make.patient(), doctor=doctor, day=day))
    db.session.add(WaitlistEntry(patient=make.patient(), doctor=make.doctor(), day=days[3]))
    db.session.commit()

    html = text_of(client.get("/doctor/availability"))

    assert "Patients are waiting for a place with you on" in html
    two, five = days[1], days[3]
    assert f'date={two.isoformat()}">{two:%a %d %b}</a> (2),' in html
    assert f'date={five.isoformat()}">{five:%a %d %b}</a> (1).' in html
    assert days[0].isoformat() not in html.split("waiting for a place")[1].split("</div>")[0]


def test_without_anyone_waiting_the_page_says_nothing_of_it(client, doctor):
    assert "waiting for a place" not in text_of(client.get("/doctor/availability"))
