"""The doctor's day sheet: one clinic day, slot by slot, to work from or to print."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from tests.helpers import count_queries, table_rows, text_of

NOW = datetime(2030, 3, 5, 12, 0, tzinfo=UTC)  # a Tuesday noon; the suite's clinic is UTC
TODAY = NOW.date()


def at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    return NOW.replace(hour=hour, minute=minute) + timedelta(days=days)


@pytest.fixture
def doctor(make, client, login_as):
    doctor = make.doctor(user__full_name="Dr. Ada Lovelace")
    login_as(client, doctor.user)
    return doctor


@pytest.fixture(autouse=True)
def _noon():
    with time_machine.travel(NOW, tick=False):
        yield


def rows(response) -> list[list[str]]:
    assert response.status_code == 200
    return table_rows(text_of(response), "data-table", "day")[1:]


def test_the_day_in_time_order_with_who_comes_and_what_is_open(client, db, doctor, make):
    grace = make.patient(
        user__full_name="Grace Hopper", user__phone="+1 555 0101", date_of_birth=date(1960, 3, 1)
    )
    make.appointment(slot=make.slot(doctor=doctor, start_at=at(9)), patient=grace, notes="Cough")
    make.slot(doctor=doctor, start_at=at(14))  # open
    make.appointment(
        slot=make.slot(doctor=doctor, start_at=at(10)),
        status="cancelled",
        patient__user__full_name="Carl Cancelled",
    )  # its slot is open again
    make.appointment(
        slot=make.slot(doctor=doctor, start_at=at(16)), patient__user__full_name="Alan Turing"
    )
    make.slot(doctor=doctor, start_at=at(9, days=1))  # tomorrow
    make.slot(start_at=at(11))  # another doctor's

    response = client.get(f"/doctor/day?date={TODAY.isoformat()}")

    table = rows(response)
    assert [row[0] for row in table] == ["09:00–09:30", "10:00–10:30", "14:00–14:30", "16:00–16:30"]
    assert table[0][1].startswith("Grace Hopper") and "Born 1 March 1960 (70)" in table[0][1]
    assert "+1 555 0101" in table[0][1] and table[0][2] == "Cough"
    assert table[1][1] == "Open" and table[2][1] == "Open"
    assert table[3][1].startswith("Alan Turing") and table[3][3] == "Booked"
    page = text_of(response)
    assert "Carl Cancelled" not in page
    assert "Tuesday 5 March 2030" in page and "2 booked · 2 open" in page


def test_today_by_default_with_the_days_around_it(client, doctor):
    response = client.get("/doctor/day")

    page = text_of(response)
    assert "Tuesday 5 March 2030" in page and ">Today</span>" in page
    assert 'href="/doctor/day?date=2030-03-04">← Previous day' in page
    assert 'href="/doctor/day?date=2030-03-06">Next day →' in page
    assert "No slots on this day." in page
    assert 'name="date" type="date" value="2030-03-05"' in page  # the day shown, to change

    other = text_of(client.get("/doctor/day?date=2030-03-07"))
    assert "Thursday 7 March 2030" in other and ">Today</span>" not in other
    assert 'href="/doctor/day">Today</a>' in other


def test_the_visits_buttons_are_where_they_apply(client, doctor, make):
    started = make.appointment(slot=make.slot(doctor=doctor, start_at=at(11, 45)))
    later = make.appointment(slot=make.slot(doctor=doctor, start_at=at(15)))

    page = text_of(client.get("/doctor/day"))

    assert f'action="/doctor/appointments/{started.id}/status"' in page
    assert f'action="/booking/appointments/{started.id}/cancel"' not in page
    assert f'action="/booking/appointments/{later.id}/cancel"' in page
    assert f'action="/doctor/appointments/{later.id}/status"' not in page


def test_it_prints_without_the_menus_and_buttons(client, doctor, make):
    make.slot(doctor=doctor, start_at=at(15))

    page = text_of(client.get("/doctor/day"))

    assert 'class="navbar navbar-expand-lg navbar-dark bg-primary d-print-none"' in page
    assert "data-print hidden>Print</button>" in page and "/static/js/print.js" in page
    assert '<th scope="col" class="d-print-none">' in page


@pytest.mark.parametrize(
    ("date_arg", "message"),
    [("tomorrow", "Use the format YYYY-MM-DD."), ("9999-12-31", "Choose a day between 1900")],
)
def test_a_bad_date_is_a_400_next_to_the_field(client, doctor, date_arg, message):
    response = client.get(f"/doctor/day?date={date_arg}")

    assert response.status_code == 400
    assert message in text_of(response)


def test_the_sheets_queries_do_not_grow_with_the_day(client, db, doctor, make):
    make.appointment(slot=make.slot(doctor=doctor, start_at=at(8)))
    with count_queries(db.engine) as few:
        assert client.get("/doctor/day").status_code == 200
    for hour in range(9, 20):
        make.appointment(slot=make.slot(doctor=doctor, start_at=at(hour)))
        make.slot(doctor=doctor, start_at=at(hour, 30))
    with count_queries(db.engine) as many:
        assert len(rows(client.get("/doctor/day"))) == 23
    assert len(many) == len(few)


def test_a_patients_first_visit_to_the_doctor_is_marked(client, db, doctor, make):
    def patient(name):
        return make.patient(user__full_name=name)

    seen, new, elsewhere, missed = (patient(n) for n in ("Seen", "New", "Elsewhere", "Missed"))
    for hour, who, with_doctor, status in (
        (9, seen, doctor, "completed"),
        (10, elsewhere, make.doctor(), "completed"),
        (11, missed, doctor, "no_show"),
    ):
        slot = make.slot(doctor=with_doctor, start_at=at(hour, days=-7))
        make.appointment(slot=slot, patient=who, status=status)
    for hour, who in zip((13, 14, 15, 16), (seen, new, elsewhere, missed), strict=True):
        make.appointment(slot=make.slot(doctor=doctor, start_at=at(hour)), patient=who)
    make.appointment(
        slot=make.slot(doctor=doctor, start_at=at(17)), patient=patient("Gone"), status="cancelled"
    )

    def marked(url: str) -> list[str]:
        html = text_of(client.get(url))
        return sorted(
            name
            for name in ("Seen", "New", "Elsewhere", "Missed", "Gone")
            if f'{name}</a> <span class="badge text-bg-info">First visit</span>' in html
        )

    assert marked("/doctor/day") == ["Elsewhere", "Missed", "New"]
    assert marked("/doctor/appointments") == ["Elsewhere", "Missed", "New"]
    # looking back, the visit that was Seen's first is marked as such
    assert marked("/doctor/appointments?when=past") == ["Missed", "Seen"]


def test_the_sheet_says_how_many_wait_for_a_place_that_day(client, db, doctor, make):
    from app.models import WaitlistEntry

    gone = make.patient(user__active=False)
    grace = make.patient(user__full_name="Grace Hopper", user__phone="+1 555 0101")
    alan = make.patient(user__full_name="Alan Turing")
    for patient, day in (
        (grace, TODAY),
        (alan, TODAY),
        (gone, TODAY),  # a closed account is not offered places
        (make.patient(), TODAY + timedelta(days=1)),
    ):
        db.session.add(WaitlistEntry(patient=patient, doctor=doctor, day=day))
    db.session.add(WaitlistEntry(patient=make.patient(), doctor=make.doctor(), day=TODAY))
    db.session.commit()

    today = " ".join(text_of(client.get("/doctor/day")).split())
    assert '· <a href="#waiting">2 waiting for a place</a>' in today
    listed = today.split('id="waiting-heading"')[1]
    assert listed.index("Grace Hopper") < listed.index("Alan Turing")  # first come, first
    assert 'href="tel:+15550101"' in listed
    assert gone.user.full_name not in listed
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert "1 waiting for a place" in text_of(client.get(f"/doctor/day?date={tomorrow}"))
    later = (TODAY + timedelta(days=2)).isoformat()
    assert "waiting for a place" not in text_of(client.get(f"/doctor/day?date={later}"))


def test_a_doctor_running_late_tells_the_patients_still_to_come_today(client, db, doctor, make):
    from sqlalchemy import select

    from app.models import AuditEvent, OutboxMessage

    def patient(name):
        return make.patient(user__full_name=name, user__email=f"{name.lower()}@example.com")

    for hour, who, fields in (
        (11, "Past", {}),  # already started (it is noon)
        (12, "Arrived", {"checked_in_at": NOW}),  # in the waiting room: told at the desk
        (14, "Grace", {}),
        (16, "Alan", {}),
        (15, "Cancelled", {"status": "cancelled"}),
    ):
        slot = make.slot(doctor=doctor, start_at=at(hour, 30 if hour == 12 else 0))
        make.appointment(slot=slot, patient=patient(who), **fields)
    make.appointment(slot=make.slot(doctor=doctor, start_at=at(9, days=1)), patient=patient("Next"))
    make.appointment(slot=make.slot(start_at=at(17)), patient=patient("Elsewhere"))

    page = text_of(client.get("/doctor/day"))
    assert 'action="/doctor/day/late"' in page and 'data-confirm="Email every patient' in page
    response = client.post("/doctor/day/late", data={"minutes": "30"}, follow_redirects=True)

    assert "2 patients still to come today have been told" in text_of(response)
    sent = [m.payload for m in db.session.scalars(select(OutboxMessage))]
    late = [p for p in sent if p["action"] == "RUNNING_LATE"]
    assert sorted(p["to"] for p in late) == ["alan@example.com", "grace@example.com"]
    assert {p["data"]["delay_minutes"] for p in late} == {"30"}
    assert {p["data"]["doctor_name"] for p in late} == {"Dr. Ada Lovelace"}
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "doctor.running_late")
    ).one()
    assert event.details == {"minutes": 30, "told": 2}
    again = client.post("/doctor/day/late", data={"minutes": "45"})  # a second announcement
    assert again.status_code == 302
    assert len([m for m in db.session.scalars(select(OutboxMessage))]) == len(sent) + 2


@pytest.mark.parametrize("minutes", ["", "7", "abc", "99999999999"])
def test_running_late_by_an_odd_amount_is_a_400(client, doctor, minutes):
    assert client.post("/doctor/day/late", data={"minutes": minutes}).status_code == 400


def test_nobody_left_today_means_nobody_is_told(client, db, doctor, make):
    make.appointment(slot=make.slot(doctor=doctor, start_at=at(9)))  # this morning

    response = client.post("/doctor/day/late", data={"minutes": "15"}, follow_redirects=True)

    assert "No patient is still to come today" in text_of(response)
