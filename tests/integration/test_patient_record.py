"""A doctor opens one of their patients: who they are, and every appointment the two have had.

Only their own patients: a doctor cannot look up the clinic's others, nor see the visits a patient
has had with someone else."""

from datetime import UTC, datetime, timedelta

import pytest

from app.services import booking
from tests.helpers import count_queries, days_from_now, text_of


@pytest.fixture
def doctor(client, make, login_as):
    doctor = make.doctor(user__full_name="Dr. Ada Lovelace")
    login_as(client, doctor.user)
    return doctor


@pytest.fixture
def grace(make):
    return make.patient(
        user__full_name="Grace Hopper",
        user__email="grace@example.com",
        user__phone="+1 555 0142",
        date_of_birth=datetime(1970, 12, 9).date(),
        emergency_contact="Vincent Hopper, +1 555 0143",
    )


def visit(make, doctor, patient, days: float, status: str = "booked", **fields):
    slot = make.slot(doctor=doctor, start_at=days_from_now(days))
    return make.appointment(slot=slot, patient=patient, status=status, **fields)


def record_url(patient) -> str:
    return f"/doctor/patients/{patient.id}"


def test_the_record_shows_the_patient_and_every_visit_with_this_doctor(
    client, db, make, doctor, grace
):
    first = visit(make, doctor, grace, -60, "completed", notes="Chest pain on stairs")
    visit(make, doctor, grace, -30, "completed")
    visit(make, doctor, grace, -10, "no_show")
    dropped = visit(make, doctor, grace, 5)
    booking.cancel(dropped.id, actor=grace.user, reason="Feeling better")
    db.session.commit()
    visit(make, doctor, grace, 12, notes="Follow-up")
    visit(make, make.doctor(), grace, 3, notes="Seen by someone else")

    response = client.get(record_url(grace))

    assert response.status_code == 200
    html = text_of(response)
    assert '<h1 class="h2 mb-1">Grace Hopper</h1>' in html
    since = first.start_at.strftime("%a %d %b %Y")
    assert f"Your patient since {since} · 2 visits · 1 no-show · 1 cancelled · 1 booked" in html
    for shown in ("9 December 1970", "tel:+15550142", "mailto:grace@example.com", "Vincent"):
        assert shown in html
    assert "Chest pain on stairs" in html and "Follow-up" in html
    assert "by the patient: <q>Feeling better</q>" in html
    assert "Seen by someone else" not in html  # another doctor's visit
    assert html.count('data-label="Status"') == 5  # one row per visit with this doctor
    assert 'data-label="Patient"' not in html  # it is the page's subject, not a column
    when = [days_from_now(d).strftime("%d %b %Y") for d in (12, 5, -10, -30, -60)]
    table = html[html.index("<table") :]
    positions = [table.index(w) for w in when]
    assert positions == sorted(positions)  # the latest first


def test_the_record_offers_the_visits_buttons(client, db, make, doctor, grace):
    upcoming = visit(make, doctor, grace, 4)
    started = make.appointment(
        slot=make.slot(
            doctor=doctor, start_at=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
        ),
        patient=grace,
    )

    html = text_of(client.get(record_url(grace)))

    assert f'action="/booking/appointments/{upcoming.id}/cancel"' in html
    assert f'action="/doctor/appointments/{started.id}/status"' in html


def test_a_patient_never_seen_by_this_doctor_is_not_found(client, make, doctor, grace):
    visit(make, make.doctor(), grace, 3)  # another doctor's patient

    assert client.get(record_url(grace)).status_code == 404
    assert client.get("/doctor/patients/999999").status_code == 404


def test_a_patient_who_only_cancelled_is_still_one_of_theirs(client, db, make, doctor, grace):
    appointment = visit(make, doctor, grace, 3)
    booking.cancel(appointment.id, actor=grace.user)
    db.session.commit()

    html = text_of(client.get(record_url(grace)))

    assert "Not seen by you yet · 1 cancelled" in html


def test_the_lists_link_each_patient_to_their_record(client, make, doctor, grace):
    appointment = visit(make, doctor, grace, 2)
    link = f'<a href="{record_url(grace)}">Grace Hopper</a>'

    assert link in text_of(client.get("/doctor/appointments"))
    day = appointment.start_at.date().isoformat()
    assert link in text_of(client.get(f"/doctor/day?date={day}"))


def test_the_record_runs_the_same_queries_however_long_the_history(client, db, make, doctor, grace):
    visit(make, doctor, grace, -5, "completed")

    def queries() -> int:
        with count_queries(db.engine) as statements:
            assert client.get(record_url(grace)).status_code == 200
        return len(statements)

    few = queries()
    for n in range(30):
        visit(make, doctor, grace, -40 + n, ("completed", "no_show", "booked")[n % 3])
    many = queries()

    assert few == many <= 7


# --- the doctor books a follow-up ---------------------------------------------------------------


def follow_up(patient) -> str:
    return f"/doctor/patients/{patient.id}/book"


def test_the_doctor_books_the_patients_next_visit_in_their_own_time(
    client, db, make, doctor, grace
):
    from sqlalchemy import select

    from app.models import Appointment, AuditEvent, OutboxMessage

    visit(make, doctor, grace, -1, "completed")
    free = make.slot(doctor=doctor, start_at=days_from_now(14))
    make.slot(doctor=make.doctor(), start_at=days_from_now(14, 11))  # not theirs to offer

    record = text_of(client.get(record_url(grace)))
    assert f'href="{follow_up(grace)}">Book a follow-up</a>' in record
    page = text_of(client.get(follow_up(grace)))
    assert page.count('name="slot_id"') == 1 and f'value="{free.id}"' in page
    response = client.post(follow_up(grace), data={"slot_id": free.id})

    assert response.status_code == 302
    assert response.headers["Location"] == record_url(grace)
    booked = db.session.scalars(select(Appointment).where(Appointment.slot_id == free.id)).one()
    assert (booked.patient_id, booked.status) == (grace.id, "booked")
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "appointment.booked")
    ).one()
    assert event.actor_id == doctor.user_id
    told = {m.payload["to"] for m in db.session.scalars(select(OutboxMessage))}
    assert told == {"grace@example.com", doctor.user.email}


def test_a_follow_up_only_goes_in_the_doctors_own_open_times(client, db, make, doctor, grace):
    visit(make, doctor, grace, -1, "completed")
    elsewhere = make.slot(doctor=make.doctor(), start_at=days_from_now(6))
    taken = make.slot(doctor=doctor, start_at=days_from_now(7))
    make.appointment(slot=taken)

    for slot, message in ((elsewhere, "no longer exists"), (taken, "just taken")):
        response = client.post(follow_up(grace), data={"slot_id": slot.id})
        assert response.status_code == 409
        assert message in text_of(response)
    assert client.post(follow_up(grace), data={"slot_id": ""}).status_code == 400


def test_no_follow_up_for_someone_elses_patient_or_a_closed_account(
    client, db, make, doctor, grace
):
    slot = make.slot(doctor=doctor, start_at=days_from_now(6))
    assert client.get(follow_up(grace)).status_code == 404
    assert client.post(follow_up(grace), data={"slot_id": slot.id}).status_code == 404

    visit(make, doctor, grace, -1, "completed")
    grace.user.active = False
    db.session.commit()
    assert f'href="{follow_up(grace)}"' not in text_of(client.get(record_url(grace)))
    response = client.post(follow_up(grace), data={"slot_id": slot.id})
    assert response.status_code == 409
    assert "account is closed" in text_of(response)
