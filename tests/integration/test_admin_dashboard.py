"""The usage dashboard: exact figures on a known data set, SVG charts with text alternatives,
and a fixed number of queries however much data there is."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import update

from app.models import AppointmentStatus, OutboxKind, OutboxMessage, OutboxStatus
from app.services import booking, outbox, reminders, stats
from tests.helpers import count_queries, table_rows

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # a Tuesday; the suite's clinic zone is UTC
CHARTS = ("bookings", "cancellations", "utilisation", "specializations")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def _appointment(make, doctor, patient, start, status, created):
    slot = make.slot(doctor=doctor, start_at=start)
    return make.appointment(
        slot=slot, doctor=doctor, patient=patient, status=status, created_at=created
    )


@pytest.fixture
def clinic(make, frozen):
    """Three doctors, three patients, one admin, nine appointments and some free slots."""
    alpha = make.doctor(user__full_name="Dr Ada Alpha", specialization="Cardiology")
    beta = make.doctor(user__full_name="Dr Ben Beta", specialization="Dermatology")
    gamma = make.doctor(user__full_name="Dr Cy Gamma", specialization="Cardiology")
    p1, p2, p3 = make.patient(), make.patient(), make.patient()
    admin = make.admin()
    hours, days = (lambda n: timedelta(hours=n)), (lambda n: timedelta(days=n))
    S = AppointmentStatus
    # past: 2 completed, 1 no-show, 1 awaiting an outcome, 1 cancelled
    _appointment(make, alpha, p1, NOW - days(2), S.COMPLETED, NOW - days(5))
    _appointment(make, alpha, p2, NOW - days(3), S.COMPLETED, NOW - days(5))
    _appointment(make, beta, p1, NOW - days(1), S.NO_SHOW, NOW - days(4))
    _appointment(make, beta, p3, NOW - hours(1), S.BOOKED, NOW - days(2))
    _appointment(make, gamma, p2, NOW - days(4), S.CANCELLED, NOW - days(10))
    # future: 3 booked (one beyond the two weeks, booked 40 days ago), 1 cancelled
    _appointment(make, alpha, p3, NOW + days(1), S.BOOKED, NOW)
    _appointment(make, alpha, p1, NOW + days(2), S.BOOKED, NOW - days(1))
    _appointment(make, beta, p2, NOW + days(3), S.CANCELLED, NOW - hours(2))
    _appointment(make, gamma, p3, NOW + days(20), S.BOOKED, NOW - days(40))
    # free slots: two and one within the fortnight, one after it, one in the past
    make.slot(doctor=alpha, start_at=NOW + days(4))
    make.slot(doctor=alpha, start_at=NOW + days(5))
    make.slot(doctor=beta, start_at=NOW + days(6))
    make.slot(doctor=gamma, start_at=NOW + days(15))
    make.slot(doctor=beta, start_at=NOW - days(1) - hours(2))
    return admin


def _stat(page: str, name: str) -> str:
    match = re.search(rf'data-stat="{name}">([^<]*)<', page)
    assert match, name
    return match.group(1)


def test_dashboard_shows_the_exact_figures(client, login_as, clinic):
    login_as(client, clinic)
    response = client.get("/admin/")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert {
        name: _stat(page, name)
        for name in (
            "doctors",
            "patients",
            "upcoming",
            "completed",
            "cancelled",
            "open-slots",
            "no-shows",
            "completion-rate",
            "no-show-rate",
            "awaiting-outcome",
        )
    } == {
        "doctors": "3",
        "patients": "3",
        "upcoming": "3",
        "completed": "2",
        "cancelled": "2",
        "open-slots": "5",
        "no-shows": "1",
        "completion-rate": "50.0%",
        "no-show-rate": "25.0%",
        "awaiting-outcome": "1",
    }
    assert "among the 4 past appointments" in " ".join(page.split())


def test_chart_text_alternatives_carry_the_numbers(client, login_as, clinic):
    login_as(client, clinic)
    page = client.get("/admin/").get_data(as_text=True)

    bookings = table_rows(page, "data-table", "bookings")
    assert bookings[0] == ["Day", "Bookings"]
    assert len(bookings) == 1 + 30
    assert bookings[1] == ["2026-02-09", "0"]
    assert [row for row in bookings[1:] if row[1] != "0"] == [
        ["2026-02-28", "1"],
        ["2026-03-05", "2"],
        ["2026-03-06", "1"],
        ["2026-03-08", "1"],
        ["2026-03-09", "1"],
        ["2026-03-10", "2"],
    ]
    assert "8 bookings made in the last 30 days" in page

    assert table_rows(page, "data-table", "cancellations")[1:] == [
        ["2026-02-28", "1", "1", "100.0%"],
        ["2026-03-05", "2", "0", "0.0%"],
        ["2026-03-06", "1", "0", "0.0%"],
        ["2026-03-08", "1", "0", "0.0%"],
        ["2026-03-09", "1", "0", "0.0%"],
        ["2026-03-10", "2", "1", "50.0%"],
    ]
    text = " ".join(page.split())
    assert "2 of the 8 bookings made in the last 30 days have been cancelled (25.0%)" in text

    assert table_rows(page, "data-table", "utilisation")[1:] == [
        ["Dr Ada Alpha", "Cardiology", "2", "4", "50.0%"],
        ["Dr Ben Beta", "Dermatology", "0", "2", "0.0%"],
    ]
    assert table_rows(page, "data-table", "specializations")[1:] == [
        ["Cardiology", "4"],
        ["Dermatology", "2"],
    ]


def test_charts_are_server_rendered_svg_without_scripts(client, login_as, clinic):
    login_as(client, clinic)
    page = client.get("/admin/").get_data(as_text=True)

    for name in CHARTS:
        url = f"/admin/charts/{name}.svg"
        assert re.search(rf'<img [^>]*src="{re.escape(url)}"[^>]*alt="[^"]+"', page), name
        response = client.get(url)
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        svg = response.get_data(as_text=True)
        assert "<svg" in svg
        assert "<script" not in svg
        assert "xml-stylesheet" not in svg  # nothing fetched from elsewhere
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "<script" not in page.split("</main>")[0]  # the page itself adds no script

    utilisation = client.get("/admin/charts/utilisation.svg").get_data(as_text=True)
    assert "Dr Ada Alpha" in utilisation and "50%" in utilisation
    specializations = client.get("/admin/charts/specializations.svg").get_data(as_text=True)
    assert "Cardiology" in specializations and "Dermatology" in specializations


@pytest.mark.parametrize(("name", "axis"), [("bookings", "y"), ("specializations", "x")])
def test_count_charts_have_whole_number_axes(client, login_as, clinic, name, axis):
    """Bookings come in whole numbers: pygal's own scale ran 0, 0.2, 0.4 … for a handful.
    (A horizontal bar chart draws its values along x.)"""
    login_as(client, clinic)
    svg = client.get(f"/admin/charts/{name}.svg").get_data(as_text=True)
    values_axis = svg.split(f'class="axis {axis}', 1)[1].split('class="series', 1)[0]
    values_axis = re.split(r'class="axis [xy][ "]', values_axis)[0]  # the other axis may follow
    ticks = re.findall(r"<text[^>]*>([^<]+)</text>", values_axis)
    assert ticks and ticks[0] == "0"
    assert all(tick.isdigit() for tick in ticks), ticks


def test_an_empty_clinic_shows_zeros_and_no_rates(client, make, login_as):
    login_as(client, make.admin())
    page = client.get("/admin/").get_data(as_text=True)

    assert _stat(page, "upcoming") == "0"
    assert _stat(page, "completion-rate") == "—"
    assert "No slots published for the coming 14 days." in page
    for name in CHARTS:
        assert client.get(f"/admin/charts/{name}.svg").status_code == 200


def test_days_are_clinic_days(app, make, db, monkeypatch, frozen):
    """A booking at 23:30 UTC on 9 March is on 9 March in New York (19:30 EDT) but on 10 March
    in Tokyo (08:30 JST): the day a booking counts on follows CLINIC_TIMEZONE."""
    doctor, patient = make.doctor(), make.patient()
    _appointment(
        make,
        doctor,
        patient,
        NOW + timedelta(days=2),
        AppointmentStatus.BOOKED,
        datetime(2026, 3, 9, 23, 30, tzinfo=UTC),
    )
    for zone, day in (("America/New_York", "2026-03-09"), ("Asia/Tokyo", "2026-03-10")):
        monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", zone)
        counted = [d.day.isoformat() for d in stats.daily_bookings() if d.booked]
        assert counted == [day], zone


def _add_busy_week(make, count: int) -> None:
    for n in range(count):
        doctor = make.doctor(specialization=f"Specialty {n}")
        _appointment(
            make,
            doctor,
            make.patient(),
            NOW + timedelta(days=1, hours=n),
            AppointmentStatus.BOOKED,
            NOW - timedelta(days=n % 30),
        )
        make.slot(doctor=doctor, start_at=NOW + timedelta(days=3, hours=n))


@pytest.mark.parametrize("url", ["/admin/", *(f"/admin/charts/{name}.svg" for name in CHARTS)])
def test_query_count_does_not_grow_with_the_data(client, login_as, make, db, clinic, url):
    login_as(client, clinic)
    with count_queries(db.engine) as few:
        assert client.get(url).status_code == 200
    _add_busy_week(make, 15)
    with count_queries(db.engine) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)
    assert len(few) <= 8


def _email_lines(page: str) -> dict[str, str]:
    """The dashboard's email section, by state, whitespace folded."""
    return {
        state: " ".join(re.sub(r"<[^>]+>", "", text).split())
        for state, text in re.findall(r'data-email="(\w+)"[^>]*>(.*?)</(?:p|div)>', page, re.S)
    }


