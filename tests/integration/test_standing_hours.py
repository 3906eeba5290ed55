"""Standing hours: a weekly template repeated, each new day published as it opens for booking."""

import threading
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db as _db
from app.models import AuditEvent, AvailabilitySlot, ClinicClosure, StandingHours
from app.services import delivery, standing_hours
from app.timeutil import local_today, to_local, utcnow
from tests.helpers import text_of
from tests.integration.races import run_together

HORIZON = 21  # BOOKING_MAX_DAYS_AHEAD in these tests: three weeks, so the counts stay small
PER_DAY = 6  # 09:00 to 12:00 in 30-minute slots


@pytest.fixture(autouse=True)
def short_horizon(app, monkeypatch):
    monkeypatch.setitem(app.config, "BOOKING_MAX_DAYS_AHEAD", HORIZON)


@pytest.fixture
def doctor(make, client, login_as):
    doctor = make.doctor(user__full_name="Dr. Ada Lovelace")
    login_as(client, doctor.user)
    return doctor


def day(offset: int) -> date:
    return local_today() + timedelta(days=offset)


def weekly(first: int, last: int, *, repeat: bool = True, **changes) -> dict:
    data = {
        "start_date": day(first).isoformat(),
        "end_date": day(last).isoformat(),
        "weekdays": ["0", "1", "2", "3", "4"],
        "day_start": "09:00",
        "day_end": "12:00",
        "slot_minutes": "30",
        **changes,
    }
    if repeat:
        data["repeat"] = "y"
    return data


def weekdays_between(first: int, last: int, weekdays=range(5)) -> int:
    return sum(1 for n in range(first, last + 1) if day(n).weekday() in weekdays)


def slot_days(db, doctor) -> list[date]:
    db.session.expire_all()
    starts = db.session.scalars(
        select(AvailabilitySlot.start_at).where(AvailabilitySlot.doctor_id == doctor.id)
    )
    return sorted({to_local(start).date() for start in starts})


def slot_count(db, doctor) -> int:
    db.session.expire_all()
    query = select(func.count(AvailabilitySlot.id)).where(AvailabilitySlot.doctor_id == doctor.id)
    return db.session.scalar(query)


def all_standing(db, doctor) -> list[StandingHours]:
    db.session.expire_all()
    query = select(StandingHours).where(StandingHours.doctor_id == doctor.id)
    return list(db.session.scalars(query.order_by(StandingHours.id)))


def standing(db, doctor) -> StandingHours | None:
    """The doctor's one set of standing hours, or None."""
    kept = all_standing(db, doctor)
    assert len(kept) <= 1
    return kept[0] if kept else None


def test_repeating_a_template_keeps_its_hours_and_says_so(client, db, doctor):
    response = client.post("/doctor/availability/weekly", data=weekly(1, 7))

    assert response.status_code == 302
    kept = standing(db, doctor)
    assert kept.weekday_list == [0, 1, 2, 3, 4]
    assert (kept.day_start, kept.day_end, kept.slot_minutes) == (time(9), time(12), 30)
    assert kept.published_through == day(7)
    assert slot_count(db, doctor) == weekdays_between(1, 7) * PER_DAY
    page = text_of(client.get("/doctor/availability"))
    assert f"repeat every week: the days after {day(7):%a %d %b}, as far ahead as" in page
    assert "Mon, Tue, Wed, Thu, Fri, 09:00–12:00, 30-minute slots;" in " ".join(page.split())
    assert f"published through {day(7):%a %d %b %Y}" in page
    kinds = db.session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)).all()
    assert kinds == ["slot.created_weekly", "slot.standing_hours_kept"]


def test_without_the_box_nothing_repeats(client, db, doctor):
    client.post("/doctor/availability/weekly", data=weekly(1, 7, repeat=False))

    assert standing(db, doctor) is None
    assert delivery.extend_standing_hours() == 0
    assert "Repeating every week" not in text_of(client.get("/doctor/availability"))


