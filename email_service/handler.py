"""The Lambda function behind API Gateway: verify, check, render and deliver one email.

Local runs go through this same function (see local.py), so there is one code path to test.
Configuration is read from the environment on every call, never at import, because a warm
Lambda and the test suite both change it between calls.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
from email.utils import parseaddr
from typing import Any

try:
    from . import actions, delivery, rendering
except ImportError:  # deployed to Lambda as a flat bundle, where this is a top-level module
    import actions  # type: ignore[no-redef]
    import delivery  # type: ignore[no-redef]
    import rendering  # type: ignore[no-redef]

MAX_BODY_BYTES = 64 * 1024
DEFAULT_MAIL_FROM = "HMS <no-reply@hms.local>"
SIGNATURE_HEADER = "x-signature"

log = logging.getLogger("email_service")
# Lambda's root logger stops at WARNING; one INFO line per message is the service's audit trail.
if log.level == logging.NOTSET:
    log.setLevel(logging.INFO)


class HttpError(Exception):
    """A request that ends with an error status; `reason` is returned to the caller."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def send_email(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """API Gateway (REST, proxy integration) entry point; always answers JSON, never raises."""
    try:
        request, message_id, where = _process(event)
    except HttpError as exc:
        log.warning("email rejected status=%d reason=%s", exc.status, exc.reason)
        return _response(exc.status, {"ok": False, "error": exc.reason})
    except Exception:
        log.exception("email failed: unexpected error")
        return _response(500, {"ok": False, "error": "internal error"})
    domain = request.to.rpartition("@")[2]
    log.info(
        "email sent action=%s message_id=%s to_domain=%s via=%s",
        request.action,
        message_id,
        domain,
        where,
    )
    return _response(200, {"ok": True, "message_id": message_id})


def _process(event: Any) -> tuple[actions.EmailRequest, str, str]:
    if not isinstance(event, dict):
        raise HttpError(400, "event is not an API Gateway proxy event")
    raw = _raw_body(event)
    if len(raw) > MAX_BODY_BYTES:
        raise HttpError(413, f"body exceeds {MAX_BODY_BYTES} bytes")
    secret = os.environ.get("EMAIL_SERVICE_SECRET", "")
    if not secret:
        log.error("EMAIL_SERVICE_SECRET is not set: refusing every request")
        raise HttpError(500, "service misconfigured")
    _verify_signature(raw, _header(event, SIGNATURE_HEADER), secret)

    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HttpError(400, f"body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise HttpError(400, "body is nested too deeply") from exc
    try:
        request = actions.parse_request(payload)
    except actions.InvalidRequest as exc:
        raise HttpError(400, str(exc)) from exc

    message = rendering.build_message(request, mail_from=_mail_from())
    try:
        where = delivery.deliver(message, to=request.to, file_name=rendering.file_name_for(request))
    except delivery.DeliveryError as exc:
        raise HttpError(502, str(exc)) from exc
    except delivery.ServiceError as exc:
        raise HttpError(500, f"service misconfigured: {exc}") from exc
    return request, message["Message-ID"], where


def _raw_body(event: dict[str, Any]) -> bytes:
    """The exact bytes the caller signed: API Gateway hands binary bodies over as base64."""
    body = event.get("body") or ""
    if not isinstance(body, str):
        raise HttpError(400, "body must be a string")
    if event.get("isBase64Encoded"):
        if len(body) > (MAX_BODY_BYTES * 4) // 3 + 4:
            raise HttpError(413, f"body exceeds {MAX_BODY_BYTES} bytes")
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise HttpError(400, "body is not valid base64") from exc
    return body.encode("utf-8", "surrogateescape")


def _header(event: dict[str, Any], name: str) -> str:
    """HTTP header names are case-insensitive, and API Gateway passes them on as sent."""
    for key, value in (event.get("headers") or {}).items():
        if isinstance(key, str) and key.lower() == name and isinstance(value, str):
            return value
    return ""


def _verify_signature(raw: bytes, header: str, secret: str) -> None:
    if not header:
        raise HttpError(401, "missing X-Signature header")
    scheme, _, given = header.strip().partition("=")
    if scheme.strip().lower() != "sha256" or not given:
        raise HttpError(401, "X-Signature must be sha256=<hex HMAC-SHA256 of the body>")
    expected = hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()
    given_bytes = given.strip().lower().encode("utf-8", "replace")
    if not hmac.compare_digest(expected.encode("ascii"), given_bytes):
        raise HttpError(401, "bad signature")


def _mail_from() -> str:
    mail_from = os.environ.get("MAIL_FROM", "").strip() or DEFAULT_MAIL_FROM
    _, address = parseaddr(mail_from)
    if "@" not in address or any(ch in mail_from for ch in "\r\n"):
        log.error("MAIL_FROM is not a valid address")
        raise HttpError(500, "service misconfigured: MAIL_FROM is not a valid address")
    return mail_from


def _response(status: int, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(payload),
    }