def _queue(db, key: str, *, queued: datetime, status=None) -> None:
    message = outbox.enqueue(OutboxKind.EMAIL, {"action": "SIGNUP_WELCOME"}, key)
    message.created_at = queued
    if status is not None:
        message.status = status
    db.session.commit()


def test_the_dashboard_says_whether_email_is_going_out(client, db, login_as, make, frozen):
    login_as(client, make.admin())

    def email() -> dict[str, str]:
        return _email_lines(client.get("/admin/").get_data(as_text=True))

    assert email() == {"ok": "Nothing waiting: every email has gone out."}

    _queue(db, "fresh", queued=NOW - timedelta(minutes=1))  # the worker is on it
    _queue(db, "sent", queued=NOW - timedelta(hours=1), status=OutboxStatus.SENT)
    assert email() == {"ok": "Waiting to be sent: 1."}

    _queue(db, "stuck", queued=NOW - timedelta(minutes=6))  # no worker has taken it
    _queue(db, "retry", queued=NOW - timedelta(hours=2), status=OutboxStatus.FAILED)
    _queue(db, "refused", queued=NOW - timedelta(days=1), status=OutboxStatus.DEAD)
    assert email() == {
        "stalled": "Emails are not going out. 2 waiting, the oldest since Tue 10 Mar 2026, "
        "11:54. They are kept and will be sent once the outbox worker (flask outbox run) is "
        "running again: please tell whoever runs the servers.",
        "retrying": "Failed for now, to be tried again: 1.",
        "dead": "Given up on: 1 (refused by the email service, or every retry failed). See them "
        "and send them again.",
    }


def test_a_reminder_withdrawn_by_a_cancellation_is_not_counted_as_given_up(
    client, db, login_as, make, frozen
):
    """The email service was down, so the reminder waited for a retry; then the visit was
    cancelled. Nothing went wrong with that reminder: the dashboard has nothing to report."""
    admin = make.admin()
    login_as(client, admin)
    appointment = make.appointment(slot=make.slot(start_at=NOW + timedelta(hours=5)))
    assert reminders.queue_due() == 1
    db.session.execute(update(OutboxMessage).values(status=OutboxStatus.FAILED))
    db.session.commit()
    page = client.get("/admin/").get_data(as_text=True)
    assert _email_lines(page)["retrying"] == "Failed for now, to be tried again: 2."

    booking.cancel(appointment.id, actor=admin)
    db.session.commit()

    lines = _email_lines(client.get("/admin/").get_data(as_text=True))
    assert lines == {"ok": "Waiting to be sent: 2."}  # the cancellation, to both; no reminder