def test_the_worker_publishes_each_new_day_up_to_the_booking_horizon_once(client, db, doctor):
    client.post("/doctor/availability/weekly", data=weekly(1, 7))

    created = delivery.extend_standing_hours()

    assert created == weekdays_between(8, HORIZON) * PER_DAY
    days = slot_days(db, doctor)
    assert days[-1] <= day(HORIZON) and {d.weekday() for d in days} <= set(range(5))
    assert days == [day(n) for n in range(1, HORIZON + 1) if day(n).weekday() < 5]
    assert standing(db, doctor).published_through == day(HORIZON)
    assert delivery.extend_standing_hours() == 0  # nothing twice

    later = utcnow() + timedelta(days=3)  # three days on, three more days are in the window
    assert delivery.extend_standing_hours(later) == weekdays_between(HORIZON + 1, HORIZON + 3) * (
        PER_DAY
    )
    assert standing(db, doctor).published_through == day(HORIZON + 3)
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.kind, event.actor_id) == ("slot.created_weekly", None)  # the system's doing


def test_time_off_and_deleted_slots_on_published_days_stay_so(client, db, doctor):
    client.post("/doctor/availability/weekly", data=weekly(1, 14))
    weekday = next(n for n in range(1, 15) if day(n).weekday() < 5)
    client.post(
        "/doctor/availability/clear",
        data={"first_day": day(weekday).isoformat(), "last_day": day(weekday).isoformat()},
    )
    assert day(weekday) not in slot_days(db, doctor)

    delivery.extend_standing_hours()

    assert day(weekday) not in slot_days(db, doctor)


def test_closed_days_are_left_out(client, db, make, doctor):
    client.post("/doctor/availability/weekly", data=weekly(1, 7))
    holiday = next(day(n) for n in range(8, HORIZON + 1) if day(n).weekday() < 5)
    db.session.add(ClinicClosure(day=holiday, reason="Holiday"))
    db.session.commit()

    delivery.extend_standing_hours()

    assert holiday not in slot_days(db, doctor)
    assert standing(db, doctor).published_through == day(HORIZON)


def test_a_switched_off_doctor_gets_nothing_until_back(client, db, doctor):
    client.post("/doctor/availability/weekly", data=weekly(1, 7))
    doctor.user.active = False
    db.session.commit()

    assert delivery.extend_standing_hours() == 0
    assert standing(db, doctor).published_through == day(7)
    assert standing_hours.due_ids(utcnow()) == []  # not looked at every minute meanwhile

    doctor.user.active = True
    db.session.commit()
    assert delivery.extend_standing_hours() == weekdays_between(8, HORIZON) * PER_DAY


def test_a_doctor_keeps_several_sets_and_the_same_hours_twice_are_one(client, db, doctor):
    client.post("/doctor/availability/weekly", data=weekly(1, 14))
    client.post(
        "/doctor/availability/weekly",
        data=weekly(1, 7, weekdays=["5"], day_start="13:00", day_end="14:00"),  # Saturdays too
    )
    client.post("/doctor/availability/weekly", data=weekly(1, 10))  # the first again

    weekdays, saturdays = all_standing(db, doctor)
    assert (weekdays.weekday_list, weekdays.published_through) == ([0, 1, 2, 3, 4], day(14))
    assert (saturdays.weekday_list, saturdays.published_through) == ([5], day(7))
    assert delivery.extend_standing_hours() == (
        weekdays_between(15, HORIZON) * PER_DAY + weekdays_between(8, HORIZON, (5,)) * 2
    )
    page = text_of(client.get("/doctor/availability"))
    assert page.count("Stop repeating</button>") == 2


def slot_times(db, doctor, on: date) -> list[str]:
    db.session.expire_all()
    starts = db.session.scalars(
        select(AvailabilitySlot.start_at).where(AvailabilitySlot.doctor_id == doctor.id)
    )
    return sorted(f"{to_local(s):%H:%M}" for s in starts if to_local(s).date() == on)


