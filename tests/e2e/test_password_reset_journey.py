"""A patient who forgot their password gets back in by the emailed link, on a phone."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import PHONE, Journey, sign_in, sign_out, use_menu
from tests.factories import PASSWORD as OLD_PASSWORD

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "my garden has three apple trees"


def test_a_forgotten_password_is_reset_from_the_emailed_link(browse, make, mailbox):
    journey = Journey("reset")
    make.patient(user__full_name="Grace Hopper", user__email="grace@example.com")
    page = browse(PHONE)

    page.goto("/auth/login")
    page.get_by_role("link", name="Forgotten your password?").click()
    page.get_by_label("Email").fill("grace@example.com")
    journey.checkpoint(page, "ask")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("alert").filter(has_text="is on its way")).to_be_visible()

    mail = mailbox.expect(("PASSWORD_RESET", "grace@example.com"))
    text = mail["PASSWORD_RESET", "grace@example.com"].get_body(("plain",)).get_content()
    link = re.search(r"https?://\S+/auth/password/reset/\S+", text).group(0)
    page.goto(link)
    expect(page.get_by_text("grace@example.com")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    journey.checkpoint(page, "choose")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("alert").filter(has_text="Your new password is set")).to_be_visible()

    page.goto(link)  # the link worked once
    expect(page.get_by_role("alert").filter(has_text="already been used")).to_be_visible()
    journey.checkpoint(page, "used-link")

    sign_in(page, "grace@example.com", OLD_PASSWORD)
    expect(page.get_by_text("Invalid email or password.")).to_be_visible()
    sign_in(page, "grace@example.com", NEW_PASSWORD)
    # the factory made her account: this is its first sign-in, so not "Welcome back"
    expect(page.get_by_role("alert").filter(has_text="Welcome, Grace Hopper")).to_be_visible()
    mailbox.expect(("PASSWORD_CHANGED", "grace@example.com"))


def test_a_new_sign_in_email_takes_effect_from_the_emailed_link(browse, make, mailbox):
    journey = Journey("new-email")
    make.patient(user__full_name="Grace Hopper", user__email="grace@example.com")
    page = browse(PHONE)
    sign_in(page, "grace@example.com", OLD_PASSWORD)

    use_menu(page, "Profile")
    page.get_by_role("link", name="change it").click()
    page.get_by_label("New email").fill("grace@new.example.org")
    page.get_by_label("Current password").fill(OLD_PASSWORD)
    journey.checkpoint(page, "ask")
    page.get_by_role("button", name="Send a confirmation link").click()
    expect(page.get_by_role("alert").filter(has_text="We have sent a link")).to_be_visible()

    mail = mailbox.expect(("EMAIL_CHANGE_CONFIRM", "grace@new.example.org"))
    text = mail["EMAIL_CHANGE_CONFIRM", "grace@new.example.org"].get_body(("plain",)).get_content()
    page.goto(re.search(r"https?://\S+/auth/email/confirm/\S+", text).group(0))
    journey.checkpoint(page, "confirm")
    page.get_by_role("button", name="Use grace@new.example.org").click()
    expect(page.get_by_role("alert").filter(has_text="You now sign in with")).to_be_visible()

    mailbox.expect(
        ("EMAIL_CHANGED", "grace@example.com"), ("EMAIL_CHANGED", "grace@new.example.org")
    )
    sign_out(page)  # this browser stayed signed in; the new address signs in from now on
    sign_in(page, "grace@new.example.org", OLD_PASSWORD)
    expect(page.get_by_role("alert").filter(has_text="Welcome back, Grace Hopper")).to_be_visible()
