"""The audit trail: every audited action lands in it, the admin can filter it and nobody can
change it (no route does; on PostgreSQL the database itself refuses)."""

import csv
import io
import json
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from app.models import AuditEvent
from app.services import availability, booking
from app.services.audit import AuditKind, record
from app.timeutil import local_today
from tests.factories import PASSWORD
from tests.helpers import count_queries, table_rows, url_rules

SIGNUP = {
    "full_name": "Nora Newcomer",
    "email": "nora@example.com",
    "password": "a long and unusual passphrase",
    "confirm_password": "a long and unusual passphrase",
}


@pytest.fixture
def admin(client, make, login_as):
    admin = make.admin(full_name="Ada Admin", email="ada.admin@example.com")
    login_as(client, admin)
    return admin


def _rows(client, query: str = "") -> list[list[str]]:
    response = client.get("/admin/audit" + query)
    assert response.status_code == 200
    return table_rows(response.get_data(as_text=True), "data-table", "audit")[1:]


def test_every_audited_action_appears_in_the_trail(app, client, make, db, admin):
    visitor = app.test_client()
    assert visitor.post("/auth/signup/patient", data=SIGNUP).status_code == 302
    stranger = app.test_client()
    wrong = {"email": "nora@example.com", "password": "not the password"}
    assert stranger.post("/auth/login", data=wrong).status_code == 400
    doctor = make.doctor(user__full_name="Dr Strange", user__email="strange@example.com")
    assert (
        stranger.post(
            "/auth/login", data={"email": "strange@example.com", "password": PASSWORD}
        ).status_code
        == 302
    )

    day = local_today() + timedelta(days=3)
    kept = availability.create_slot(doctor, day, time(10), time(10, 30), actor=doctor.user)
    gone = availability.create_slot(doctor, day, time(11), time(11, 30), actor=doctor.user)
    db.session.commit()
    availability.delete_slot(doctor, gone.id, actor=doctor.user)
    patient = make.patient(user__full_name="Pat Patient", user__email="pat@example.com")
    appointment = booking.book(patient, kept.id, actor=patient.user)
    db.session.commit()
    booking.cancel(appointment.id, actor=doctor.user)
    db.session.commit()
    assert client.post(f"/admin/users/{patient.user.id}/deactivate").status_code == 302
    assert client.post(f"/admin/users/{patient.user.id}/activate").status_code == 302

    expected = {
        AuditKind.SIGNUP: "nora@example.com",
        AuditKind.LOGIN_FAILURE: "nora@example.com",
        AuditKind.LOGIN_SUCCESS: "strange@example.com",
        AuditKind.SLOT_CREATED: "strange@example.com",
        AuditKind.SLOT_DELETED: "strange@example.com",
        AuditKind.APPOINTMENT_BOOKED: "pat@example.com",
        AuditKind.APPOINTMENT_CANCELLED: "strange@example.com",
        AuditKind.ACCOUNT_DEACTIVATED: "ada.admin@example.com",
        AuditKind.ACCOUNT_ACTIVATED: "ada.admin@example.com",
    }
    for kind, actor in expected.items():
        rows = _rows(client, f"?kind={kind}")
        assert rows, kind
        assert all(row[2] == kind for row in rows), kind
        assert actor in rows[0][1], kind

    cancelled = _rows(client, f"?kind={AuditKind.APPOINTMENT_CANCELLED}")[0]
    assert cancelled[3] == f"Appointment #{appointment.id}"
    assert "by_role=doctor" in cancelled[4]
    deactivated = _rows(client, f"?kind={AuditKind.ACCOUNT_DEACTIVATED}")[0]
    assert deactivated[1] == "Ada Admin ada.admin@example.com"
    assert deactivated[3] == f"User #{patient.user.id}"


def _event(kind, actor=None, at=None, ip=None, **details):
    event = record(kind, actor=actor, ip_address=ip, **details)
    if at is not None:
        event.created_at = at
    return event


def test_newest_first_and_every_filter(app, client, make, db, admin, monkeypatch):
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", "Europe/Paris")
    doctor = make.doctor(user__full_name="Dr Who", user__email="who@example.com").user
    _event(AuditKind.LOGIN_SUCCESS, doctor, datetime(2026, 3, 1, 9, tzinfo=UTC), "10.0.0.1")
    _event(AuditKind.SLOT_CREATED, doctor, datetime(2026, 3, 2, 9, tzinfo=UTC), "10.0.0.1")
    # 23:30 UTC on 2 March is 00:30 on 3 March in Paris
    _event(AuditKind.LOGIN_SUCCESS, admin, datetime(2026, 3, 2, 23, 30, tzinfo=UTC), "10.0.0.2")
    ghost = record(AuditKind.LOGIN_FAILURE, actor_email="ghost@example.com", ip_address="10.9.9.9")
    ghost.created_at = datetime(2026, 3, 4, 9, tzinfo=UTC)
    db.session.commit()

    def kinds(query: str = "") -> list[str]:
        return [row[2] for row in _rows(client, query)]

    assert kinds() == ["login.failure", "login.success", "slot.created", "login.success"]
    assert _rows(client)[0][0] == "2026-03-04 10:00:00"  # shown in the clinic's zone
    assert kinds("?actor=dr who") == ["slot.created", "login.success"]
    assert kinds("?actor=ghost@") == ["login.failure"]
    assert kinds("?kind=login.success") == ["login.success", "login.success"]
    assert kinds("?q=10.0.0.2") == ["login.success"]
    assert kinds("?date_from=2026-03-03&date_to=2026-03-03") == ["login.success"]
    assert kinds("?date_to=2026-03-02") == ["slot.created", "login.success"]
    assert kinds("?actor=who&kind=login.success&date_from=2026-03-01") == ["login.success"]


