"""Hand a built message to SMTP, or, when no SMTP server is configured, to a file.

The file backend exists so that development and tests never need a mail server; it names each
file after the idempotency key, so the app's retries cannot pile up duplicates.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from pathlib import Path

SMTP_TIMEOUT_SECONDS = 10
DEFAULT_MAIL_DIR = "instance/mail"
_TRUTHY = frozenset({"1", "true", "yes", "on"})


class DeliveryError(Exception):
    """The SMTP server refused the message or could not be reached; worth retrying later."""


class ServiceError(Exception):
    """The service itself is misconfigured or cannot store the message; the caller cannot fix it."""


def deliver(message: EmailMessage, *, to: str, file_name: str) -> str:
    """Send or store the message; returns where it went, for the log line."""
    host = os.environ.get("SMTP_HOST", "").strip()
    if host:
        return _send_smtp(message, to, host)
    return _write_file(message, file_name)


def _send_smtp(message: EmailMessage, to: str, host: str) -> str:
    starttls = os.environ.get("SMTP_STARTTLS", "").strip().lower() in _TRUTHY
    port = _port(os.environ.get("SMTP_PORT", ""), default=587 if starttls else 25)
    username = os.environ.get("SMTP_USERNAME", "")
    password = os.environ.get("SMTP_PASSWORD", "")
    where = f"{host}:{port}"
    try:
        with smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if starttls:
                smtp.starttls(context=ssl.create_default_context())
            if username:
                smtp.login(username, password)
            # The envelope recipient is the checked `to` alone, never anything read from headers.
            smtp.send_message(message, to_addrs=[to])
    except smtplib.SMTPResponseException as exc:
        reply = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        raise DeliveryError(f"SMTP server {where} refused the message: {reply}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        reasons = "; ".join(f"{code} {_text(reply)}" for code, reply in exc.recipients.values())
        raise DeliveryError(f"SMTP server {where} refused the recipient: {reasons}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP server {where} could not be reached: {exc}") from exc
    return f"smtp {where}"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _port(value: str, *, default: int) -> int:
    if not value.strip():
        return default
    try:
        port = int(value)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise ServiceError("SMTP_PORT must be a number between 1 and 65535")
    return port


def _write_file(message: EmailMessage, file_name: str) -> str:
    """Write atomically (temp file, then rename) so a reader never sees half a message."""
    directory = Path(os.environ.get("MAIL_DIR", "").strip() or DEFAULT_MAIL_DIR)
    target = directory / file_name
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(message.as_bytes())
            os.replace(temp_name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
    except OSError as exc:
        raise ServiceError(f"cannot write to MAIL_DIR {directory}: {exc.strerror}") from exc
    return f"file {target}"
