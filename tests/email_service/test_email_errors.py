"""Every refusal, with its status and reason, and proof that nothing was sent."""

import json

import pytest

from tests.email_service.email_testkit import SAMPLE_DATA, sign


def _body(**overrides):
    body = {
        "id": "req-err",
        "action": "BOOKING_CONFIRMATION",
        "to": "grace@example.org",
        "data": dict(SAMPLE_DATA["BOOKING_CONFIRMATION"]),
    }
    body.update(overrides)
    return body


def _with_data(**fields):
    body = _body()
    body["data"].update(fields)
    return body


def _without(field):
    body = _body()
    del body["data"][field]
    return body


BAD_REQUESTS = [
    ("not-json", b"{this is not json", "not valid JSON"),
    ("not-utf8", b'{"id": "\xff"}', "not valid JSON"),
    ("array", b"[]", "JSON object"),
    ("deep-nesting", b"[" * 30_000 + b"]" * 30_000, "nested too deeply"),
    ("unknown-action", _body(action="SEND_SPAM"), "unknown action 'SEND_SPAM'"),
    ("action-missing", _body(action=None), "unknown action"),
    ("id-missing", _body(id=None), "id must be"),
    ("id-empty", _body(id="  "), "id must be"),
    ("id-control-char", _body(id="a\nb"), "id must be"),
    ("id-too-long", _body(id="x" * 201), "id must be"),
    ("to-missing", _body(to=None), "to must be"),
    ("to-invalid", _body(to="not-an-address"), "to must be exactly one"),
    ("to-two-recipients", _body(to="a@example.org, b@example.org"), "to must be exactly one"),
    ("to-semicolon", _body(to="a@example.org;b@example.org"), "to must be exactly one"),
    ("to-display-name", _body(to="Eve <eve@example.org>"), "to must be exactly one"),
    ("to-crlf", _body(to="a@example.org\r\nBcc: all@example.org"), "to must be exactly one"),
    ("to-trailing-newline", _body(to="a@example.org\n"), "to must be exactly one"),
    ("to-trailing-comma", _body(to="a@example.org,"), "to must be exactly one"),
    ("to-quoted-comma", _body(to='"a,b"@example.org'), "to must be exactly one"),
    ("to-two-ats", _body(to="a@b@example.org"), "to must be exactly one"),
    ("to-group", _body(to="undisclosed-recipients:;"), "to must be exactly one"),
    ("to-angle-brackets", _body(to="<a@example.org>"), "to must be exactly one"),
    ("to-ip-literal", _body(to="a@[127.0.0.1]"), "to must be exactly one"),
    ("to-non-ascii", _body(to="jöhn@example.org"), "to must be exactly one"),
    ("to-too-long", _body(to="a" * 60 + "@" + "b" * 190 + ".org"), "at most 254"),
    ("to-not-string", _body(to=["a@example.org"]), "to must be"),
    ("data-missing", _body(data=None), "data must be a JSON object"),
    ("data-not-object", _body(data="x"), "data must be a JSON object"),
    ("field-missing", _without("doctor_name"), "missing required field(s): doctor_name"),
    ("field-empty", _with_data(start_display=""), "missing required field(s): start_display"),
    ("field-not-string", _with_data(patient_name=["x"]), "data.patient_name must be a string"),
    ("field-too-long", _with_data(notes="x" * 2001), "data.notes must be at most 2000"),
    (
        "header-injection",
        _with_data(doctor_name="Dr. X\r\nBcc: all@example.org"),
        "data.doctor_name must not contain line breaks",
    ),
    ("unicode-line-break", _with_data(start_display="9:00\u2028Bcc: x"), "line breaks"),
    ("control-char", _with_data(patient_name="Grace\x00"), "control characters"),
    ("bad-role", _with_data(recipient_role="admin"), "data.recipient_role must be one of"),
    ("javascript-url", _with_data(ics_url="javascript:alert(1)"), "data.ics_url must be"),
    ("relative-url", _with_data(manage_url="/patient/appointments"), "data.manage_url must be"),
]


@pytest.mark.parametrize(
    ("body", "reason"), [c[1:] for c in BAD_REQUESTS], ids=[c[0] for c in BAD_REQUESTS]
)
def test_bad_request_is_400_with_reason(smtp_server, send, body, reason):
    reply = send(body)

    assert reply.status == 400
    assert reply.body["ok"] is False
    assert reason in reply.body["error"]
    assert smtp_server.envelopes == []


