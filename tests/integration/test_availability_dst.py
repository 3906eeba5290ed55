"""Slots across DST changes: entered in clinic wall-clock time, stored in UTC."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from app.models import AvailabilitySlot
from tests.helpers import text_of


@pytest.fixture
def doctor(make, client, login_as):
    doctor = make.doctor()
    login_as(client, doctor.user)
    return doctor


def slot_count(db) -> int:
    return db.session.scalar(select(func.count(AvailabilitySlot.id)))


@pytest.fixture
def london(app, monkeypatch):
    """The clinic in London, early in 2030. Requested before `doctor`: the sign-in must happen
    in the travelled time, or the session cookie looks four years old."""
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", "Europe/London")
    with time_machine.travel(datetime(2030, 3, 1, 12, tzinfo=UTC), tick=True):
        yield


def test_weekly_template_keeps_local_time_across_the_spring_change(london, client, db, doctor):
    response = client.post(
        "/doctor/availability/weekly",
        data={
            "start_date": "2030-03-29",
            "end_date": "2030-04-02",
            "weekdays": [str(d) for d in range(7)],
            "day_start": "09:00",
            "day_end": "09:30",
            "slot_minutes": "30",
        },
    )

    assert response.status_code == 302
    starts = sorted(db.session.scalars(select(AvailabilitySlot.start_at)))
    assert [(s.date(), s.hour) for s in starts] == [
        (date(2030, 3, 29), 9),  # GMT: 09:00 local is 09:00 UTC
        (date(2030, 3, 30), 9),
        (date(2030, 3, 31), 8),  # BST: 09:00 local is 08:00 UTC
        (date(2030, 4, 1), 8),
        (date(2030, 4, 2), 8),
    ]
    page = text_of(client.get("/doctor/availability"))
    assert page.count("09:00–09:30") == 5


def test_a_slot_inside_the_spring_gap_is_refused(london, client, db, doctor):
    response = client.post(
        "/doctor/availability",
        data={"date": "2030-03-31", "start_time": "01:30", "end_time": "02:30"},
    )

    assert response.status_code == 400
    assert "2030-03-31 01:30 does not exist in Europe/London" in text_of(response)
    assert slot_count(db) == 0


def test_a_weekly_template_skips_the_spring_gap(london, client, db, doctor):
    response = client.post(
        "/doctor/availability/weekly",
        data={
            "start_date": "2030-03-31",
            "end_date": "2030-03-31",
            "weekdays": ["6"],
            "day_start": "00:00",
            "day_end": "03:00",
            "slot_minutes": "30",
        },
    )

    assert response.status_code == 302
    # Local 01:00-02:00 does not exist that night: the slots starting or ending in it go.
    starts = sorted(db.session.scalars(select(AvailabilitySlot.start_at)))
    assert [f"{s:%H:%M}" for s in starts] == ["00:00", "01:00", "01:30"]  # UTC
    assert "Created 3 slots, skipped 3" in text_of(client.get("/doctor/availability"))
