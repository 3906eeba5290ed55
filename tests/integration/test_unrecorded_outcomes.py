"""Visits that ended while still "Booked": nobody said whether they happened. The doctor's
dashboard counts them and their appointments page lists them, to record each outcome (a missed
visit counts towards the no-show rule only once it is recorded)."""

from datetime import UTC, datetime, timedelta

import pytest

from app.models import PatientProfile
from tests.helpers import count_queries, text_of


def hours_from_now(hours: float) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)


@pytest.fixture
def doctor(make):
    return make.doctor(user__full_name="Dr. Ada Lovelace")


@pytest.fixture
def visits(make, doctor):
    """Two visits over and unrecorded (three days ago, and yesterday), one over and recorded, one
    cancelled, one in progress and one tomorrow; and another doctor's, over and unrecorded."""

    def visit(hours: float, status: str = "booked", name: str = "Patient", of=doctor):
        slot = make.slot(doctor=of, start_at=hours_from_now(hours))
        patient = make.patient(user__full_name=name)
        return make.appointment(slot=slot, patient=patient, status=status)

    return {
        "older": visit(-72, name="Olive Older"),
        "newer": visit(-24, name="Nora Newer"),
        "recorded": visit(-48, "completed", name="Carl Completed"),
        "cancelled": visit(-30, "cancelled", name="Cass Cancelled"),
        "now": visit(-0.25, name="Ian Inprogress"),
        "ahead": visit(24, name="Tom Tomorrow"),
        "others": visit(-24, name="Otto Other", of=make.doctor()),
    }


def test_the_dashboard_counts_them_in_the_same_statement(client, db, login_as, doctor, visits):
    login_as(client, doctor.user)

    with count_queries(db.engine) as queries:
        page = text_of(client.get("/doctor/"))

    assert "2 visits have ended without an outcome" in page
    assert 'href="/doctor/appointments?when=unrecorded"' in page
    # the figures are one statement, as they were before this one was added
    assert sum("count(" in q.lower() for q in queries) == 1


def test_the_list_has_them_the_latest_first_with_the_outcome_buttons(
    client, db, login_as, doctor, visits
):
    login_as(client, doctor.user)

    page = " ".join(text_of(client.get("/doctor/appointments?when=unrecorded")).split())

    assert 'aria-current="page" href="/doctor/appointments?when=unrecorded"' in page
    names = ["Nora Newer", "Olive Older"]
    assert [n for n in names if n in page] == names
    assert page.index("Nora Newer") < page.index("Olive Older")
    for name in ("Carl Completed", "Cass Cancelled", "Ian Inprogress", "Tom Tomorrow", "Otto"):
        assert name not in page, name
    assert page.count(">Completed</button>") == 2


def test_once_recorded_a_visit_leaves_the_list(client, db, login_as, doctor, visits):
    login_as(client, doctor.user)
    for visit in ("older", "newer"):
        url = f"/doctor/appointments/{visits[visit].id}/status"
        assert client.post(url, data={"status": "no_show"}).status_code == 302

    assert "ended without an outcome" not in text_of(client.get("/doctor/"))
    listing = text_of(client.get("/doctor/appointments?when=unrecorded"))
    assert "Every visit so far has its outcome recorded." in listing


def test_one_visit_reads_as_one(client, db, login_as, make, doctor):
    slot = make.slot(doctor=doctor, start_at=hours_from_now(-3))
    make.appointment(slot=slot)
    login_as(client, doctor.user)

    assert "1 visit has ended without an outcome" in text_of(client.get("/doctor/"))


def test_a_patients_list_has_no_such_tab(client, db, login_as, make, visits):
    patient = db.session.get(PatientProfile, visits["older"].patient_id)
    login_as(client, patient.user)

    page = " ".join(text_of(client.get("/patient/appointments?when=unrecorded")).split())

    assert "Outcome to record" not in page
    assert 'aria-current="page" href="/patient/appointments?when=upcoming"' in page
