"""Appointments: filters, pages, the cancel button, admin cancellation and the CSV export."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import Appointment, AppointmentStatus, AuditEvent, OutboxMessage
from app.services import booking
from app.services.audit import AuditKind
from app.timeutil import utcnow
from tests.helpers import count_queries, table_rows


@pytest.fixture
def admin(client, make, login_as):
    admin = make.admin(full_name="Ada Admin")
    login_as(client, admin)
    return admin


def _appointment(make, doctor, patient, start, status=AppointmentStatus.BOOKED, **extra):
    slot = make.slot(doctor=doctor, start_at=start)
    return make.appointment(slot=slot, doctor=doctor, patient=patient, status=status, **extra)


@pytest.fixture
def roster(make):
    """Two doctors, two patients, four appointments in a known order (latest first: d, c, b, a)."""
    soon = (utcnow() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    house = make.doctor(user__full_name="Gregory House", specialization="Diagnostics")
    grey = make.doctor(user__full_name="Meredith Grey", specialization="Surgery")
    lisa = make.patient(user__full_name="Lisa Cuddy", user__email="lisa@princeton.example")
    james = make.patient(user__full_name="James Wilson", user__email="james@example.com")
    S = AppointmentStatus
    return {
        "house": house,
        "grey": grey,
        "lisa": lisa,
        "james": james,
        "a": _appointment(make, house, lisa, soon - timedelta(days=10), S.COMPLETED),
        "b": _appointment(make, house, james, soon, S.BOOKED),
        "c": _appointment(make, grey, lisa, soon + timedelta(days=1), S.CANCELLED),
        "d": _appointment(make, grey, james, soon + timedelta(days=2), S.BOOKED),
    }


def _ids(client, query: str = "") -> list[int]:
    response = client.get("/admin/appointments" + query)
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    return [int(n) for n in re.findall(r'data-appointment="(\d+)"', page)]


def _expect(roster, *names) -> list[int]:
    return [roster[name].id for name in names]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ("d", "c", "b", "a")),
        ("?doctor=house", ("b", "a")),
        ("?patient=PRINCETON", ("c", "a")),
        ("?patient=wilson", ("d", "b")),
        ("?status=booked", ("d", "b")),
        ("?status=cancelled", ("c",)),
        ("?q=grey", ("d", "c")),
        ("?q=lisa@", ("c", "a")),
        ("?doctor=grey&patient=james&status=booked", ("d",)),
        ("?doctor=nobody", ()),
        ("?order=soonest", ("a", "b", "c", "d")),
        ("?order=soonest&doctor=house", ("a", "b")),
    ],
)
def test_filters(client, admin, roster, query, expected):
    assert _ids(client, query) == _expect(roster, *expected)


def test_an_unknown_order_is_a_400(client, admin):
    assert client.get("/admin/appointments?order=random").status_code == 400


def test_filter_by_doctor_id(client, admin, roster):
    assert _ids(client, f"?doctor={roster['grey'].id}") == _expect(roster, "d", "c")


def test_a_whole_address_finds_that_account_alone(client, make, admin, roster):
    """The Users list links each person's appointments by address: "james@…" is not
    "xjames@…", which a part of an address would also find."""
    namesake = make.patient(user__full_name="X James", user__email="xjames@example.com")
    other = _appointment(make, roster["grey"], namesake, utcnow() + timedelta(days=9))
    grey = roster["grey"].user.email

    assert _ids(client, "?patient=James@Example.com") == _expect(roster, "d", "b")
    assert _ids(client, "?patient=james@example") == [other.id, *_expect(roster, "d", "b")]
    assert _ids(client, f"?doctor={grey.upper()}") == [other.id, *_expect(roster, "d", "c")]
    long_address = "a" * 64 + "@" + "b" * 180 + ".example"
    assert _ids(client, f"?patient={long_address}") == []


def test_the_users_list_links_each_person_to_their_appointments(client, admin, roster):
    page = client.get("/admin/users").get_data(as_text=True)

    james = 'href="/admin/appointments?patient=james@example.com"'
    assert f'{james} title="Their appointments">James Wilson</a>' in page
    assert f'href="/admin/appointments?doctor={roster["house"].user.email}"' in page
    assert _ids(client, "?patient=james@example.com") == _expect(roster, "d", "b")
    assert 'title="Their appointments">Ada Admin' not in page  # admins have none


def test_date_range_is_in_clinic_days(app, client, make, admin, monkeypatch):
    """22:30 on 9 March in New York is 02:30 UTC on 10 March: it belongs to the 9th there."""
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", "America/New_York")
    late = _appointment(
        make, make.doctor(), make.patient(), datetime(2026, 3, 10, 2, 30, tzinfo=UTC)
    )
    assert _ids(client, "?date_from=2026-03-09&date_to=2026-03-09") == [late.id]
    assert _ids(client, "?date_from=2026-03-10") == []
    assert _ids(client, "?date_to=2026-03-08") == []


def test_an_inverted_or_malformed_date_range_is_a_400(client, admin):
    inverted = client.get("/admin/appointments?date_from=2026-03-10&date_to=2026-03-01")
    assert inverted.status_code == 400
    assert "must not be before the start date" in inverted.get_data(as_text=True)
    assert client.get("/admin/appointments?date_from=10/03/2026").status_code == 400
    assert client.get("/admin/appointments?status=lost").status_code == 400


def test_only_upcoming_booked_appointments_have_a_cancel_button(client, make, admin, roster):
    past_booked = _appointment(
        make, roster["house"], roster["lisa"], utcnow() - timedelta(days=1, hours=3)
    )
    page = client.get("/admin/appointments").get_data(as_text=True)
    buttons = set(map(int, re.findall(r'action="/booking/appointments/(\d+)/cancel"', page)))

    assert buttons == {roster["b"].id, roster["d"].id}
    assert past_booked.id not in buttons


def test_admin_cancellation_frees_the_slot_audits_and_tells_both_parties(db, make, roster):
    admin = make.admin()
    appointment = roster["b"]
    slot_id, doctor = appointment.slot_id, roster["house"]

    booking.cancel(appointment.id, actor=admin)
    db.session.commit()

    cancelled = db.session.get(Appointment, appointment.id)
    assert (cancelled.status, cancelled.cancelled_by_id) == (AppointmentStatus.CANCELLED, admin.id)
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.kind == AuditKind.APPOINTMENT_CANCELLED)
    )
    assert (event.actor_id, event.target_id, event.details["by_role"]) == (
        admin.id,
        appointment.id,
        "admin",
    )
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    cancellations = [m.payload for m in messages if m.payload["action"] == "BOOKING_CANCELLED"]
    assert sorted(p["to"] for p in cancellations) == sorted(
        [roster["james"].user.email, doctor.user.email]
    )
    assert {p["data"]["cancelled_by"] for p in cancellations} == {"the clinic"}

    newcomer = make.patient()
    rebooked = booking.book(newcomer, slot_id, actor=newcomer.user)
    db.session.commit()
    assert rebooked.slot_id == slot_id


def test_the_cancel_button_works_for_an_admin(client, db, admin, roster):
    page = client.get("/admin/appointments").get_data(as_text=True)
    action = f"/booking/appointments/{roster['d'].id}/cancel"
    assert f'action="{action}"' in page

    response = client.post(action)

    assert response.status_code == 302
    db.session.expire_all()
    cancelled = db.session.get(Appointment, roster["d"].id)
    assert (cancelled.status, cancelled.cancelled_by_id) == (AppointmentStatus.CANCELLED, admin.id)


def test_appointments_are_paginated_and_pages_keep_the_filter(app, client, make, admin):
    doctor, other = make.doctor(user__full_name="Busy Doctor"), make.doctor()
    start = utcnow() + timedelta(days=1)
    for n in range(app.config["PAGE_SIZE"] + 2):
        _appointment(make, doctor, make.patient(), start + timedelta(hours=n))
    _appointment(make, other, make.patient(), start)

    first = client.get("/admin/appointments?doctor=busy").get_data(as_text=True)
    assert len(table_rows(first, "data-table", "appointments")) == 1 + app.config["PAGE_SIZE"]
    assert "22 appointments found" in first
    assert 'href="/admin/appointments?page=2&amp;doctor=busy"' in first
    assert len(_ids(client, "?doctor=busy&page=2")) == 2


def _csv(client, query: str = "") -> list[list[str]]:
    response = client.get("/admin/appointments.csv" + query)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_csv_export_matches_the_filter(client, admin, roster):
    rows = _csv(client, "?doctor=grey&status=booked")

    assert rows[0] == [
        "id",
        "start",
        "end",
        "status",
        "doctor",
        "specialization",
        "patient",
        "patient_email",
        "booked_at",
        "cancelled_at",
        "cancelled_by",
        "notes",
        "cancel_reason",
        "patient_phone",
        "attendance_confirmed_at",
        "checked_in_at",
    ]
    d = roster["d"]
    assert len(rows) == 2
    assert rows[1][:8] == [
        str(d.id),
        d.start_at.isoformat(timespec="minutes"),
        d.end_at.isoformat(timespec="minutes"),
        "booked",
        "Meredith Grey",
        "Surgery",
        "James Wilson",
        "james@example.com",
    ]
    assert [int(row[0]) for row in _csv(client)[1:]] == _expect(roster, "d", "c", "b", "a")
    assert [int(row[0]) for row in _csv(client, "?patient=lisa")[1:]] == _expect(roster, "c", "a")


def test_csv_export_names_who_cancelled_and_why(client, db, admin, roster):
    booking.cancel(roster["b"].id, actor=admin, reason="=Doctor unwell")
    db.session.commit()

    row = next(r for r in _csv(client) if r[0] == str(roster["b"].id))
    assert (row[3], row[10], row[12]) == ("cancelled", "Ada Admin", "'=Doctor unwell")
    assert row[9] != ""


def test_csv_export_gives_the_desk_what_it_calls_and_checks(client, db, make, admin):
    """The call list of `?status=unconfirmed` needs the number; confirmation and arrival show."""
    start = (utcnow() + timedelta(hours=2)).replace(microsecond=0)
    patient = make.patient(user__phone="+1 555 0199")
    confirmed = _appointment(make, make.doctor(), patient, start)
    confirmed.attendance_confirmed_at = start - timedelta(hours=20)
    confirmed.checked_in_at = start - timedelta(minutes=10)
    waiting = _appointment(make, make.doctor(), make.patient(), start + timedelta(hours=1))
    db.session.commit()

    rows = {row[0]: row for row in _csv(client)[1:]}
    unconfirmed = _csv(client, "?status=unconfirmed")[1:]

    assert rows[str(confirmed.id)][13:] == [
        "'+1 555 0199",  # a spreadsheet would read +1 … as a formula: defused like any cell
        (start - timedelta(hours=20)).isoformat(timespec="minutes"),
        (start - timedelta(minutes=10)).isoformat(timespec="minutes"),
    ]
    assert rows[str(waiting.id)][14:] == ["", ""]
    assert [row[0] for row in unconfirmed] == [str(waiting.id)]


def test_csv_export_defuses_formulas(client, make, admin):
    patient = make.patient(user__full_name='=HYPERLINK("http://evil.example")')
    for notes in ("=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "plain -dash"):
        _appointment(make, make.doctor(), patient, utcnow() + timedelta(days=5), notes=notes)

    rows = _csv(client)[1:]

    assert {row[6] for row in rows} == {'\'=HYPERLINK("http://evil.example")'}
    assert sorted(row[11] for row in rows) == sorted(
        ["'=1+1", "'+SUM(A1)", "'-2", "'@cmd", "'\tx", "plain -dash"]
    )


def test_csv_export_refuses_bad_filters(client, admin):
    response = client.get("/admin/appointments.csv?date_from=yesterday")
    assert response.status_code == 400
    assert "date_from" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/admin/appointments", "/admin/appointments.csv"])
def test_query_count_does_not_grow_with_the_appointments(client, make, db, admin, roster, url):
    with count_queries(db.engine) as few:
        assert client.get(url).status_code == 200
    start = utcnow() + timedelta(days=4)
    for n in range(25):
        appointment = _appointment(make, make.doctor(), make.patient(), start + timedelta(hours=n))
        if n % 3 == 0:
            booking.cancel(appointment.id, actor=admin)
            db.session.commit()
    with count_queries(db.engine) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few) <= 3
