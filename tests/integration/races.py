"""Running requests or service calls at the same instant, on PostgreSQL (the race tests)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from app import create_app
from app.extensions import db as _db
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