LUNCH = {"day_start": "09:00", "day_end": "13:00", "break_start": "10:45", "break_end": "11:15"}
AROUND_LUNCH = ["09:00", "09:30", "10:00", "11:15", "11:45", "12:15"]  # 30 minutes each


def test_a_break_leaves_its_time_free_and_repeats_with_the_hours(client, db, doctor):
    response = client.post("/doctor/availability/weekly", data=weekly(1, 7, **LUNCH))

    assert response.status_code == 302
    weekday = next(n for n in range(1, 8) if day(n).weekday() < 5)
    assert slot_times(db, doctor, day(weekday)) == AROUND_LUNCH  # none across it, none after
    kept = standing(db, doctor)
    assert (kept.break_start, kept.break_end) == (time(10, 45), time(11, 15))
    page = " ".join(text_of(client.get("/doctor/availability")).split())
    assert "09:00–13:00 with a break 10:45–11:15, 30-minute slots;" in page
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "slot.standing_hours_kept")
    ).one()
    assert (event.details["break_start"], event.details["break_end"]) == ("10:45", "11:15")

    delivery.extend_standing_hours()

    later = next(n for n in range(8, HORIZON + 1) if day(n).weekday() < 5)
    assert slot_times(db, doctor, day(later)) == AROUND_LUNCH
    client.post(f"/doctor/availability/weekly/{kept.id}/stop")
    stopped = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "slot.standing_hours_stopped")
    ).one()
    assert stopped.details["break_end"] == "11:15"


def test_the_same_hours_with_another_break_are_another_set(client, db, doctor):
    client.post("/doctor/availability/weekly", data=weekly(1, 7, **LUNCH))
    client.post("/doctor/availability/weekly", data=weekly(8, 9, **LUNCH))  # the same set
    later = {**LUNCH, "break_start": "12:00", "break_end": "12:30"}
    client.post("/doctor/availability/weekly", data=weekly(15, 16, **later))

    first, second = all_standing(db, doctor)
    assert (first.break_start, first.published_through) == (time(10, 45), day(9))
    assert (second.break_start, second.published_through) == (time(12), day(16))


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ({"break_start": "12:00"}, "break_end", "Give the time the break ends, too."),
        ({"break_end": "12:00"}, "break_start", "Give the time the break starts, too."),
        (
            {"break_start": "11:00", "break_end": "11:00"},
            "break_end",
            "The break must end after it starts.",
        ),
        (
            {"break_start": "08:00", "break_end": "10:00"},
            "break_start",
            "The break must start after the day starts and end before the day ends.",
        ),
        (
            {"break_start": "11:00", "break_end": "12:00"},  # the day ends at 12:00
            "break_start",
            "The break must start after the day starts and end before the day ends.",
        ),
        ({"break_start": "noon", "break_end": "13:00"}, "break_start", "Use the format HH:MM"),
    ],
)
def test_a_break_that_makes_no_sense_publishes_and_keeps_nothing(
    client, db, doctor, given, field, message
):
    response = client.post("/doctor/availability/weekly", data=weekly(1, 7, **given))

    assert response.status_code == 400
    page = text_of(response)
    assert f'id="{field}-error"' in page
    assert message in page
    assert standing(db, doctor) is None
    assert slot_count(db, doctor) == 0


