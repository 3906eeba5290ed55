"""Rate limits counted in the database (`database://`): every process counts one limit together.

A `DatabaseStorage` is what each gunicorn worker, on any machine, makes for itself: its own
engine and pool. Two of them here stand for two processes. Their clock is `time.time()`, so
time-machine moves their windows.
"""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import time_machine
from sqlalchemy import func, select

from app import create_app, rate_limit_storage
from app.extensions import db, limiter
from app.models import RateLimitCounter
from app.rate_limit_storage import DatabaseStorage
from app.timeutil import utcnow
from bench.sessions import scrape_csrf
from config import TestingConfig
from tests.conftest import IsolatedClient
from tests.integration.mail_fixtures import free_port
from tests.integration.test_rate_limits import LOGIN_PER_ACCOUNT, assert_limited, login

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def processes(app, database_url):
    """Two processes' storages on the suite's database."""
    storages = [DatabaseStorage("database://", database_url=database_url) for _ in range(2)]
    yield storages
    for storage in storages:
        storage.engine.dispose()


@pytest.fixture
def clock():
    with time_machine.travel(utcnow(), tick=False) as traveller:
        yield traveller


def test_two_processes_count_one_window_together(processes, clock):
    first, second = processes
    assert [first.incr("login:ana", 60), second.incr("login:ana", 60)] == [1, 2]
    assert first.incr("login:ana", 60, amount=3) == 5
    assert (first.get("login:ana"), second.get("login:ana")) == (5, 5)
    assert second.get("login:bob") == 0
    ends = first.get_expiry("login:ana")

    clock.shift(timedelta(seconds=30))
    assert second.incr("login:ana", 60) == 6
    assert second.get_expiry("login:ana") == ends  # a hit does not stretch the window

    clock.shift(timedelta(seconds=31))  # the window has ended: it counts as nothing, then anew
    assert first.get("login:ana") == 0
    assert second.incr("login:ana", 60) == 1
    assert second.get_expiry("login:ana") == pytest.approx(ends + 61)


def test_clearing_and_resetting(processes):
    first, second = processes
    for key in ("a", "b", "c"):
        first.incr(key, 60)
    second.clear("a")
    assert (first.get("a"), first.get("b")) == (0, 1)
    assert second.reset() == 2
    assert first.get("c") == 0
    assert first.check()


def test_counters_whose_window_ended_are_swept_now_and_then(processes, clock, monkeypatch):
    monkeypatch.setattr(rate_limit_storage, "SWEEP_EVERY", 3)
    first, _ = processes
    first.incr("short", 10)
    first.incr("long", 3600)
    clock.shift(timedelta(seconds=11))
    first.incr("new", 60)  # the third hit of this process: ended windows go

    with first.engine.connect() as connection:
        kept = set(connection.scalars(select(RateLimitCounter.key)))
    assert kept == {"long", "new"}


@pytest.mark.postgres
def test_hits_from_many_threads_of_two_processes_each_count_once(processes):
    """Sixteen threads over two pools, 25 hits each: every hit counted once, no count seen
    twice, whatever the interleaving (one statement reads and writes the row)."""
    first, second = processes

    def hits(n: int) -> list[int]:
        storage = first if n % 2 else second
        return [storage.incr("booking:42", 60) for _ in range(25)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        seen = [count for counts in pool.map(hits, range(16)) for count in counts]

    assert sorted(seen) == list(range(1, 401))
    assert first.get("booking:42") == 400


@pytest.fixture
def limited_in_database(app, database_url):
    """An app with rate limits on, counted in the database, as production runs on PostgreSQL."""
    limited_app = create_app(
        TestingConfig,
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "database://",
        },
    )
    limited_app.test_client_class = IsolatedClient
    yield limited_app
    limiter.enabled = False  # the shared Limiter would otherwise limit the suite's other apps
    limiter.storage.engine.dispose()


def test_sign_in_attempts_counted_by_another_process_hold_here(
    limited_in_database, processes, make, clock
):
    """Four wrong passwords sent to other workers, one here: the sixth attempt is refused here,
    whoever counted the first five; a minute later the account may try again."""
    make.user(email="target@example.com")
    assert login(limited_in_database, "10.0.0.1", "target@example.com").status_code == 400
    per_account = RateLimitCounter.key.contains("target@example.com")
    (key,) = db.session.scalars(select(RateLimitCounter.key).where(per_account))
    other_worker = processes[0]
    for _ in range(LOGIN_PER_ACCOUNT - 1):
        other_worker.incr(key, 60)

    assert_limited(login(limited_in_database, "10.0.0.2", "target@example.com"))
    assert db.session.scalar(select(func.count()).select_from(RateLimitCounter)) >= 2

    clock.shift(timedelta(seconds=61))
    assert login(limited_in_database, "10.0.0.3", "target@example.com").status_code == 400


def test_the_clinics_database_is_the_default_store_on_postgresql_only(database_url):
    def store(url, **settings):
        app = create_app(TestingConfig, {"SQLALCHEMY_DATABASE_URI": url, **settings})
        return app.config["RATELIMIT_STORAGE_URI"]

    assert store(database_url, RATELIMIT_STORAGE_URI=None) == (
        "database://" if database_url.startswith("postgresql") else "memory://"
    )
    assert store("sqlite://", RATELIMIT_STORAGE_URI=None) == "memory://"
    assert store(database_url, RATELIMIT_STORAGE_URI="memory://") == "memory://"


@contextmanager
def gunicorn_servers(count: int, database_url: str, tmp_path) -> Iterator[list[str]]:
    """`count` gunicorn servers, as on separate machines, each with gunicorn.conf.py's workers
    (read from the working directory), rate limits on and counted where the app's defaults say."""
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env.update(
        HMS_ENV="development",  # CSRF on, as in production, over plain http
        DATABASE_URL=database_url,
        SECRET_KEY="rate-limit-test-key",
        EMAIL_SERVICE_SECRET="unused",
        EMAIL_SERVICE_URL="http://127.0.0.1:9/dev/send-email",
        RATELIMIT_ENABLED="true",
        LOG_LEVEL="WARNING",
    )
    urls, started = [], []
    try:
        for n in range(count):
            port = free_port()
            log = (tmp_path / f"gunicorn-{n}.log").open("w")
            started.append(
                subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            _wait_until_up(url)
        yield urls
    finally:
        for process in started:
            process.terminate()
            process.wait(timeout=10)


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or still starting
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not start")


@pytest.mark.postgres
def test_two_servers_on_postgresql_share_the_sign_in_limit(database_url, make, tmp_path):
    """Wrong passwords for one account, three to one server and two to another: the sixth is
    refused on either. Counted per process, the first server would have seen four, and let it
    through."""
    make.user(email="target@example.com")
    with gunicorn_servers(2, database_url, tmp_path) as (first, second):
        browsers = {first: requests.Session(), second: requests.Session()}

        def attempt(server: str) -> int:
            browser = browsers[server]
            page = browser.get(f"{server}/auth/login", timeout=10)
            form = {"email": "target@example.com", "password": "not the password"}
            form["csrf_token"] = scrape_csrf(page.text)
            return browser.post(f"{server}/auth/login", data=form, timeout=10).status_code

        tried = [attempt(server) for server in (first, first, first, second, second)]
        assert tried == [400] * LOGIN_PER_ACCOUNT
        assert attempt(first) == 429
        assert attempt(second) == 429
