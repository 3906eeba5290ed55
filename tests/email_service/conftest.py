"""Fixtures for the email service: real SMTP servers on loopback (aiosmtpd), signed requests.

These tests need neither the Flask app nor a database.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.email_service.email_testkit import (
    SAMPLE_DATA,
    SECRET,
    UNSIGNED,
    Recorder,
    Refuser,
    Reply,
    authenticate,
    free_port,
    sign,
)


@pytest.fixture(autouse=True)
def mail_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A clean environment per test: signed with SECRET, file backend in a temp dir."""
    for name in (
        "SMTP_HOST",
        "SMTP_PORT",
        "SMTP_USERNAME",
        "SMTP_PASSWORD",
        "SMTP_STARTTLS",
        "MAIL_FROM",
        "HMS_ENV",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EMAIL_SERVICE_SECRET", SECRET)
    directory = tmp_path / "mail"
    monkeypatch.setenv("MAIL_DIR", str(directory))
    return directory


def _start(handler: object, **kwargs: Any) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


@pytest.fixture(scope="session")
def _recording_controller() -> Iterator[tuple[Controller, Recorder]]:
    recorder = Recorder()
    controller = _start(recorder)
    yield controller, recorder
    controller.stop()


@pytest.fixture
def smtp_server(
    _recording_controller: tuple[Controller, Recorder], monkeypatch: pytest.MonkeyPatch
) -> Recorder:
    """A real SMTP server on loopback that accepts and records everything; SMTP_* point to it."""
    controller, recorder = _recording_controller
    recorder.envelopes.clear()
    monkeypatch.setenv("SMTP_HOST", controller.hostname)
    monkeypatch.setenv("SMTP_PORT", str(controller.port))
    return recorder


@pytest.fixture
def smtp_auth_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    """An SMTP server that demands AUTH (over plain TCP, which only a test may allow)."""
    recorder = Recorder()
    controller = _start(
        recorder,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    monkeypatch.setenv("SMTP_HOST", controller.hostname)
    monkeypatch.setenv("SMTP_PORT", str(controller.port))
    yield recorder
    controller.stop()


@pytest.fixture
def smtp_refusing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    controller = _start(Refuser())
    monkeypatch.setenv("SMTP_HOST", controller.hostname)
    monkeypatch.setenv("SMTP_PORT", str(controller.port))
    yield
    controller.stop()


@pytest.fixture
def smtp_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A port that is bound but not listening, so connecting is refused for the whole test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(sock.getsockname()[1]))
        yield


@pytest.fixture
def payload() -> Callable[..., dict[str, Any]]:
    """Build a valid request body; `variant` sets role/recipient_role, `**data` overrides."""

    def build(
        action: str, variant: str | None = None, *, request_id: str = "req-1", **data: Any
    ) -> dict[str, Any]:
        values = dict(SAMPLE_DATA[action])
        if variant is not None:
            values["role" if action == "SIGNUP_WELCOME" else "recipient_role"] = variant
        values.update(data)
        return {"id": request_id, "action": action, "to": "grace@example.org", "data": values}

    return build


@pytest.fixture
def send() -> Callable[..., Reply]:
    """Call the Lambda handler the way API Gateway would, signing the body unless told not to."""
    from email_service.handler import send_email

    def call(
        body: dict[str, Any] | bytes,
        *,
        signature: object = UNSIGNED,
        header_name: str = "X-Signature",
        base64_body: bool = False,
    ) -> Reply:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:  # API Gateway passes bodies that are not text as base64
            base64_body = True
        headers = {"Content-Type": "application/json"}
        if signature is UNSIGNED:
            headers[header_name] = sign(raw)
        elif signature is not None:
            headers[header_name] = str(signature)
        event = {
            "resource": "/send-email",
            "path": "/send-email",
            "httpMethod": "POST",
            "headers": headers,
            "requestContext": {"requestId": "test", "stage": "dev"},
            "body": base64.b64encode(raw).decode() if base64_body else text,
            "isBase64Encoded": base64_body,
        }
        result = send_email(event, None)
        assert result["headers"] == {"Content-Type": "application/json"}
        return Reply(result["statusCode"], json.loads(result["body"]))

    return call


@pytest.fixture
def serve_locally() -> Iterator[Callable[[], str]]:
    """Start local.py's real HTTP server in a thread on a free port; returns its base URL."""
    from email_service.local import make_server

    servers = []

    def start() -> str:
        server = make_server("127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        host, port = server.server_address[:2]
        return f"http://{host}:{port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
