"""Every action, as received by a real SMTP server: envelope, headers, both parts, wording."""

import logging

import pytest

from tests.email_service.email_testkit import (
    SAMPLE_DATA,
    SECRET,
    SMTP_PASSWORD,
    SMTP_USER,
    expected_message_id,
)

CASES = [
    ("SIGNUP_WELCOME", "patient", "Welcome to HMS, Grace Hopper", "your patient account"),
    ("SIGNUP_WELCOME", "doctor", "Welcome to HMS, Grace Hopper", "publish your availability"),
    (
        "DOCTOR_APPROVED",
        None,
        "You are approved: patients can now book you, Dr. Ada Byron",
        "find you",
    ),
    ("DOCTOR_DECLINED", None, "Your doctor account was not approved", "could not verify"),
    (
        "BOOKING_CONFIRMATION",
        "patient",
        "Appointment confirmed: Dr. Ada Byron, Monday 2 March 2026, 09:00",
        "Your appointment is confirmed",
    ),
    (
        "BOOKING_CONFIRMATION",
        "doctor",
        "New appointment: Grace Hopper, Monday 2 March 2026, 09:00",
        "Grace Hopper has booked an appointment with you",
    ),
    (
        "BOOKING_CANCELLED",
        "patient",
        "Appointment cancelled: Dr. Ada Byron, Monday 2 March 2026, 09:00",
        "Your appointment with Dr. Ada Byron",
    ),
    (
        "BOOKING_CANCELLED",
        "doctor",
        "Appointment cancelled: Grace Hopper, Monday 2 March 2026, 09:00",
        "The appointment with Grace Hopper",
    ),
    (
        "BOOKING_RESCHEDULED",
        "patient",
        "Appointment moved: Dr. Ada Byron, now Tuesday 3 March 2026, 14:00",
        "Your appointment with Dr. Ada Byron (Cardiology) has moved",
    ),
    (
        "BOOKING_RESCHEDULED",
        "doctor",
        "Appointment moved: Grace Hopper, now Tuesday 3 March 2026, 14:00",
        "The appointment with Grace Hopper has moved",
    ),
    (
        "APPOINTMENT_REMINDER",
        "patient",
        "Reminder: appointment with Dr. Ada Byron, Monday 2 March 2026, 09:00",
        "A reminder of your appointment.",
    ),
    (
        "APPOINTMENT_REMINDER",
        "doctor",
        "Reminder: appointment with Grace Hopper, Monday 2 March 2026, 09:00",
        "A reminder of your appointment with Grace Hopper",
    ),
    (
        "WAITLIST_SLOT_OPEN",
        None,
        "A slot opened with Dr. Ada Byron on Monday 2 March 2026",
        "you are on the waiting list",
    ),
    ("PASSWORD_RESET", None, "Set a new password for your HMS account", "The link works once"),
    ("ACCOUNT_INVITE", None, "Your HMS account is ready: choose a password", "front desk"),
    (
        "STAFF_INVITE",
        None,
        "Your HMS front-desk account is ready: choose a password",
        "authenticator application",
    ),
    ("RUNNING_LATE", None, "Dr. Ada Byron is running about 30 minutes late", "still stands"),
    (
        "MISSED_APPOINTMENT",
        None,
        "We missed you: your appointment with Dr. Ada Byron, Monday 2 March 2026, 09:00 (UTC)",
        "new bookings are made by the front desk",
    ),
    (
        "VISIT_INSTRUCTIONS",
        None,
        "Dr. Ada Byron left you instructions after your visit",
        "https://hms.test/patient/appointments/42",
    ),
    ("DAILY_AGENDA", None, "Your day, Monday 2 March 2026: 2 appointments", "Alan Turing"),
    ("SCHEDULE_CHANGED", None, "Your schedule was changed by the front desk", "removed the open"),
    ("EMAIL_CHANGE_CONFIRM", None, "Confirm your new HMS sign-in email", "The link works once"),
    ("EMAIL_CHANGED", None, "Your HMS sign-in email was changed", "grace.new@example.org"),
    ("PASSWORD_CHANGED", None, "Your HMS password was changed", "call the clinic's front desk"),
    ("ACCOUNT_CLOSED", None, "Your HMS account is closed", "Your doctors have been told"),
    ("TWO_STEP_ENABLED", None, "Two-step sign-in is on for your HMS account", "recovery codes"),
    (
        "TWO_STEP_DISABLED",
        None,
        "Two-step sign-in is off for your HMS account",
        "front desk, at your request",
    ),
]


