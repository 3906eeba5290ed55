"""The front desk keeps a doctor's profile for them: closing their list to new patients while
they are away, a new biography or phone number. The audit trail names the desk; a patient's or
a missing account is not found."""

import re

from sqlalchemy import select

from app.extensions import db as _db
from app.models import AuditEvent, DoctorProfile, User
from tests.helpers import days_from_now, text_of

FORM = {
    "full_name": "Dr Ada Lovelace",
    "specialization": "Cardiology",
    "years_of_experience": "12",
    "bio": "Hearts and engines.",
    "phone": "+1 555 0142",
}


def url(user) -> str:
    return f"/admin/users/{user.id}/profile"


def test_the_desk_closes_a_doctors_list_for_them(client, login_as, make):
    desk = make.admin(full_name="Olivia Desk")
    doctor = make.doctor(user__full_name="Dr Ada Lovelace", specialization="Cardiology")
    newcomer = make.patient()
    slot = make.slot(doctor=doctor, start_at=days_from_now(5))
    login_as(client, desk)

    page = client.get(url(doctor.user))
    assert page.status_code == 200
    assert "Profile of Dr Ada Lovelace" in text_of(page)
    assert "appointment with this doctor can book online" in text_of(page)
    response = client.post(url(doctor.user), data={**FORM, "closed_to_new_patients": "y"})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/users?q={doctor.user.email}"
    assert "The profile of Dr Ada Lovelace is saved." in text_of(
        client.get(response.headers["Location"])
    )
    profile = _db.session.get(DoctorProfile, doctor.id)
    assert profile.closed_to_new_patients
    assert (profile.years_of_experience, profile.bio) == (12, "Hearts and engines.")
    assert _db.session.get(User, doctor.user.id).phone == "+1 555 0142"
    [event] = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "profile.updated")
    ).all()
    assert event.actor_id == desk.id and event.target_id == doctor.id
    assert event.details["fields"] == [
        "bio",
        "closed_to_new_patients",
        "phone",
        "years_of_experience",
    ]

    # the rule holds at once: a newcomer is refused online; the doctor sees their box ticked
    login_as(client, newcomer.user)
    assert client.post(f"/booking/slots/{slot.id}").status_code == 409
    login_as(client, doctor.user)
    own = client.get("/doctor/profile").get_data(as_text=True)
    assert "checked" in re.search(r'<input[^>]*name="closed_to_new_patients"[^>]*>', own).group(0)


def test_a_form_sent_without_the_box_opens_the_list_again(client, login_as, make):
    doctor = make.doctor(closed_to_new_patients=True)
    login_as(client, make.admin())

    assert client.post(url(doctor.user), data=FORM).status_code == 302

    assert not _db.session.get(DoctorProfile, doctor.id).closed_to_new_patients


def test_the_specialization_is_spelled_as_the_other_doctors_spell_it(client, login_as, make):
    make.doctor(specialization="Cardiology")
    doctor = make.doctor(specialization="General practice")
    login_as(client, make.admin())

    client.post(url(doctor.user), data={**FORM, "specialization": "  cardiology "})

    assert _db.session.get(DoctorProfile, doctor.id).specialization == "Cardiology"


def test_bad_fields_come_back_with_their_errors(client, login_as, make):
    doctor = make.doctor(user__full_name="Dr Grace Hopper")
    login_as(client, make.admin())

    response = client.post(
        url(doctor.user), data={**FORM, "full_name": "", "years_of_experience": "99"}
    )

    assert response.status_code == 400
    page = text_of(response)
    assert "This field is required." in page and "between 0 and 70" in page.lower()
    assert _db.session.get(User, doctor.user.id).full_name == "Dr Grace Hopper"
    assert _db.session.scalars(select(AuditEvent)).all() == []


def test_a_patient_or_a_missing_account_is_not_found(client, login_as, make):
    login_as(client, make.admin())

    assert client.get(url(make.patient().user)).status_code == 404
    assert client.post(url(make.patient().user), data=FORM).status_code == 404
    assert client.get("/admin/users/999999/profile").status_code == 404


def test_the_users_list_and_the_schedule_link_a_doctors_profile(client, login_as, make):
    patient, doctor = make.patient(), make.doctor()
    login_as(client, make.admin())

    listing = client.get("/admin/users").get_data(as_text=True)
    schedule = client.get(f"/admin/users/{doctor.user.id}/availability").get_data(as_text=True)

    assert url(doctor.user) in listing and url(doctor.user) in schedule
    assert url(patient.user) not in listing
