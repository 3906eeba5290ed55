"""The administrator adds a front-desk account: its owner chooses the password from an emailed
link, signs in to the desk's pages, and the audit trail says who added it."""

import re

from sqlalchemy import select

from app.extensions import db as _db
from app.models import AuditEvent, OutboxMessage, Role, User
from tests.helpers import text_of

PASSWORD = "a long and unusual passphrase"


def test_the_admin_adds_a_receptionist_who_chooses_a_password_and_signs_in(client, login_as, make):
    admin = make.admin()
    login_as(client, admin)
    assert "Add a front-desk account" in text_of(client.get("/admin/users"))

    response = client.post(
        "/admin/staff/new", data={"full_name": "Olivia Desk", "email": "Olivia@Clinic.example"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users?q=olivia@clinic.example"
    assert "Olivia Desk has a front-desk account." in text_of(
        client.get(response.headers["Location"])
    )
    desk = _db.session.scalar(select(User).where(User.email == "olivia@clinic.example"))
    assert desk.role == Role.DESK
    [event] = _db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "signup")).all()
    assert (event.actor_id, event.target_id, event.details["role"]) == (admin.id, desk.id, "desk")
    [invite] = _db.session.scalars(select(OutboxMessage)).all()
    assert (invite.payload["action"], invite.payload["to"]) == ("STAFF_INVITE", desk.email)

    link = invite.payload["data"]["set_password_url"]
    path = re.sub(r"^https?://[^/]+", "", link)
    client.post("/auth/logout")
    chosen = client.post(path, data={"new_password": PASSWORD, "confirm_password": PASSWORD})
    assert chosen.status_code == 302
    signed_in = client.post("/auth/login", data={"email": desk.email, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert client.get("/").headers["Location"] == "/admin/appointments"
    assert client.get("/admin/staff/new").status_code == 403  # the desk adds nobody


def test_an_address_with_an_account_is_refused(client, login_as, make):
    patient = make.patient(user__email="taken@example.com")
    login_as(client, make.admin())

    response = client.post(
        "/admin/staff/new", data={"full_name": "Someone", "email": "Taken@Example.com"}
    )

    assert response.status_code == 400
    assert "An account with this email already exists." in text_of(response)
    _db.session.expire_all()
    assert _db.session.get(User, patient.user_id).role == Role.PATIENT
