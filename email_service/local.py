"""Offline runner: serve the Lambda on http://127.0.0.1:3000/dev/send-email without AWS.

Each HTTP request becomes the API Gateway proxy event production would deliver, and goes to
the same `handler.send_email`, so whatever works here works behind API Gateway.

    python -m email_service.local [--host H] [--port N]
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping, MutableMapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from email_service import handler

STAGE = "dev"
RESOURCE = "/send-email"
ROUTE = f"/{STAGE}{RESOURCE}"
MAX_BODY_BYTES = handler.MAX_BODY_BYTES
# Development-only value shared with the Flask app's development config; refused elsewhere.
DEV_SECRET = "dev-email-secret"  # noqa: S105 - never used unless HMS_ENV is development

log = logging.getLogger("email_service.local")

Reply = tuple[int, dict[str, str], bytes]


class LocalContext:
    """The few attributes of a Lambda context object that handlers commonly read."""

    function_name = "hms-email-dev-sendEmail"
    memory_limit_in_mb = 128

    def __init__(self, request_id: str, timeout_seconds: float = 10.0) -> None:
        self.aws_request_id = request_id
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def build_event(
    method: str, headers: Mapping[str, str], raw: bytes, source_ip: str, request_id: str
) -> dict[str, Any]:
    """Shape a request like API Gateway's REST proxy integration does for stage `dev`."""
    try:
        body, is_base64 = raw.decode("utf-8"), False
    except UnicodeDecodeError:
        # API Gateway hands over bodies that are not text as base64; the signature stays valid.
        body, is_base64 = base64.b64encode(raw).decode("ascii"), True
    multi: dict[str, list[str]] = {}
    for name, value in headers.items():
        multi.setdefault(name, []).append(value)
    return {
        "resource": RESOURCE,
        "path": RESOURCE,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi.items()},
        "multiValueHeaders": multi,
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": request_id,
            "stage": STAGE,
            "resourcePath": RESOURCE,
            "httpMethod": method,
            "path": ROUTE,
            "identity": {"sourceIp": source_ip},
            "requestTimeEpoch": int(time.time() * 1000),
        },
        "body": body if raw else None,
        "isBase64Encoded": is_base64,
    }


def _json(status: int, payload: dict[str, Any], **headers: str) -> Reply:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(payload).encode()


class EmailRequestHandler(BaseHTTPRequestHandler):
    """Routes POST /dev/send-email to the Lambda handler; everything else is 404 or 405."""

    server_version = "hms-email-local"
    sys_version = ""
    timeout = 30  # a client that stops sending mid-request must not hold a thread forever

    def do_POST(self) -> None:
        self._dispatch(self._post)

    def do_GET(self) -> None:
        self._dispatch(self._not_allowed)

    do_HEAD = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _dispatch(self, route: Callable[[], Reply]) -> None:
        started = time.perf_counter()
        try:
            status, headers, body = route()
        except Exception:
            log.exception("unexpected error serving %s %s", self.command, self.path)
            status, headers, body = _json(500, {"ok": False, "error": "internal error"})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        elapsed_ms = (time.perf_counter() - started) * 1000
        log.info("%s %s %d %.1fms", self.command, urlsplit(self.path).path, status, elapsed_ms)

    def _post(self) -> Reply:
        if urlsplit(self.path).path != ROUTE:
            return _json(404, {"ok": False, "error": "not found"})
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return _json(411, {"ok": False, "error": "send the body with a Content-Length"})
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            return _json(400, {"ok": False, "error": "invalid Content-Length"})
        if length > MAX_BODY_BYTES:
            # Answer without reading: a huge body is refused before it costs memory.
            self.close_connection = True
            return _json(413, {"ok": False, "error": f"body exceeds {MAX_BODY_BYTES} bytes"})
        raw = self.rfile.read(length)
        request_id = str(uuid.uuid4())
        event = build_event("POST", self.headers, raw, self.client_address[0], request_id)
        result = handler.send_email(event, LocalContext(request_id))
        headers = dict(result.get("headers") or {})
        return int(result["statusCode"]), headers, str(result.get("body", "")).encode("utf-8")

    def _not_allowed(self) -> Reply:
        if urlsplit(self.path).path != ROUTE:
            return _json(404, {"ok": False, "error": "not found"})
        return _json(405, {"ok": False, "error": "method not allowed"}, Allow="POST")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Silenced: _dispatch logs one line per request through `logging` instead."""

    def log_error(self, format: str, *args: Any) -> None:
        log.warning("%s: " + format, self.address_string(), *args)


def make_server(host: str = "127.0.0.1", port: int = 3000) -> ThreadingHTTPServer:
    """Build (not start) the server; port 0 picks a free port, which tests read back."""
    server = ThreadingHTTPServer((host, port), EmailRequestHandler)
    server.daemon_threads = True
    return server


def apply_development_defaults(environ: MutableMapping[str, str]) -> None:
    """Give EMAIL_SERVICE_SECRET its development value, but only in development."""
    if environ.get("EMAIL_SERVICE_SECRET"):
        return
    hms_env = (environ.get("HMS_ENV") or "development").strip().lower()
    if hms_env != "development":
        raise SystemExit(f"EMAIL_SERVICE_SECRET must be set when HMS_ENV={hms_env}")
    environ["EMAIL_SERVICE_SECRET"] = DEV_SECRET
    log.warning("EMAIL_SERVICE_SECRET is not set: using the development value")


def _load_dotenv() -> None:
    """Honour ./.env like the Flask app does, when python-dotenv happens to be installed."""
    try:
        from dotenv import load_dotenv
    except ImportError:
        return
    load_dotenv(Path.cwd() / ".env", override=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the HMS email service locally.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=3000, help="port to bind (default 3000)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    _load_dotenv()
    apply_development_defaults(os.environ)
    server = make_server(args.host, args.port)
    host, port = server.server_address[:2]
    smtp_host = os.environ.get("SMTP_HOST")
    backend = f"SMTP server {smtp_host}" if smtp_host else "MAIL_DIR (.eml files)"
    log.info("listening on http://%s:%s%s (delivering to %s)", host, port, ROUTE, backend)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
