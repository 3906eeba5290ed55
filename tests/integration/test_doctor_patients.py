"""A doctor's patient list: everyone who has had an appointment with them, by name, with their
last and next appointment and completed visits; nobody else's patients; searchable; a fixed
number of statements however many there are."""

from datetime import timedelta

import pytest

from app.models import AppointmentStatus
from app.timeutil import utcnow
from tests.helpers import count_queries, table_rows

URL = "/doctor/patients"


def listed(html: str) -> list[list[str]]:
    """The list's rows, without its header."""
    return table_rows(html, "data-table", "patients")[1:]


def hours(offset: float):
    return (utcnow() + timedelta(hours=offset)).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def practice(make):
    doctor = make.doctor()

    def visit(patient, start, status=AppointmentStatus.BOOKED, with_doctor=doctor):
        slot = make.slot(doctor=with_doctor, start_at=start)
        return make.appointment(slot=slot, patient=patient, status=status)

    ada = make.patient(user__full_name="Ada Lovelace", user__phone="+1 555 0111")
    visit(ada, hours(-24 * 30), AppointmentStatus.COMPLETED)
    visit(ada, hours(-24 * 10), AppointmentStatus.COMPLETED)
    visit(ada, hours(-24 * 2), AppointmentStatus.CANCELLED)  # not her last appointment
    visit(ada, hours(48))
    visit(ada, hours(24), AppointmentStatus.CANCELLED)  # not her next one
    bea = make.patient(user__full_name="Bea Cancelled")
    visit(bea, hours(72), AppointmentStatus.CANCELLED)  # still one of the doctor's patients
    stranger = make.patient(user__full_name="Cy Elsewhere")
    visit(stranger, hours(30), with_doctor=make.doctor())
    return doctor, ada, visit


def test_the_doctor_sees_their_patients_with_last_and_next(client, login_as, practice):
    doctor, ada, _ = practice
    login_as(client, doctor.user)

    response = client.get(URL)

    assert response.status_code == 200
    rows = listed(response.get_data(as_text=True))
    assert [row[0].split(" Born")[0] for row in rows] == ["Ada Lovelace", "Bea Cancelled"]
    ada_row = rows[0]
    assert ada_row[1] == "+1 555 0111"
    assert ada_row[2] == "2"
    assert ada_row[3].startswith(f"{hours(-24 * 10):%a %d %b %Y}")
    assert ada_row[4].startswith(f"{hours(48):%a %d %b %Y}")
    assert rows[1][2:] == ["0", "—", "—"]
    assert f'href="/doctor/patients/{ada.id}"' in response.get_data(as_text=True)
    assert "Cy Elsewhere" not in response.get_data(as_text=True)


def test_a_name_search_narrows_it(client, login_as, practice):
    doctor, _, _ = practice
    login_as(client, doctor.user)

    found = client.get(URL + "?q=lovel").get_data(as_text=True)
    none = client.get(URL + "?q=Elsewhere").get_data(as_text=True)

    assert [r[0].split(" Born")[0] for r in listed(found)] == ["Ada Lovelace"]
    assert "None of your patients is named like “Elsewhere”." in none
    assert client.get(URL + "?q=" + "x" * 101).status_code == 400


def test_the_list_sends_the_same_statements_however_many_patients(
    client, db, login_as, make, practice
):
    doctor, _, visit = practice
    login_as(client, doctor.user)
    with count_queries(db.engine) as few:
        assert client.get(URL).status_code == 200
    for n in range(25):
        visit(make.patient(), hours(-24 * (n + 3) - 5), AppointmentStatus.COMPLETED)
    with count_queries(db.engine) as many:
        page = client.get(URL).get_data(as_text=True)

    assert len(listed(page)) == 20  # PAGE_SIZE
    assert "/doctor/patients?page=2" in page
    assert len(many) == len(few) + 1  # the count: a full page cannot tell the total


def test_the_menu_leads_there(client, login_as, practice):
    login_as(client, practice[0].user)
    assert 'href="/doctor/patients"' in client.get("/doctor/").get_data(as_text=True)
