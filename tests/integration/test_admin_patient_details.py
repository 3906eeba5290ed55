"""The front desk takes down a caller's new details: the patient's card changes, the audit
trail names the desk, and a doctor's or a missing account is not found."""

from datetime import date

from sqlalchemy import select

from app.extensions import db as _db
from app.models import AuditEvent, User
from tests.helpers import text_of

FORM = {
    "full_name": "Rosa Parks",
    "date_of_birth": "1913-02-04",
    "phone": "+1 555 0177",
    "address": "12 Cleveland Ave, Montgomery",
    "emergency_contact": "Raymond, +1 555 0199",
}


def url(user) -> str:
    return f"/admin/users/{user.id}/details"


def test_the_desk_updates_a_callers_details(client, login_as, make):
    desk = make.admin(full_name="Olivia Desk")
    rosa = make.patient(user__full_name="Rosa McCauley", user__phone="+1 555 0100")
    login_as(client, desk)

    page = text_of(client.get(url(rosa.user)))
    assert "Details of Rosa McCauley" in page and "+1 555 0100" in client.get(
        url(rosa.user)
    ).get_data(as_text=True)
    response = client.post(url(rosa.user), data=FORM)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/users?q={rosa.user.email}"
    user = _db.session.get(User, rosa.user.id)
    assert (user.full_name, user.phone) == ("Rosa Parks", "+1 555 0177")
    profile = user.patient_profile
    assert profile.date_of_birth == date(1913, 2, 4)
    assert profile.address == "12 Cleveland Ave, Montgomery"
    assert profile.emergency_contact == "Raymond, +1 555 0199"
    [event] = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "profile.updated")
    ).all()
    assert event.actor_id == desk.id
    assert event.details["fields"] == sorted(
        ["address", "date_of_birth", "emergency_contact", "full_name", "phone"]
    )
    listing = text_of(client.get(response.headers["Location"]))
    assert "The details of Rosa Parks are saved." in listing


def test_bad_details_come_back_with_the_field_errors(client, login_as, make):
    rosa = make.patient()
    login_as(client, make.admin())

    response = client.post(url(rosa.user), data={**FORM, "date_of_birth": "2999-01-01"})

    assert response.status_code == 400
    assert "cannot be in the future" in text_of(response)
    assert _db.session.get(User, rosa.user.id).full_name != "Rosa Parks"


def test_a_doctor_or_a_missing_account_is_not_found(client, login_as, make):
    login_as(client, make.admin())

    assert client.get(url(make.doctor().user)).status_code == 404
    assert client.get("/admin/users/999999/details").status_code == 404


def test_the_users_list_links_a_patients_details_only(client, login_as, make):
    rosa, doctor = make.patient(), make.doctor()
    login_as(client, make.admin())

    page = client.get("/admin/users").get_data(as_text=True)

    assert url(rosa.user) in page
    assert url(doctor.user) not in page
