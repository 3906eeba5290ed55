"""One specialty, one spelling: "cardiology " typed at sign-up joins the "Cardiology" doctors,
so a patient filtering by it finds every one of them."""

import pytest
from sqlalchemy import select

from app.models import DoctorProfile, User
from app.services import profiles
from tests.helpers import text_of
from tests.integration.test_auth import DOCTOR_FORM


def signed_up_as(client, db, specialization: str) -> str:
    response = client.post(
        "/auth/signup/doctor", data={**DOCTOR_FORM, "specialization": specialization}
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "jane.doe@example.com"))
    return user.doctor_profile.specialization


def test_a_new_doctor_joins_the_spelling_the_clinic_uses(client, db, make, login_as):
    make.doctor(specialization="Cardiology", user__full_name="Dr. First")

    assert signed_up_as(client, db, "  cardiology ") == "Cardiology"

    login_as(client, make.patient().user)
    page = client.get("/patient/doctors?specialization=Cardiology")
    assert "Dr. First" in text_of(page) and "Dr. Jane Doe" in text_of(page)
    assert text_of(page).count('value="Cardiology"') == 1  # one choice in the filter


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("sports   medicine", "Sports medicine"),  # a new one: spaces tidied, a capital first
        ("ENT", "ENT"),  # as typed when not all lowercase
        ("von Willebrand clinic", "von Willebrand clinic"),
    ],
)
def test_a_new_specialty_keeps_the_doctors_spelling(client, db, typed, kept):
    assert signed_up_as(client, db, typed) == kept


def test_the_most_common_spelling_wins_over_an_old_variant(db, make):
    make.doctor(specialization="dermatology")
    for _ in range(2):
        make.doctor(specialization="Dermatology")

    assert profiles.listed_specialization("DERMATOLOGY") == "Dermatology"


def test_a_profile_edit_is_matched_but_a_doctor_alone_may_respell_theirs(
    client, db, make, login_as
):
    make.doctor(specialization="Dermatology")
    me = make.doctor(specialization="Ear, nose and throat")
    login_as(client, me.user)
    form = {
        "full_name": me.user.full_name,
        "years_of_experience": "5",
        "bio": "",
        "phone": "",
    }

    assert client.post("/doctor/profile", data={**form, "specialization": "ENT"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(DoctorProfile, me.id).specialization == "ENT"  # not kept to its old self

    client.post("/doctor/profile", data={**form, "specialization": "dermatology"})
    db.session.expire_all()
    assert db.session.get(DoctorProfile, me.id).specialization == "Dermatology"


def test_the_forms_suggest_the_specialties_doctors_use(client, make, login_as):
    make.doctor(specialization="Cardiology")
    make.doctor(specialization="Pediatrics")
    make.doctor(specialization="Oncology", user__active=False)  # no longer listed

    for url in ("/auth/signup/doctor", None):
        if url is None:
            login_as(client, make.doctor(specialization="Cardiology").user)
            url = "/doctor/profile"
        html = text_of(client.get(url))
        assert 'list="specialization-choices"' in html
        datalist = html.split('<datalist id="specialization-choices">')[1].split("</datalist>")[0]
        assert datalist == (
            '<option value="Cardiology"></option><option value="Pediatrics"></option>'
        )
        assert "the field suggests them" in html


def test_with_no_doctors_yet_the_help_gives_examples(client):
    html = text_of(client.get("/auth/signup/doctor"))
    assert "For example: Cardiology, Dermatology, General practice." in html
