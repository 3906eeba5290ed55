"""Patients say how a visit went (the Friends and Family Test): once a visit, for a visit that
took place, within 30 days; doctors read their own answers and the administrators everyone's,
never with the patient's name."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db as _db
from app.models import AuditEvent, PatientProfile, VisitFeedback
from app.services import Conflict, feedback
from tests.helpers import count_queries, text_of
from tests.integration.races import run_together


def days_from_now(days: float) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(second=0, microsecond=0)


@pytest.fixture
def doctor(make):
    return make.doctor(user__full_name="Dr. Ada Lovelace")


@pytest.fixture
def grace(make):
    return make.patient(user__full_name="Grace Hopper")


@pytest.fixture
def seen(make, doctor, grace):
    """Grace's visit to Dr. Lovelace three days ago, recorded as completed."""
    slot = make.slot(doctor=doctor, start_at=days_from_now(-3))
    return make.appointment(slot=slot, patient=grace, status="completed")


def url(appointment) -> str:
    return f"/patient/appointments/{appointment.id}/feedback"


def answers(db) -> list[VisitFeedback]:
    db.session.expire_all()
    return list(db.session.scalars(select(VisitFeedback).order_by(VisitFeedback.id)))


def test_a_patient_says_how_their_visit_went_once(client, db, login_as, doctor, grace, seen):
    login_as(client, grace.user)
    dashboard = text_of(client.get("/patient/"))
    assert "How was your visit with Dr. Ada Lovelace" in dashboard
    assert f'href="/patient/appointments/{seen.id}#feedback-heading"' in dashboard
    page = text_of(client.get(f"/patient/appointments/{seen.id}"))
    assert "Overall, how was your experience of our service?" in page
    assert 'value="dont_know"' in page

    response = client.post(url(seen), data={"answer": "good", "comment": "  Kind and quick.  "})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/patient/appointments/{seen.id}"
    page = text_of(client.get(response.headers["Location"]))
    assert "Thank you for telling us how your visit went." in page
    assert "You told us: <strong>Good</strong>. Thank you." in page
    assert "How was your visit with" not in text_of(client.get("/patient/"))
    [given] = answers(db)
    assert (given.appointment_id, given.doctor_id) == (seen.id, doctor.id)
    assert (given.answer.value, given.comment) == ("good", "Kind and quick.")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "feedback.given")).one()
    assert "Kind" not in str(event.details) and "good" not in str(event.details)

    again = client.post(url(seen), data={"answer": "poor"})
    assert again.status_code == 409
    assert "You have told us about this visit already." in text_of(again)
    assert len(answers(db)) == 1
    export = client.get("/patient/account/data.json").get_json()
    assert export["appointments"][0]["feedback"]["answer"] == "good"


@pytest.mark.parametrize(
    ("days", "status", "message"),
    [
        (-3, "booked", "once your doctor has recorded that it took place"),
        (-3, "no_show", "once your doctor has recorded that it took place"),
        (2, "booked", "once your doctor has recorded that it took place"),
        (-31, "completed", "Visits are answered within 30 days"),
    ],
)
def test_only_a_visit_that_took_place_lately_is_answered(
    client, db, make, login_as, doctor, grace, days, status, message
):
    visit = make.appointment(
        slot=make.slot(doctor=doctor, start_at=days_from_now(days)), patient=grace, status=status
    )
    login_as(client, grace.user)

    assert "How was your visit with" not in text_of(client.get("/patient/"))
    page = text_of(client.get(f"/patient/appointments/{visit.id}"))
    assert 'name="answer"' not in page
    response = client.post(url(visit), data={"answer": "very_good"})

    assert response.status_code == 409
    assert message in text_of(response)
    assert answers(db) == []


def test_someone_elses_visit_is_not_found(client, db, make, login_as, seen):
    login_as(client, make.patient().user)

    assert client.post(url(seen), data={"answer": "very_poor"}).status_code == 404
    assert client.get(f"/patient/appointments/{seen.id}").status_code == 404
    assert answers(db) == []


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "answer", "Choose one of the answers."),
        ({"answer": "excellent"}, "answer", "Not a valid choice"),
        ({"answer": "good", "comment": "x" * 1001}, "comment", "longer than 1000 characters"),
        ({"answer": "good", "comment": "a\x00b"}, "comment", "remove the special characters"),
    ],
)
def test_a_bad_answer_is_400_next_to_its_field(
    client, db, login_as, grace, seen, data, field, message
):
    login_as(client, grace.user)

    response = client.post(url(seen), data=data)

    assert response.status_code == 400
    assert f'id="{field}-error"' in text_of(response)
    assert message in text_of(response)
    assert answers(db) == []