def test_the_database_keeps_a_break_inside_the_day(db, doctor):
    db.session.add(
        StandingHours(
            doctor_id=doctor.id,
            weekdays=1,
            day_start=time(9),
            day_end=time(12),
            break_start=time(11),
            break_end=time(13),
            slot_minutes=30,
            published_through=day(1),
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_ten_sets_at_most(app, client, db, doctor, monkeypatch):
    monkeypatch.setattr(standing_hours, "MAX_PER_DOCTOR", 2)
    for start, end in (("08:00", "09:00"), ("13:00", "14:00")):
        client.post("/doctor/availability/weekly", data=weekly(1, 7, day_start=start, day_end=end))
    published = slot_count(db, doctor)

    response = client.post(
        "/doctor/availability/weekly", data=weekly(1, 7, day_start="15:00", day_end="16:00")
    )

    assert response.status_code == 409
    assert "2 sets of weekly hours repeat already: stop one first." in text_of(response)
    assert len(all_standing(db, doctor)) == 2
    assert slot_count(db, doctor) == published  # the template's slots went back with it


def test_stopping_keeps_the_slots_and_publishes_no_more(client, db, doctor):
    client.post("/doctor/availability/weekly", data=weekly(1, 7))
    published = slot_count(db, doctor)

    stop = f"/doctor/availability/weekly/{standing(db, doctor).id}/stop"

    response = client.post(stop)

    assert response.status_code == 302
    assert "no longer repeat" in text_of(client.get("/doctor/availability"))
    assert standing(db, doctor) is None
    assert delivery.extend_standing_hours() == 0
    assert slot_count(db, doctor) == published
    assert client.post(stop).status_code == 404
    assert db.session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id.desc())).first() == (
        "slot.standing_hours_stopped"
    )


def test_an_invalid_template_keeps_nothing(client, db, doctor):
    response = client.post("/doctor/availability/weekly", data=weekly(1, 7, day_end="08:00"))

    assert response.status_code == 400
    assert standing(db, doctor) is None


def test_the_front_desk_repeats_a_doctors_hours_in_their_name(client, db, make, login_as):
    doctor = make.doctor()
    admin = make.admin()
    login_as(client, admin)
    page = f"/admin/users/{doctor.user.id}/availability"

    client.post(f"{page}/weekly", data=weekly(1, 7))

    assert standing(db, doctor).published_through == day(7)
    assert "Stop repeating" in text_of(client.get(page))
    kept = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "slot.standing_hours_kept")
    ).one()
    assert (kept.actor_id, kept.target_id) == (admin.id, doctor.id)
    other = make.doctor()  # the desk stops one doctor's hours on that doctor's page only
    wrong = f"/admin/users/{other.user.id}/availability/weekly/{standing(db, doctor).id}/stop"
    assert client.post(wrong).status_code == 404
    assert client.post(f"{page}/weekly/{standing(db, doctor).id}/stop").status_code == 302
    assert standing(db, doctor) is None


def test_the_outbox_worker_extends_them_when_it_starts(app, client, db, doctor):
    client.post("/doctor/availability/weekly", data=weekly(1, 7))

    delivery.run_worker(stop=threading.Event(), once=True)

    assert standing(db, doctor).published_through == day(HORIZON)


@pytest.mark.postgres
def test_two_workers_at_once_publish_each_day_once(race_app, db, make):
    doctors = [make.doctor() for _ in range(4)]
    for doctor in doctors:
        db.session.add(
            StandingHours(
                doctor_id=doctor.id,
                weekdays=StandingHours.weekday_bits(range(7)),
                day_start=time(9),
                day_end=time(12),
                slot_minutes=30,
                published_through=day(0),
            )
        )
    db.session.commit()
    race_app.config["BOOKING_MAX_DAYS_AHEAD"] = HORIZON

    def attempt(i: int, barrier: threading.Barrier) -> int:
        with race_app.app_context():
            try:
                barrier.wait()
                return delivery.extend_standing_hours()
            finally:
                _db.session.remove()

    created = run_together(2, attempt)

    assert sum(created) == len(doctors) * HORIZON * PER_DAY
    for doctor in doctors:
        assert slot_count(db, doctor) == HORIZON * PER_DAY
        assert standing(db, doctor).published_through == day(HORIZON)


def test_operators_can_extend_them_from_the_command_line(app, client, db, doctor):
    client.post("/doctor/availability/weekly", data=weekly(1, 7))
    runner = app.test_cli_runner()

    result = runner.invoke(args=["availability", "extend"])

    expected = weekdays_between(8, HORIZON) * PER_DAY
    assert result.exit_code == 0
    assert result.output == f"Published {expected} slots of standing hours.\n"
    assert runner.invoke(args=["availability", "extend"]).output == (
        "Published 0 slots of standing hours.\n"
    )
