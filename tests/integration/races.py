"""Running requests or service calls at the same instant, on PostgreSQL (the race tests)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from app import create_app
from app.extensions import db as _db
from app.models import PatientProfile
from app.services import Conflict, booking
from config import TestingConfig

THREADS = 50
WAIT = 60  # seconds; a safety net against a hung test, never an assertion


@pytest.fixture
def race_app(app, database_url):
    """The app with a connection pool big enough for every thread to hold a connection at once."""
    race = create_app(
        TestingConfig,
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS + 10, "max_overflow": 10},
        },
    )
    yield race
    with race.app_context():
        _db.engine.dispose()


def run_together(count: int, attempt) -> list:
    """Run attempt(i) in `count` threads released together; return results in order."""
    barrier = threading.Barrier(count, timeout=WAIT)
    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(attempt, i, barrier) for i in range(count)]
        return [f.result(timeout=WAIT) for f in futures]


def booking_attempt(race_app, patient_id: int, slot_ids):
    """`attempt(i, barrier)` for run_together: the patient books slot_ids[i] themselves, and
    the result is "booked" or the refusal's message."""

    def attempt(i: int, barrier: threading.Barrier) -> str:
        with race_app.app_context():
            try:
                me = _db.session.get(PatientProfile, patient_id)
                user = me.user
                barrier.wait()
                try:
                    booking.book(me, slot_ids[i], actor=user)
                    _db.session.commit()
                    return "booked"
                except Conflict as refused:
                    _db.session.rollback()
                    return refused.message
            finally:
                _db.session.remove()

    return attempt
