"""The real email service on loopback, delivering by SMTP to an aiosmtpd server in the test.

`mailbox` is the far side of SMTP, the one part mocked (with aiosmtpd's own Controller); it
counts every delivery, duplicates included. `email_service` runs `email_service.local` in a
thread and points the app's EMAIL_SERVICE_URL at it for the length of one test.
"""

import socket
import threading
from collections import Counter
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from config import TestingConfig
from email_service import local, rendering


def free_port() -> int:
    """A loopback port nobody listens on (aiosmtpd cannot bind port 0 and report it back)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_url() -> str:
    """An email service URL where nothing answers: connections are refused at once."""
    return f"http://127.0.0.1:{free_port()}{local.ROUTE}"


class Mailbox:
    """An aiosmtpd handler that keeps every message it is handed."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self._messages.append(message)
            self._lock.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float) -> bool:
        """Whether `count` messages in all have arrived, waiting `timeout` seconds at most."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self._messages) >= count, timeout=timeout)

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def with_key(self, idempotency_key: str) -> list[EmailMessage]:
        """The deliveries of one outbox message (the service derives Message-ID from its key)."""
        wanted = rendering.message_id_for(idempotency_key)
        return [m for m in self.messages if m["Message-ID"] == wanted]

    def deliveries(self, idempotency_keys: list[str]) -> dict[str, int]:
        """How many times each outbox message arrived (with_key for many keys at once)."""
        arrived = Counter(m["Message-ID"] for m in self.messages)
        return {key: arrived[rendering.message_id_for(key)] for key in idempotency_keys}


@pytest.fixture
def mailbox():
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


@dataclass
class EmailService:
    url: str
    server: object
    thread: threading.Thread


@pytest.fixture
def email_service(app, mailbox, monkeypatch):
    """The email service, sharing the TestingConfig secret, sending to `mailbox`."""
    monkeypatch.setenv("EMAIL_SERVICE_SECRET", TestingConfig.EMAIL_SERVICE_SECRET)
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(mailbox.port))
    monkeypatch.delenv("SMTP_STARTTLS", raising=False)
    monkeypatch.delenv("SMTP_USERNAME", raising=False)
    server = local.make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    host, port = server.server_address[:2]
    service = EmailService(f"http://{host}:{port}{local.ROUTE}", server, thread)
    monkeypatch.setitem(app.config, "EMAIL_SERVICE_URL", service.url)
    yield service
    server.shutdown()
    server.server_close()
    thread.join()
