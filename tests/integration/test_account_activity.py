"""Account holders read their own recent sign-ins and sign-in changes (`/auth/activity`)."""

from datetime import timedelta

import time_machine
from sqlalchemy import select

from app.extensions import db as _db
from app.models import User
from app.services.audit import AuditKind, record
from app.timeutil import utcnow
from tests.factories import PASSWORD
from tests.helpers import count_queries, table_rows
from tests.integration.test_two_step import turn_on


def rows(client) -> list[list[str]]:
    response = client.get("/auth/activity")
    assert response.status_code == 200
    return [
        [" ".join(cell.split()) for cell in row]
        for row in table_rows(response.get_data(as_text=True), "data-table", "activity")[1:]
    ]


def sign_in(client, email: str, password: str = PASSWORD, ip: str = "198.51.100.7"):
    client.environ_base["REMOTE_ADDR"] = ip  # every request of it: the session is bound to it
    return client.post("/auth/login", data={"email": email, "password": password})


def test_sign_ins_refusals_and_changes_show_newest_first_with_their_address(app, make):
    grace = make.patient(user__email="grace@example.com").user
    make.patient(user__email="other@example.com")
    stranger, owner = app.test_client(), app.test_client()
    earlier = utcnow() - timedelta(minutes=5)
    with time_machine.travel(earlier, tick=False):
        sign_in(stranger, "grace@example.com", "not her password", ip="203.0.113.9")
    with time_machine.travel(earlier + timedelta(minutes=1), tick=False):
        sign_in(stranger, "other@example.com", "not theirs either", ip="203.0.113.9")
    assert sign_in(owner, "grace@example.com").status_code == 302

    seen = rows(owner)

    assert [row[1:] for row in seen] == [
        ["Signed in", "198.51.100.7"],
        ["Sign-in refused: wrong password", "203.0.113.9"],
    ]
    assert grace.email in owner.get("/auth/activity").get_data(as_text=True)


def test_changes_to_how_they_sign_in_are_listed_but_not_other_events(client, make, login_as):
    doctor = make.doctor().user
    login_as(client, doctor)
    start = utcnow() - timedelta(minutes=10)
    for minutes, kind, details in [
        (0, AuditKind.TWO_STEP_ENABLED, {}),
        (1, AuditKind.LOGIN_SUCCESS, {"second_step": "recovery_code"}),
        (2, AuditKind.SLOT_CREATED, {}),  # not about signing in
        (3, AuditKind.LOGIN_FAILURE, {"reason": "two_step"}),
        (4, AuditKind.ACCOUNT_EMAIL_CHANGED, {"new": "new@example.com"}),
    ]:
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            record(kind, actor=doctor, target=doctor, ip_address="192.0.2.1", **details)
    _db.session.commit()

    assert [row[1] for row in rows(client)] == [
        "Sign-in email changed: new@example.com",
        "Sign-in refused: wrong or used two-step code",
        "Signed in with a recovery code",
        "Two-step sign-in turned on",
    ]


def test_the_page_shows_the_latest_twenty_in_one_query_however_long_the_trail(
    client, db, make, login_as
):
    patient = make.patient().user
    login_as(client, patient)
    record(AuditKind.LOGIN_SUCCESS, actor=patient, target=patient)
    db.session.commit()
    with count_queries(db.engine) as few:
        assert len(rows(client)) == 1
    for _ in range(30):
        record(AuditKind.LOGIN_FAILURE, actor=patient, ip_address="203.0.113.9")
    db.session.commit()
    with count_queries(db.engine) as many:
        assert len(rows(client)) == 20
    assert len(many) == len(few)


def test_what_the_desk_did_to_an_account_is_its_owners_not_the_admins(app, make, login_as):
    """A caller's sign-in email changed and two-step sign-in turned off by an administrator (the
    front desk may not): the caller reads both, said to be the administrator's doing; the
    admin's own list stays their own."""
    patient = make.patient(user__email="caller@example.com").user
    turn_on(patient)
    desk = app.test_client()
    desk.environ_base["REMOTE_ADDR"] = "192.0.2.80"  # before signing in: sessions keep to it
    login_as(desk, make.admin())
    changed = desk.post(f"/admin/users/{patient.id}/email", data={"email": "new@example.com"})
    assert changed.headers["Location"].startswith("/admin/users")
    turned_off = desk.post(f"/admin/users/{patient.id}/two-step/off")
    assert turned_off.headers["Location"].startswith("/admin/users")

    caller = login_as(app.test_client(), patient)
    assert [row[1:] for row in rows(caller)] == [
        ["Two-step sign-in turned off by an administrator", "192.0.2.80"],
        ["Sign-in email changed by an administrator: new@example.com", "192.0.2.80"],
    ]
    assert rows(desk) == []


def test_an_account_begins_with_its_creation_and_a_sign_up_is_its_first_sign_in(
    app, client, make, login_as
):
    client.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    signed_up = client.post(
        "/auth/signup/patient",
        data={
            "full_name": "Lena Fischer",
            "email": "lena@example.com",
            "password": "correct-horse-2026",
            "confirm_password": "correct-horse-2026",
        },
    )
    assert signed_up.headers["Location"] == "/patient/"

    assert [row[1:] for row in rows(client)] == [
        ["Signed in", "198.51.100.20"],
        ["Account created", "198.51.100.20"],
    ]
    desk = login_as(app.test_client(), make.desk())
    listed = table_rows(
        desk.get("/admin/users?q=lena@example.com").get_data(as_text=True), "data-table", "users"
    )
    assert "Never" not in " ".join(listed[1])  # its last sign-in is the sign-up's


def test_a_patient_the_desk_registered_reads_that_the_desk_made_the_account(app, make, login_as):
    desk = login_as(app.test_client(), make.desk())
    registered = desk.post(
        "/admin/patients/new", data={"full_name": "Ravi Menon", "email": "ravi@example.com"}
    )
    assert registered.headers["Location"].endswith("/book")  # on to choosing their doctor
    assert rows(desk) == []  # the admin made an account, not theirs

    ravi = _db.session.scalar(select(User).where(User.email == "ravi@example.com"))
    assert [row[1] for row in rows(login_as(app.test_client(), ravi))] == [
        "Account created by the front desk"
    ]