@pytest.mark.parametrize(
    ("action", "variant", "subject", "phrase"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_each_action_arrives_over_smtp(
    smtp_server, send, payload, action, variant, subject, phrase
):
    body = payload(action, variant, request_id=f"{action}-{variant}-1")

    reply = send(body)

    assert reply.status == 200, reply.body
    assert reply.body == {"ok": True, "message_id": expected_message_id(body["id"])}
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["grace@example.org"]
    assert envelope.mail_from == "no-reply@hms.local"
    [message] = smtp_server.messages()
    assert message["Subject"] == subject
    assert message["To"] == "grace@example.org"
    assert message["From"] == "HMS <no-reply@hms.local>"
    assert message["Message-ID"] == expected_message_id(body["id"])
    assert message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    assert phrase.lower() in text.lower()
    assert phrase.lower() in page.lower()
    assert '<html lang="en">' in page
    for value in ("Dr. Ada Byron", "Cardiology"):
        if value in SAMPLE_DATA[action].values():
            assert value in text
            assert value in page


def test_each_recipient_role_gets_its_own_wording(smtp_server, send, payload):
    send(payload("BOOKING_CONFIRMATION", "patient", request_id="p"))
    send(payload("BOOKING_CONFIRMATION", "doctor", request_id="d"))

    patient, doctor = (m.get_body(("plain",)).get_content() for m in smtp_server.messages())
    assert patient.startswith("Hello Grace Hopper,")
    assert doctor.startswith("Hello Dr. Ada Byron,")
    assert patient != doctor


def test_optional_fields_show_when_present(smtp_server, send, payload):
    send(payload("BOOKING_CONFIRMATION", "patient"))

    [message] = smtp_server.messages()
    text = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    assert "Bring the ECG\nfrom last year" in text
    assert "Bring the ECG<br>\nfrom last year" in page
    assert "https://hms.test/booking/appointments/42.ics" in text
    assert 'href="https://hms.test/booking/appointments/42.ics"' in page
    assert 'href="https://hms.test/patient/appointments"' in page


@pytest.mark.parametrize("role", ["patient", "doctor"])
def test_a_cancellation_says_why_when_a_reason_was_given(smtp_server, send, payload, role):
    send(payload("BOOKING_CANCELLED", role, cancel_reason='Unwell <today> & "sorry"'))

    [message] = smtp_server.messages()
    text = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    assert 'Cancelled by: Dr. Ada Byron\n\nReason: Unwell <today> & "sorry"' in text
    assert "<strong>Reason:</strong> Unwell &lt;today&gt; &amp; &quot;sorry&quot;" in page


def test_a_cancellation_reason_stays_on_one_line(smtp_server, send, payload):
    reply = send(payload("BOOKING_CANCELLED", "patient", cancel_reason="one\nBcc: x@evil.test"))

    assert reply.status == 400
    assert smtp_server.messages() == []


def test_a_doctor_waiting_for_approval_is_told_so_in_the_welcome(smtp_server, send, payload):
    send(payload("SIGNUP_WELCOME", "doctor", review_phone="+1 555 0199"))
    send(payload("SIGNUP_WELCOME", "doctor", request_id="listed"))

    waiting, listed = smtp_server.messages()
    text = waiting.get_body(("plain",)).get_content()
    page = waiting.get_body(("html",)).get_content()
    assert "as soon as the front desk approves your account" in " ".join(text.split())
    assert "Call the front desk on +1 555 0199." in " ".join(text.split())
    assert "<strong>+1 555 0199</strong>" in page
    assert text.index("front desk approves") < text.index("Sign in: https://hms.test/auth/login")
    assert "approves" not in listed.get_body(("plain",)).get_content()


@pytest.mark.parametrize("absent", [None, ""], ids=["null", "empty"])
def test_optional_fields_may_be_absent(smtp_server, send, payload, absent):
    body = payload("BOOKING_CONFIRMATION", "patient")
    for name in ("notes", "ics_url", "manage_url"):
        body["data"][name] = absent
    body["data"]["unknown_extra"] = "ignored"

    reply = send(body)

    assert reply.status == 200, reply.body
    [message] = smtp_server.messages()
    text = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    assert "Notes" not in text
    assert "calendar" not in text
    assert "<a " not in page
    assert "ignored" not in text


def test_every_action_works_with_required_fields_only(smtp_server, send, payload):
    from email_service.actions import ACTIONS

    for action, spec in ACTIONS.items():
        body = payload(action, request_id=action)
        body["data"] = {name: body["data"][name] for name in spec.required}
        assert send(body).status == 200, action
    assert len(smtp_server.envelopes) == len(ACTIONS)


def test_html_escapes_what_the_user_typed(smtp_server, send, payload):
    body = payload(
        "BOOKING_CONFIRMATION",
        "doctor",
        notes='<script>alert("x")</script>',
        patient_name="Bobby <b>Tables</b> & Co",
    )

    assert send(body).status == 200
    [message] = smtp_server.messages()
    page = message.get_body(("html",)).get_content()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "Bobby &lt;b&gt;Tables&lt;/b&gt; &amp; Co" in page
    assert "<b>Tables" not in page
    text = message.get_body(("plain",)).get_content()
    assert '<script>alert("x")</script>' in text


def test_a_days_agenda_keeps_one_line_per_appointment_and_escapes_names(smtp_server, send, payload):
    agenda = "09:00-09:30  Bobby <b>Tables</b>\n10:00-10:30  Alan Turing"

    assert send(payload("DAILY_AGENDA", None, agenda=agenda)).status == 200

    [message] = smtp_server.messages()
    text = message.get_body(("plain",)).get_content()
    assert "09:00-09:30  Bobby <b>Tables</b>\n10:00-10:30  Alan Turing" in text
    page = message.get_body(("html",)).get_content()
    assert "09:00-09:30  Bobby &lt;b&gt;Tables&lt;/b&gt;<br>\n10:00-10:30  Alan Turing" in page


def test_mail_from_is_configurable(smtp_server, send, payload, monkeypatch):
    monkeypatch.setenv("MAIL_FROM", "Clinic <clinic@hospital.example>")

    assert send(payload("SIGNUP_WELCOME")).status == 200

    [envelope] = smtp_server.envelopes
    assert envelope.mail_from == "clinic@hospital.example"
    assert smtp_server.messages()[0]["From"] == "Clinic <clinic@hospital.example>"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_login_when_username_is_set(smtp_auth_server, send, payload, monkeypatch):
    monkeypatch.setenv("SMTP_USERNAME", SMTP_USER)
    monkeypatch.setenv("SMTP_PASSWORD", SMTP_PASSWORD)

    reply = send(payload("SIGNUP_WELCOME"))

    assert reply.status == 200, reply.body
    assert len(smtp_auth_server.envelopes) == 1


def test_one_log_line_per_message_without_body_or_secret(smtp_server, send, payload, caplog):
    caplog.set_level(logging.INFO, logger="email_service")
    body = payload("BOOKING_CONFIRMATION", "patient", notes="private symptoms")

    assert send(body).status == 200

    records = [r for r in caplog.records if r.name == "email_service"]
    assert len(records) == 1
    line = records[0].getMessage()
    assert "BOOKING_CONFIRMATION" in line
    assert expected_message_id(body["id"]) in line
    for secret_or_body in (SECRET, "private symptoms", "Grace Hopper", "grace@"):
        assert secret_or_body not in line


def test_non_ascii_names_survive_headers_and_body(smtp_server, send, payload):
    body = payload(
        "BOOKING_CONFIRMATION", "patient", doctor_name="Dr. Zoë Ångström", patient_name="Łukasz"
    )

    assert send(body).status == 200

    [message] = smtp_server.messages()
    assert message["Subject"].startswith("Appointment confirmed: Dr. Zoë Ångström,")
    assert "Hello Łukasz," in message.get_body(("plain",)).get_content()
    assert "Dr. Zoë Ångström" in message.get_body(("html",)).get_content()


def test_long_subject_is_shortened(smtp_server, send, payload):
    body = payload("SIGNUP_WELCOME", full_name="A" * 1500)

    assert send(body).status == 200

    subject = smtp_server.messages()[0]["Subject"]
    assert len(subject) == 200
    assert subject.endswith("\u2026")


def test_a_schedule_change_keeps_one_line_per_change_and_escapes_them(smtp_server, send, payload):
    changes = "Bobby <b>Tables</b> published 2 times on Mon 02 Mar.\nOlivia Desk removed one."

    assert send(payload("SCHEDULE_CHANGED", None, changes=changes)).status == 200

    [message] = smtp_server.messages()
    text = message.get_body(("plain",)).get_content()
    assert "Bobby <b>Tables</b> published 2 times on Mon 02 Mar.\nOlivia Desk removed one." in text
    page = message.get_body(("html",)).get_content()
    assert "Bobby &lt;b&gt;Tables&lt;/b&gt; published 2 times on Mon 02 Mar.<br>\nOlivia" in page
