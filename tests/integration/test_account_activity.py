"""Account holders read their own recent sign-ins and sign-in changes (`/auth/activity`)."""

from datetime import timedelta

import time_machine

from app.extensions import db as _db
from app.services.audit import AuditKind, record
from app.timeutil import utcnow
from tests.factories import PASSWORD
from tests.helpers import count_queries, table_rows


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
