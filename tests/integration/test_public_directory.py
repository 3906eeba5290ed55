"""The doctor directory for anyone: a visitor choosing a clinic sees its doctors and their open
times, and a time chosen there brings them, once signed up or in, to its confirm page."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import User
from app.timeutil import utcnow
from tests.factories import PASSWORD
from tests.helpers import count_queries

DOCTOR_CELL = re.compile(r'<td data-label="Doctor"><a href="[^"]*">([^<]+)</a>')


def said(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def soon(hours: int):
    return utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=2, hours=hours)


@pytest.fixture
def clinic(make):
    """Dr. Byron with two open times and one booked; a doctor waiting for approval and a
    deactivated one, whom nobody may see."""
    byron = make.doctor(
        user__full_name="Dr. Ada Byron", specialization="Cardiology", bio="Heart rhythms."
    )
    free = [make.slot(doctor=byron, start_at=soon(h)) for h in (0, 1)]
    taken = make.slot(doctor=byron, start_at=soon(2))
    make.appointment(slot=taken, patient=make.patient())
    make.doctor(user__full_name="Dr. Skin Deep", specialization="Dermatology")
    waiting = make.doctor(user__full_name="Dr. Not Yet", approved_at=None)
    gone = make.doctor(user__full_name="Dr. Gone Away", user__active=False)
    return {"byron": byron, "free": free, "taken": taken, "hidden": [waiting, gone]}


def names(response) -> list[str]:
    return DOCTOR_CELL.findall(response.get_data(as_text=True))


def test_a_visitor_browses_and_searches_the_listed_doctors(client, clinic):
    everyone = client.get("/doctors")

    assert everyone.status_code == 200
    assert sorted(names(everyone)) == ["Dr. Ada Byron", "Dr. Skin Deep"]
    assert f'href="/doctors/{clinic["byron"].id}"' in everyone.get_data(as_text=True)
    assert "sign up" in said(everyone)
    assert names(client.get("/doctors?q=byron")) == ["Dr. Ada Byron"]
    assert names(client.get("/doctors?specialization=Dermatology")) == ["Dr. Skin Deep"]
    assert client.get("/doctors?day=2000-01-01").status_code == 400
    assert client.get("/doctors?q=" + "x" * 101).status_code == 400


def test_a_visitor_reads_a_doctors_page_and_its_open_times(client, clinic):
    byron = clinic["byron"]

    page = client.get(f"/doctors/{byron.id}")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Heart rhythms." in html and "Cardiology" in html
    for slot in clinic["free"]:
        assert f'href="/booking/slots/{slot.id}"' in html
    assert f"/booking/slots/{clinic['taken'].id}" not in html
    for hidden in clinic["hidden"]:
        assert client.get(f"/doctors/{hidden.id}").status_code == 404
    assert client.get("/doctors/999999").status_code == 404


def test_a_time_chosen_there_is_waiting_after_signing_up(client, db, clinic):
    slot = clinic["free"][0]

    asked = client.get(f"/booking/slots/{slot.id}")
    assert asked.status_code == 302
    login = asked.headers["Location"]
    assert login == f"/auth/login?next=/booking/slots/{slot.id}"
    signup_link = f"/auth/signup/patient?next=/booking/slots/{slot.id}"
    assert signup_link in client.get(login).get_data(as_text=True)
    form = {
        "full_name": "Grace Hopper",
        "email": "grace@example.com",
        "password": PASSWORD,
        "confirm_password": PASSWORD,
    }
    signed_up = client.post(signup_link, data=form)

    assert signed_up.status_code == 302
    assert signed_up.headers["Location"] == f"/booking/slots/{slot.id}"
    confirm = client.get(f"/booking/slots/{slot.id}")
    assert confirm.status_code == 200
    assert "Confirm booking" in said(confirm)
    assert db.session.scalar(select(User.email)) is not None


def test_a_next_to_another_site_is_ignored_after_signing_up(client, db):
    form = {
        "full_name": "Grace Hopper",
        "email": "grace@example.com",
        "password": PASSWORD,
        "confirm_password": PASSWORD,
    }

    signed_up = client.post("/auth/signup/patient?next=//evil.example/x", data=form)

    assert signed_up.status_code == 302
    assert signed_up.headers["Location"] == "/patient/"


def test_a_patient_is_sent_to_their_own_directory(client, make, login_as, clinic):
    login_as(client, make.patient().user)

    listing = client.get("/doctors?q=byron&page=1")
    page = client.get(f"/doctors/{clinic['byron'].id}")

    assert listing.status_code == 302
    assert listing.headers["Location"] == "/patient/doctors?q=byron&page=1"
    assert page.status_code == 302
    assert page.headers["Location"] == f"/patient/doctors/{clinic['byron'].id}"


@pytest.mark.parametrize("who", ["doctor", "admin"])
def test_staff_see_the_times_but_book_nothing_from_there(client, make, login_as, clinic, who):
    login_as(client, make.admin() if who == "admin" else make.doctor().user)

    page = client.get(f"/doctors/{clinic['byron'].id}")

    assert page.status_code == 200
    assert "Patients book them from their own account." in said(page)
    assert "/booking/slots/" not in page.get_data(as_text=True)


def test_the_public_pages_cost_the_same_queries_however_many_doctors(client, db, make):
    doctor = make.doctor()
    for h in range(3):
        make.slot(doctor=doctor, start_at=soon(h))
    with count_queries(db.engine) as few:
        assert client.get("/doctors").status_code == 200
        assert client.get(f"/doctors/{doctor.id}").status_code == 200
    for _ in range(15):
        other = make.doctor()
        make.slot(doctor=other, start_at=soon(0))
    for h in range(3, 20):
        make.slot(doctor=doctor, start_at=soon(h))
    with count_queries(db.engine) as many:
        assert client.get("/doctors").status_code == 200
        assert client.get(f"/doctors/{doctor.id}").status_code == 200
    assert len(many) == len(few) <= 8
