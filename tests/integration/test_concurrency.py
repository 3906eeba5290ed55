"""Two patients can never hold one slot: proven with real threads on PostgreSQL.

Each thread has its own app context, so its own session and connection, and all of them are
released on a barrier at once. Every session is removed inside its thread: the suite's TRUNCATE
after the test would otherwise wait on their open transactions.
"""

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app.extensions import db as _db
from app.models import Appointment, PatientProfile
from app.services import booking
from tests.factories import PASSWORD
from tests.integration.races import THREADS, WAIT, booking_attempt, run_together

pytestmark = pytest.mark.postgres


def active_on(db, slot_id: int) -> list[Appointment]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Appointment).where(
                Appointment.slot_id == slot_id, Appointment.status == "booked"
            )
        )
    )


def start_in(hours: int) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)


def test_fifty_patients_race_for_one_slot_through_the_service(race_app, db, make):
    slot = make.slot(start_at=start_in(48))
    patient_ids = [make.patient().id for _ in range(THREADS)]
    slot_id = slot.id

    def attempt(i: int, barrier: threading.Barrier) -> str:
        with race_app.app_context():
            try:
                patient = _db.session.get(PatientProfile, patient_ids[i])
                user = patient.user
                barrier.wait()
                try:
                    booking.book(patient, slot_id, actor=user)
                    _db.session.commit()
                    return "booked"
                except booking.SlotTaken:
                    _db.session.rollback()
                    return "taken"
            finally:
                _db.session.remove()

    results = run_together(THREADS, attempt)

    assert Counter(results) == {"booked": 1, "taken": THREADS - 1}
    (winner,) = active_on(db, slot_id)
    assert winner.patient_id == patient_ids[results.index("booked")]
    assert db.session.scalar(select(func.count(Appointment.id))) == 1


@pytest.fixture
def server(race_app):
    """The app behind a real multi-threaded HTTP server on loopback."""
    httpd = make_server("127.0.0.1", 0, race_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=WAIT)


def signed_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    response = session.post(
        f"{base}/auth/login",
        data={"email": email, "password": PASSWORD},
        allow_redirects=False,
        timeout=WAIT,
    )
    assert response.status_code == 302, response.text
    return session


def test_fifty_patients_race_for_one_slot_over_http(server, db, make):
    slot = make.slot(start_at=start_in(48))
    emails = [make.patient().user.email for _ in range(THREADS)]
    sessions = [signed_in(server, email) for email in emails]
    url = f"{server}/booking/slots/{slot.id}"

    def attempt(i: int, barrier: threading.Barrier) -> int:
        barrier.wait()
        response = sessions[i].post(url, data={"notes": f"patient {i}"}, allow_redirects=False)
        return response.status_code

    statuses = run_together(THREADS, attempt)

    assert not [s for s in statuses if s >= 500]
    assert Counter(statuses) == {302: 1, 409: THREADS - 1}
    (winner,) = active_on(db, slot.id)
    assert winner.notes == f"patient {statuses.index(302)}"
    for session in sessions:
        session.close()


def test_one_patient_racing_two_overlapping_bookings_gets_one(race_app, db, make):
    patient = make.patient()
    rounds = []
    for n in range(10):
        start = start_in(48 + n)
        first = make.slot(start_at=start)
        second = make.slot(start_at=start + timedelta(minutes=10))  # another doctor, overlapping
        rounds.append((first.id, second.id))
    patient_id = patient.id

    for slot_ids in rounds:
        results = run_together(2, booking_attempt(race_app, patient_id, slot_ids))

        assert sorted(results) == ["You already have an appointment at that time.", "booked"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Appointment.id))) == len(rounds)