def test_several_missing_fields_are_all_named(send):
    body = _without("doctor_name")
    del body["data"]["appointment_id"]

    reply = send(body)

    assert reply.status == 400
    assert "doctor_name" in reply.body["error"]
    assert "appointment_id" in reply.body["error"]


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (None, "missing X-Signature"),
        ("", "missing X-Signature"),
        ("sha256=" + "0" * 64, "bad signature"),
        (sign(b"another body"), "bad signature"),
        (sign(json.dumps(_body()).encode(), secret="wrong-secret"), "bad signature"),
        ("md5=abc", "X-Signature must be sha256="),
        ("sha256=", "X-Signature must be sha256="),
        ("sha256=\u00e9\u00e9", "bad signature"),
    ],
    ids=[
        "absent",
        "empty",
        "zeros",
        "other-body",
        "other-secret",
        "other-scheme",
        "no-digest",
        "non-ascii",
    ],
)
def test_bad_signature_is_401(smtp_server, send, signature, reason):
    reply = send(_body(), signature=signature)

    assert reply.status == 401
    assert reason in reply.body["error"]
    assert smtp_server.envelopes == []


def test_signature_is_checked_before_the_json(send):
    reply = send(b"{this is not json", signature="sha256=" + "0" * 64)

    assert reply.status == 401


def test_signature_header_name_is_case_insensitive(smtp_server, send):
    assert send(_body(), header_name="x-SIGNATURE").status == 200
    assert len(smtp_server.envelopes) == 1


def test_base64_body_is_verified_on_its_raw_bytes(smtp_server, send):
    assert send(_body(), base64_body=True).status == 200
    assert len(smtp_server.envelopes) == 1


def test_missing_secret_is_500_never_accept_anything(smtp_server, send, monkeypatch):
    monkeypatch.delenv("EMAIL_SERVICE_SECRET")
    raw = json.dumps(_body()).encode()

    reply = send(raw, signature=sign(raw, secret=""))

    assert reply.status == 500
    assert reply.body == {"ok": False, "error": "service misconfigured"}
    assert smtp_server.envelopes == []


def test_body_over_64_kib_is_413(smtp_server, send):
    from email_service.handler import MAX_BODY_BYTES

    raw = json.dumps(_body()).encode()
    at_limit = raw + b" " * (MAX_BODY_BYTES - len(raw))
    assert send(at_limit).status == 200

    reply = send(at_limit + b" ")

    assert reply.status == 413
    assert "65536" in reply.body["error"]
    assert len(smtp_server.envelopes) == 1


def test_base64_body_over_64_kib_is_413_and_never_decoded_whole(smtp_server, send):
    raw = json.dumps(_body()).encode()

    reply = send(raw + b" " * (64 * 1024 + 1 - len(raw)), base64_body=True)

    assert reply.status == 413
    assert smtp_server.envelopes == []


def test_smtp_refusal_is_502_with_the_reason(smtp_refusing, send):
    reply = send(_body())

    assert reply.status == 502
    assert "550 mailbox unavailable" in reply.body["error"]


def test_smtp_down_is_502_with_the_reason(smtp_down, send):
    reply = send(_body())

    assert reply.status == 502
    assert "could not be reached" in reply.body["error"]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_login_failure_is_502(smtp_auth_server, send, monkeypatch):
    monkeypatch.setenv("SMTP_USERNAME", "hms-mailer")
    monkeypatch.setenv("SMTP_PASSWORD", "wrong")

    reply = send(_body())

    assert reply.status == 502
    assert "535" in reply.body["error"]
    assert smtp_auth_server.envelopes == []


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("SMTP_PORT", "smtp", "SMTP_PORT"),
        ("MAIL_FROM", "not an address", "MAIL_FROM"),
    ],
)
def test_bad_service_configuration_is_500(smtp_server, send, monkeypatch, name, value, reason):
    monkeypatch.setenv(name, value)

    reply = send(_body())

    assert reply.status == 500
    assert reason in reply.body["error"]
    assert smtp_server.envelopes == []


def test_event_that_is_not_a_proxy_event_is_rejected():
    from email_service.handler import send_email

    result = send_email("not an event", None)

    assert result["statusCode"] == 400
    assert json.loads(result["body"])["ok"] is False
