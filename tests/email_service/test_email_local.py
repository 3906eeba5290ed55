"""The offline runner over real HTTP: same answers as the Lambda, plus its own routing."""

import http.client
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from tests.email_service.email_testkit import expected_message_id, sign


def _request(url, body=None, *, method="POST", headers=None):
    """Return (status, JSON body) whether or not urllib treats the status as an error."""
    # The URL is always the loopback test server's http:// address, never user input.
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def _signed(payload):
    raw = json.dumps(payload).encode()
    return raw, {"Content-Type": "application/json", "X-Signature": sign(raw)}


def test_post_sends_the_email(serve_locally, smtp_server, payload):
    base = serve_locally()
    raw, headers = _signed(payload("BOOKING_CONFIRMATION", "doctor", request_id="http-1"))

    status, body = _request(f"{base}/dev/send-email", raw, headers=headers)

    assert status == 200
    assert body == {"ok": True, "message_id": expected_message_id("http-1")}
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["grace@example.org"]
    assert smtp_server.messages()[0]["Subject"].startswith("New appointment: Grace Hopper")


def test_handler_errors_pass_through(serve_locally, smtp_server, payload):
    base = serve_locally()
    raw, headers = _signed(payload("SIGNUP_WELCOME"))
    headers["X-Signature"] = sign(raw, secret="not-the-secret")

    status, body = _request(f"{base}/dev/send-email", raw, headers=headers)

    assert status == 401
    assert body == {"ok": False, "error": "bad signature"}
    assert smtp_server.envelopes == []


@pytest.mark.parametrize("path", ["/", "/send-email", "/dev/send-email/extra", "/prod/send-email"])
def test_other_paths_are_404(serve_locally, path):
    status, body = _request(serve_locally() + path, b"{}")

    assert status == 404
    assert body == {"ok": False, "error": "not found"}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_are_405(serve_locally, method):
    status, body = _request(f"{serve_locally()}/dev/send-email", method=method)

    assert status == 405
    assert body["ok"] is False


def test_oversized_body_is_refused_before_it_is_read(serve_locally):
    url = urlsplit(serve_locally())
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        # Announce 64 KiB + 1 and send nothing: only a server that does not read can answer.
        connection.putrequest("POST", "/dev/send-email")
        connection.putheader("Content-Length", str(64 * 1024 + 1))
        connection.endheaders()
        response = connection.getresponse()
        status, body = response.status, json.loads(response.read())
    finally:
        connection.close()

    assert status == 413
    assert body["ok"] is False


def test_event_has_the_api_gateway_shape():
    from email_service.local import build_event

    event = build_event("POST", {"X-Signature": "sha256=ab"}, b'{"a": 1}', "127.0.0.1", "rid")

    assert event["httpMethod"] == "POST"
    assert event["path"] == "/send-email"
    assert event["resource"] == "/send-email"
    assert event["headers"] == {"X-Signature": "sha256=ab"}
    assert event["body"] == '{"a": 1}'
    assert event["isBase64Encoded"] is False
    assert event["requestContext"]["requestId"] == "rid"
    assert event["requestContext"]["path"] == "/dev/send-email"
    assert event["requestContext"]["stage"] == "dev"


def test_binary_body_keeps_its_exact_bytes():
    import base64

    from email_service.local import build_event

    event = build_event("POST", {}, b"\xff\xfe", "127.0.0.1", "rid")

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe"


@pytest.mark.parametrize("hms_env", [None, "", "development"])
def test_development_gets_the_development_secret(hms_env):
    from email_service.local import apply_development_defaults

    environ = {} if hms_env is None else {"HMS_ENV": hms_env}

    apply_development_defaults(environ)

    assert environ["EMAIL_SERVICE_SECRET"] == "dev-email-secret"


@pytest.mark.parametrize("hms_env", ["production", "testing"])
def test_no_development_secret_outside_development(hms_env):
    from email_service.local import apply_development_defaults

    environ = {"HMS_ENV": hms_env}

    with pytest.raises(SystemExit, match="EMAIL_SERVICE_SECRET"):
        apply_development_defaults(environ)
    assert "EMAIL_SERVICE_SECRET" not in environ


def test_a_set_secret_is_kept():
    from email_service.local import apply_development_defaults

    environ = {"HMS_ENV": "production", "EMAIL_SERVICE_SECRET": "from-ssm"}

    apply_development_defaults(environ)

    assert environ["EMAIL_SERVICE_SECRET"] == "from-ssm"
