"""The main menu marks where the user is: the page itself, or the section a deeper page is in."""

import re

from tests.helpers import text_of


def current_links(response) -> list[tuple[str, str]]:
    """(label, aria-current) of each menu link marked current."""
    html = text_of(response)
    menu = html[html.index('aria-label="Main"') : html.index("</nav>")]
    found = re.findall(
        r'<a class="nav-link active" aria-current="(\w+)"\s+href="[^"]*">([^<]+)</a>', menu
    )
    return [(label, current) for current, label in found]


def test_a_page_of_the_menu_is_the_current_page(client, make, login_as):
    login_as(client, make.doctor().user)

    assert current_links(client.get("/doctor/availability")) == [("Availability", "page")]
    assert current_links(client.get("/doctor/")) == [("Dashboard", "page")]


def test_a_page_below_a_section_marks_the_section_not_the_dashboard(client, make, login_as):
    doctor = make.doctor()
    admin = make.admin()
    login_as(client, admin)

    schedule = client.get(f"/admin/users/{doctor.user.id}/availability")
    approve = client.get(f"/admin/users/{make.doctor(approved_at=None).user.id}/approve")

    assert current_links(schedule) == [("Users", "true")]
    assert current_links(approve) == [("Users", "true")]


def test_a_doctors_patient_record_is_under_patients(client, make, login_as):
    doctor, patient = make.doctor(), make.patient()
    make.appointment(slot=make.slot(doctor=doctor), patient=patient)
    login_as(client, doctor.user)

    record = client.get(f"/doctor/patients/{patient.id}")

    assert record.status_code == 200
    assert current_links(record) == [("Patients", "true")]