@pytest.mark.postgres
def test_two_tabs_sending_at_once_give_one_answer(race_app, db, grace, seen):
    patient_id, visit_id = grace.id, seen.id  # read here: the threads have their own sessions
    db.session.commit()  # the threads' sessions see the visit; this one holds no lock

    def attempt(i: int, barrier) -> str:
        with race_app.app_context():
            try:
                me = _db.session.get(PatientProfile, patient_id)
                user = me.user
                barrier.wait()
                feedback.give(me, visit_id, "good", None, actor=user)
                _db.session.commit()
                return "given"
            except Conflict as refused:
                _db.session.rollback()
                return refused.message
            finally:
                _db.session.remove()

    results = run_together(2, attempt)

    assert sorted(results) == [
        "You have told us about this visit already. Thank you.",
        "given",
    ]
    assert len(answers(db)) == 1


HOURS_BACK = itertools.count(48)


def give(make, doctor, answer: str, comment: str | None = None, *, name: str = "Patient"):
    """A visit of `doctor`'s a few days ago (each an hour before the last), answered."""
    patient = make.patient(user__full_name=name)
    visit = make.appointment(
        slot=make.slot(doctor=doctor, start_at=days_from_now(-next(HOURS_BACK) / 24)),
        patient=patient,
        status="completed",
    )
    feedback.give(patient, visit.id, answer, comment, actor=patient.user)
    return visit


def test_a_doctor_reads_their_own_answers_without_names(client, db, make, login_as, doctor):
    give(make, doctor, "very_good", "Listened to me.", name="Rosa Parks")
    give(make, doctor, "good", name="Alan Turing")
    give(make, doctor, "very_poor", "Waited an hour.", name="Edsger Dijkstra")
    give(make, doctor, "dont_know", name="Barbara Liskov")
    give(make, make.doctor(), "poor", "Someone else's doctor.")
    old = give(make, doctor, "poor", "Long ago.")
    db.session.execute(
        update(VisitFeedback)
        .where(VisitFeedback.appointment_id == old.id)
        .values(created_at=days_from_now(-91))
    )
    db.session.commit()
    login_as(client, doctor.user)

    page = " ".join(text_of(client.get("/doctor/feedback")).split())

    assert "4 answers: <strong>50%</strong> good or very good, 25% poor or very poor." in page
    assert "Listened to me." in page and "Waited an hour." in page
    assert page.index("Waited an hour.") < page.index("Listened to me.")  # newest first
    assert "Someone else's doctor." not in page and "Long ago." not in page
    for name in ("Rosa Parks", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov"):
        assert name not in page


def test_the_administrators_read_everyones_by_doctor(client, db, make, login_as, doctor):
    other = make.doctor(user__full_name="Dr. Grace Brewster")
    give(make, doctor, "very_good", "Clear and kind.", name="Rosa Parks")
    give(make, doctor, "poor", name="Alan Turing")
    give(make, other, "good", "On time.", name="Edsger Dijkstra")
    login_as(client, make.admin())

    page = " ".join(text_of(client.get("/admin/feedback")).split())

    assert page.index("Dr. Ada Lovelace") < page.index("Dr. Grace Brewster")  # most answers first
    assert 'data-label="Answers" class="text-end">2</td>' in page
    assert 'data-label="Good or very good" class="text-end">50%</td>' in page
    assert "Clear and kind." in page and "On time." in page
    assert "Rosa Parks" not in page and "Edsger Dijkstra" not in page


@pytest.mark.parametrize(
    ("role", "path"), [("doctor", "/doctor/feedback"), ("admin", "/admin/feedback")]
)
def test_the_pages_cost_the_same_however_many_answers(
    client, db, make, login_as, doctor, role, path
):
    login_as(client, doctor.user if role == "doctor" else make.admin())

    def statements() -> int:
        with count_queries(db.engine) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    give(make, doctor, "good", "One.")
    few = statements()
    for n in range(25):  # more than a page of comments, from several doctors
        give(make, doctor if n % 2 else make.doctor(), "very_good", f"Comment {n}.")
    many = statements()

    assert many <= few + 1  # a full page also counts the total
    assert many <= 10
