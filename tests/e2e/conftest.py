"""The whole system running as in production, driven by a real browser.

Package-scoped (started once for tests/e2e, stopped before the rest of the suite runs):
an SMTP server (aiosmtpd on loopback) that records every message, the email service's local
runner in a thread delivering to it, the app under gunicorn with CSRF on, in development mode
with its own SECRET_KEY and the test database, and beside it the outbox worker, as `make run`
and production start them: on PostgreSQL the commit wakes the worker, which sends every email;
on SQLite the web server sends them after its response. Chromium is Debian's. Each test
starts from empty tables: it requests `app`, so the suite's autouse fixture truncates them
after it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect

from tests.e2e.helpers import DESKTOP, SCREENSHOTS, Mailbox
from tests.email_service.email_testkit import Recorder, free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-default-apps",
    "--disable-extensions",
]
EMAIL_SECRET = "e2e-email-secret"
# Assertions wait up to 10 s for the page to get there: two cores run gunicorn, PostgreSQL and
# Chromium at once, and argon2 at full cost takes its time on every sign-in.
expect.set_options(timeout=10_000)
SERVER_START_SECONDS = 30


def _skip_reason() -> str | None:
    if not os.environ.get("TEST_DATABASE_URL", "").startswith(("postgres", "postgresql")):
        return "browser tests need PostgreSQL: set TEST_DATABASE_URL (make test does)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _skip_reason()
    if reason is None:
        return
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches Debian's Chromium, quietly: it never phones home."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@dataclass(frozen=True)
class SmtpServer:
    recorder: Recorder
    port: int


@pytest.fixture(scope="package")
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback that accepts and keeps every message."""
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield SmtpServer(recorder, controller.port)
    controller.stop()


@pytest.fixture(scope="package")
def email_service(smtp_server) -> Iterator[str]:
    """The email service's offline runner in a thread; returns its URL.

    The handler reads SMTP_* and the secret from the environment on each call, so they are set
    for as long as this package runs and restored before the rest of the suite.
    """
    from email_service.local import ROUTE, make_server

    with pytest.MonkeyPatch.context() as patch:
        for name in ("SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_STARTTLS", "MAIL_FROM"):
            patch.delenv(name, raising=False)
        patch.setenv("SMTP_HOST", "127.0.0.1")
        patch.setenv("SMTP_PORT", str(smtp_server.port))
        patch.setenv("EMAIL_SERVICE_SECRET", EMAIL_SECRET)
        server = make_server("127.0.0.1", 0)
        thread = threading.Thread(target=server.serve_forever, name="email-service", daemon=True)
        thread.start()
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}{ROUTE}"
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass(frozen=True)
class LiveServer:
    url: str
    env: dict[str, str]

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        """Run a `flask` command against the live server's configuration and database."""
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )


def _server_env(database_url: str, email_url: str, base_url: str) -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}
    env = {name: value for name, value in os.environ.items() if name in keep}
    env.update(
        HMS_ENV="development",  # the real thing: CSRF on, argon2 at full cost
        DATABASE_URL=database_url,
        SECRET_KEY="e2e-secret-key-not-for-production",
        EMAIL_SERVICE_URL=email_url,
        EMAIL_SERVICE_SECRET=EMAIL_SECRET,
        RATELIMIT_ENABLED="false",
        # One server serves every journey, each with its own doctors: the directory's filter
        # and totals must not be the previous journey's (in production they lag a minute).
        DIRECTORY_CACHE_SECONDS="0",
        # A doctor's schedule news goes at once, rather than gathering a sitting's changes for
        # ten minutes: a journey cannot wait that long for the email it expects.
        SCHEDULE_EMAIL_DELAY_MINUTES="0",
        INSTRUCTIONS_EMAIL_DELAY_MINUTES="0",  # likewise a patient's news of instructions
        CLINIC_TIMEZONE="UTC",
        PUBLIC_BASE_URL=base_url,
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def _wait_until_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            health = urllib.request.urlopen(f"{url}/healthz", timeout=2)  # noqa: S310 - loopback
            with health as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"gunicorn did not become healthy; its log:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="package")
def live_server(app, email_service, tmp_path_factory) -> Iterator[LiveServer]:
    """gunicorn serving the app, on a free loopback port, against the migrated test database,
    and an outbox worker (`flask outbox run`) delivering its messages, both logging to one file."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _server_env(app.config["SQLALCHEMY_DATABASE_URI"], email_service, url)
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "2",
                "--graceful-timeout",
                "5",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_healthy(url, process, log)
        yield LiveServer(url=url, env=env)
    finally:
        for started in (process, worker):
            started.terminate()
        for started in (process, worker):
            try:
                started.wait(timeout=10)
            except subprocess.TimeoutExpired:
                started.kill()
                started.wait()


@pytest.fixture(scope="package", autouse=True)
def _fresh_screenshots() -> None:
    """Screenshots of this run only: a reviewer never looks at a page that no longer exists."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)


@pytest.fixture
def mailbox(smtp_server, live_server) -> Mailbox:
    return Mailbox(smtp_server.recorder)


@pytest.fixture
def browse(new_context, live_server):
    """Open a page in a fresh browser of its own (own cookies), at desktop size or another."""

    def open_page(viewport: dict[str, int] = DESKTOP) -> Page:
        context = new_context(base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(10_000)
        return context.new_page()

    return open_page


@pytest.fixture
def page(browse) -> Page:
    """pytest-playwright's `page`, pointed at the live server, at desktop size."""
    return browse()
