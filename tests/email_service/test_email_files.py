"""The file backend used when SMTP_HOST is unset: one .eml per idempotency key."""

import email
import email.policy
import hashlib

from tests.email_service.email_testkit import expected_message_id


def _eml_files(directory):
    return sorted(directory.glob("*.eml")) if directory.exists() else []


def test_message_lands_in_mail_dir(send, payload, mail_dir):
    assert not mail_dir.exists()  # created on first use

    reply = send(payload("BOOKING_CONFIRMATION", "patient", request_id="file-1"))

    assert reply.status == 200, reply.body
    [path] = _eml_files(mail_dir)
    assert path.name == f"booking_confirmation-{hashlib.sha256(b'file-1').hexdigest()[:16]}.eml"
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Message-ID"] == expected_message_id("file-1") == reply.body["message_id"]
    assert message["To"] == "grace@example.org"
    assert message.get_body(("plain",)) is not None
    assert message.get_body(("html",)) is not None


def test_a_retry_overwrites_instead_of_duplicating(send, payload, mail_dir):
    body = payload("APPOINTMENT_REMINDER", "doctor", request_id="reminder-42-24h")

    first, second = send(body), send(body)

    assert first.status == second.status == 200
    assert first.body["message_id"] == second.body["message_id"]
    assert len(_eml_files(mail_dir)) == 1
    assert [p.name for p in mail_dir.iterdir()] == [_eml_files(mail_dir)[0].name]  # no temp file


def test_different_requests_make_different_files(send, payload, mail_dir):
    send(payload("SIGNUP_WELCOME", request_id="a"))
    send(payload("SIGNUP_WELCOME", request_id="b"))

    assert len(_eml_files(mail_dir)) == 2


def test_unwritable_mail_dir_is_500(send, payload, mail_dir, monkeypatch):
    blocker = mail_dir.parent / "not-a-directory"
    blocker.write_text("a file where the directory should be")
    monkeypatch.setenv("MAIL_DIR", str(blocker / "mail"))

    reply = send(payload("SIGNUP_WELCOME"))

    assert reply.status == 500
    assert "MAIL_DIR" in reply.body["error"]
