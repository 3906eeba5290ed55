"""List pages run a fixed number of SQL queries however much they list (no N+1)."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import count_queries

MAX_QUERIES = 8


def hours_from_now(hours: float) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)


def queries_for(client, db, url: str) -> int:
    with count_queries(db.engine) as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements)


def add_doctors(make, count: int) -> None:
    for _ in range(count):
        doctor = make.doctor()
        make.slot(doctor=doctor, start_at=hours_from_now(30))
        make.slot(doctor=doctor, start_at=hours_from_now(40))
        make.appointment(slot=make.slot(doctor=doctor, start_at=hours_from_now(20)))


def test_doctor_list_queries_do_not_grow_with_doctors(client, db, make, login_as):
    login_as(client, make.patient().user)
    add_doctors(make, 3)
    few = queries_for(client, db, "/patient/doctors")
    add_doctors(make, 27)
    many = queries_for(client, db, "/patient/doctors")
    filtered = queries_for(client, db, "/patient/doctors?q=a&specialization=Cardiology&page=1")
    add_doctors(make, 30)
    more = queries_for(client, db, "/patient/doctors?page=2")

    assert many == more <= MAX_QUERIES
    assert few == filtered == many - 1  # a page that is not full tells the total: no count


def add_slots(make, doctor, count: int, offset: int) -> None:
    for n in range(count):
        slot = make.slot(doctor=doctor, start_at=hours_from_now(24 + offset + n))
        if n % 4 == 0:
            make.appointment(slot=slot)


def test_doctor_page_queries_do_not_grow_with_slots(client, db, make, login_as):
    login_as(client, make.patient().user)
    doctor = make.doctor()
    add_slots(make, doctor, 5, 0)
    few = queries_for(client, db, f"/patient/doctors/{doctor.id}")
    add_slots(make, doctor, 45, 100)
    many = queries_for(client, db, f"/patient/doctors/{doctor.id}")

    assert few == many
    assert many <= MAX_QUERIES


def add_appointments(make, doctor, patient, count: int, offset: int) -> None:
    for n in range(count):
        hours = (1 if n % 2 else -1) * (30 + offset + n)
        # every third one is another patient's (the doctor's list shows several patients)
        owner = {"patient": patient} if n % 3 else {"patient__user__full_name": f"Other {n}"}
        make.appointment(
            slot=make.slot(doctor=doctor, start_at=hours_from_now(hours)),
            notes=f"note {n}",
            **owner,
        )


@pytest.mark.parametrize(
    ("role", "urls"),
    [
        (
            "doctor",
            [
                "/doctor/",
                "/doctor/appointments",
                "/doctor/appointments?when=past",
                "/doctor/appointments?when=unrecorded",
            ],
        ),
        ("doctor", ["/doctor/availability"]),
        ("patient", ["/patient/", "/patient/appointments", "/patient/appointments?when=past"]),
    ],
)
def test_appointment_and_slot_lists_do_not_grow(client, db, make, login_as, role, urls):
    doctor, patient = make.doctor(), make.patient()
    login_as(client, doctor.user if role == "doctor" else patient.user)
    add_appointments(make, doctor, patient, 3, 0)
    few = [queries_for(client, db, url) for url in urls]
    add_appointments(make, doctor, patient, 30, 100)
    add_slots(make, doctor, 10, 500)
    many = [queries_for(client, db, url) for url in urls]

    assert few == many
    assert max(many) <= MAX_QUERIES
