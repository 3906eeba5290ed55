"""Users: search, filters, pages, and switching accounts off and on."""

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Role, User
from app.services.audit import AuditKind
from tests.factories import PASSWORD
from tests.helpers import count_queries, table_rows


@pytest.fixture
def admin(client, make, login_as):
    admin = make.admin(full_name="Ada Admin", email="ada.admin@example.com")
    login_as(client, admin)
    return admin


def _names(client, query: str = "") -> list[str]:
    response = client.get("/admin/users" + query)
    assert response.status_code == 200
    rows = table_rows(response.get_data(as_text=True), "data-table", "users")
    return [row[0] for row in rows[1:]]


def test_search_by_name_or_email_and_filter_by_role_and_status(client, make, admin):
    make.doctor(user__full_name="Gregory House", user__email="greg@example.com")
    make.patient(user__full_name="Lisa Cuddy", user__email="boss@princeton.example")
    make.patient(user__full_name="James Wilson", user__email="jw@example.com", user__active=False)

    assert _names(client, "?q=house") == ["Gregory House"]
    assert _names(client, "?q=PRINCETON") == ["Lisa Cuddy"]
    assert sorted(_names(client, "?role=patient")) == ["James Wilson", "Lisa Cuddy"]
    assert _names(client, "?role=admin") == ["Ada Admin"]
    assert _names(client, "?status=inactive") == ["James Wilson"]
    assert _names(client, "?q=example.com&role=patient&status=active") == []
    assert _names(client, "?q=%25") == []  # LIKE wildcards are searched for literally


def test_an_unknown_role_is_a_400_with_the_error_next_to_the_field(client, admin):
    response = client.get("/admin/users?role=superuser")

    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_users_are_paginated_and_pages_keep_the_filter(app, client, make, admin):
    for n in range(app.config["PAGE_SIZE"] + 3):
        make.patient(user__full_name=f"Patient {n:02d}")
    make.doctor(user__full_name="Doctor Outside The Filter")

    first = client.get("/admin/users?role=patient").get_data(as_text=True)
    assert len(table_rows(first, "data-table", "users")) == 1 + app.config["PAGE_SIZE"]
    assert "23 users found" in first
    assert 'href="/admin/users?page=2&amp;role=patient"' in first

    second = _names(client, "?role=patient&page=2")
    assert len(second) == 3
    assert "Doctor Outside The Filter" not in second


def test_deactivation_ends_the_open_session_and_reactivation_allows_sign_in(
    app, client, make, db, login_as, admin
):
    patient = make.patient(user__email="pat@example.com").user
    stale = login_as(app.test_client(), patient)
    theirs = app.test_client()
    theirs.post("/auth/login", data={"email": "pat@example.com", "password": PASSWORD})
    assert theirs.get("/patient/").status_code == 200

    response = client.post(f"/admin/users/{patient.id}/deactivate")

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users"
    after = theirs.get("/patient/")
    assert after.status_code == 302
    assert after.headers["Location"].startswith("/auth/login")
    refused = theirs.post("/auth/login", data={"email": "pat@example.com", "password": PASSWORD})
    assert refused.status_code == 400
    assert theirs.get("/patient/").status_code == 302

    assert client.post(f"/admin/users/{patient.id}/activate").status_code == 302
    signed_in = theirs.post("/auth/login", data={"email": "pat@example.com", "password": PASSWORD})
    assert signed_in.status_code == 302
    assert theirs.get("/patient/").status_code == 200
    assert stale.get("/patient/").status_code == 302  # reactivation revives no old session

    events = db.session.execute(
        select(AuditEvent.kind, AuditEvent.actor_id, AuditEvent.target_id)
        .where(AuditEvent.kind.like("account.%"))
        .order_by(AuditEvent.id)
    ).all()
    assert events == [
        (AuditKind.ACCOUNT_DEACTIVATED, admin.id, patient.id),
        (AuditKind.ACCOUNT_ACTIVATED, admin.id, patient.id),
    ]


def test_deactivation_returns_to_the_filtered_list_it_came_from(client, make, admin):
    doctor = make.doctor().user

    response = client.post(
        f"/admin/users/{doctor.id}/deactivate", data={"next": "/admin/users?role=doctor"}
    )
    assert response.headers["Location"] == "/admin/users?role=doctor"

    elsewhere = client.post(
        f"/admin/users/{doctor.id}/activate", data={"next": "https://evil.example/"}
    )
    assert elsewhere.headers["Location"] == "/admin/users"


def test_an_admin_cannot_deactivate_themselves(client, db, admin):
    response = client.post(f"/admin/users/{admin.id}/deactivate")

    assert response.status_code == 409
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).active
    assert db.session.scalar(select(AuditEvent)) is None
    assert client.get("/admin/users").status_code == 200  # still signed in
    assert "This is you" in client.get("/admin/users").get_data(as_text=True)


def test_another_admin_can_be_deactivated(client, make, db, admin):
    other = make.admin()

    assert client.post(f"/admin/users/{other.id}/deactivate").status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, other.id).active


@pytest.mark.parametrize(
    ("action", "active", "status", "message"),
    [
        ("deactivate", False, 409, "is already deactivated"),
        ("activate", True, 409, "is already active"),
    ],
)
def test_repeating_a_change_is_refused(client, make, db, admin, action, active, status, message):
    user = make.user(active=active)

    response = client.post(f"/admin/users/{user.id}/{action}")

    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent)) is None


@pytest.mark.parametrize("action", ["deactivate", "activate"])
def test_unknown_accounts_are_404(client, admin, action):
    assert client.post(f"/admin/users/999999/{action}").status_code == 404


def test_the_list_offers_the_right_button_per_account(client, make, admin):
    active = make.user(role=Role.DOCTOR)
    inactive = make.user(role=Role.PATIENT, active=False)
    page = client.get("/admin/users").get_data(as_text=True)

    # deactivating asks first, on a page of its own; reactivating is one click
    assert f'href="/admin/users/{active.id}/deactivate?next=/admin/users?"' in page
    assert f'action="/admin/users/{inactive.id}/activate"' in page
    assert f"/admin/users/{admin.id}/deactivate" not in page


def test_query_count_does_not_grow_with_the_users(client, make, db, admin):
    make.doctor()
    with count_queries(db.engine) as few:
        assert client.get("/admin/users").status_code == 200
    for _ in range(30):
        make.doctor()
        make.patient()
    with count_queries(db.engine) as many:
        assert client.get("/admin/users").status_code == 200
    assert len(many) == len(few) <= 3