def _csv(client, query: str = "") -> list[list[str]]:
    response = client.get("/admin/audit.csv" + query)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert 'filename="audit-' in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_trail_exports_as_csv_under_the_pages_filters(client, make, db, admin):
    doctor = make.doctor(user__full_name="Dr Who", user__email="who@example.com").user
    _event(AuditKind.SLOT_CREATED, doctor, datetime(2026, 3, 2, 9, tzinfo=UTC), "10.0.0.1")
    ghost = record(AuditKind.LOGIN_FAILURE, actor_email="=ghost@example.com", ip_address="10.9.9.9")
    ghost.created_at = datetime(2026, 3, 4, 9, tzinfo=UTC)
    record(AuditKind.CLINIC_CLOSED, actor=admin, day="2026-03-09", removed=3)
    db.session.commit()

    rows = _csv(client)
    who = _csv(client, "?actor=dr+who")

    assert rows[0] == [
        "id",
        "at",
        "kind",
        "actor_name",
        "actor_email",
        "target_type",
        "target_id",
        "ip_address",
        "details",
    ]
    assert [row[2] for row in rows[1:]] == ["clinic.closed", "login.failure", "slot.created"]
    closed, failure, slot = rows[1:]
    assert (closed[3], closed[4]) == ("Ada Admin", "ada.admin@example.com")
    assert json.loads(closed[8]) == {"day": "2026-03-09", "removed": 3}
    assert failure[4] == "'=ghost@example.com"  # a formula, defused
    assert failure[7] == "10.9.9.9"
    assert slot[1] == "2026-03-02T09:00:00+00:00"  # the clinic's zone (UTC in the suite)
    assert [row[2] for row in who[1:]] == ["slot.created"]
    assert 'href="/admin/audit.csv?actor=dr+who"' in client.get(
        "/admin/audit?actor=dr+who&page=1"
    ).get_data(as_text=True)
    assert client.get("/admin/audit.csv?kind=made.up").status_code == 400


def test_an_unknown_kind_is_a_400(client, admin):
    response = client.get("/admin/audit?kind=made.up")
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_the_kind_filter_offers_every_audit_kind(client, admin):
    page = client.get("/admin/audit").get_data(as_text=True)
    for kind in AuditKind.all():
        assert f'<option value="{kind}">' in page


def test_the_audit_trail_is_paginated(app, client, db, admin):
    for n in range(app.config["PAGE_SIZE"] + 4):
        record(AuditKind.LOGIN_FAILURE, actor_email=f"guess{n}@example.com")
    db.session.commit()

    first = client.get("/admin/audit?kind=login.failure").get_data(as_text=True)
    assert f"{app.config['PAGE_SIZE'] + 4} events found" in first
    assert 'href="/admin/audit?page=2&amp;kind=login.failure"' in first
    assert len(_rows(client, "?kind=login.failure&page=2")) == 4


def test_no_route_can_change_the_trail(client, admin):
    audit_rules = [rule for rule in url_rules() if rule.rule.startswith("/admin/audit")]
    assert audit_rules
    assert all(rule.methods <= {"GET", "HEAD", "OPTIONS"} for rule in audit_rules)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.open("/admin/audit", method=method).status_code == 405


def test_query_count_does_not_grow_with_the_events(client, make, db, admin):
    with count_queries(db.engine) as few:
        assert client.get("/admin/audit").status_code == 200
    for _ in range(15):
        user = make.doctor().user
        record(AuditKind.LOGIN_SUCCESS, actor=user, ip_address="10.0.0.1")
        record(AuditKind.LOGIN_FAILURE, actor_email="nobody@example.com")
    db.session.commit()
    with count_queries(db.engine) as many:
        assert client.get("/admin/audit").status_code == 200
    assert len(many) == len(few) <= 3


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEvent).values(kind="rewritten"),
        text("UPDATE audit_events SET details = '{}'"),
        text("DELETE FROM audit_events"),
    ],
    ids=["orm-update", "sql-update", "sql-delete"],
)
def test_postgres_refuses_to_change_audit_events(db, make, statement):
    record(AuditKind.LOGIN_FAILURE, actor_email="someone@example.com")
    db.session.commit()

    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(statement)
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent.kind)) == AuditKind.LOGIN_FAILURE


@pytest.mark.postgres
def test_postgres_refuses_to_delete_an_event_through_the_orm(db):
    event = record(AuditKind.LOGIN_FAILURE, actor_email="someone@example.com")
    db.session.commit()

    db.session.delete(event)
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.flush()
    db.session.rollback()


@pytest.mark.postgres
def test_truncate_still_empties_the_table_for_the_test_suite(db):
    """The suite's cleanup uses TRUNCATE, which fires no row trigger."""
    record(AuditKind.LOGIN_FAILURE, actor_email="someone@example.com")
    db.session.commit()

    with db.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_events"))
        assert conn.execute(select(func.count()).select_from(AuditEvent)).scalar() == 0
