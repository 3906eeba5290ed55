"""A doctor protects her account with two-step sign-in: she scans the QR code (here, reads the
key it stands for, as an authenticator does), proves it with a first code, keeps her recovery
codes, and from then on signs in with a code from her phone, or a recovery code when it is at
home."""

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import Journey, sign_in, sign_out, use_menu
from tests.factories import PASSWORD as FACTORY_PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def doctor(db, make):
    return make.doctor(user__full_name="Dr. Grace Okoye", user__email="grace@example.com").user


def test_a_doctor_turns_on_two_step_sign_in_and_signs_in_with_it(browse, doctor, mailbox):
    journey = Journey("two-step")
    page = browse()
    sign_in(page, "grace@example.com", FACTORY_PASSWORD)
    use_menu(page, "Password")
    page.get_by_role("link", name="Set up two-step sign-in").click()
    expect(page.get_by_role("heading", name="Two-step sign-in", exact=True)).to_be_visible()
    expect(page.get_by_role("img", name="QR code to scan")).to_be_visible()
    journey.checkpoint(page, "set-up")

    authenticator = pyotp.TOTP(page.locator("#setup-key").inner_text().replace(" ", ""))
    page.get_by_label("The six-digit code it shows").fill("123 456")
    page.get_by_label("Current password").fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    page.get_by_label("The six-digit code it shows").fill(authenticator.now())
    page.get_by_label("Current password").fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Turn on two-step sign-in").click()

    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    listed = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    codes = listed.all_inner_texts()
    assert len(codes) == 10
    expect(page.get_by_role("button", name="Print them")).to_be_visible()
    journey.checkpoint(page, "recovery-codes")
    page.get_by_role("link", name="I have kept them").click()
    expect(page.get_by_text("You have 10 of your recovery codes left.")).to_be_visible()
    journey.checkpoint(page, "on")
    mailbox.expect_text("TWO_STEP_ENABLED", "grace@example.com", "recovery codes")

    sign_out(page)
    sign_in(page, "grace@example.com", FACTORY_PASSWORD)
    expect(page.get_by_role("heading", name="One more step")).to_be_visible()
    journey.checkpoint(page, "code")
    # The set-up's code cannot be used again; the phone's next one (30 s on) is already good.
    page.get_by_label("Code").fill(authenticator.at(time.time() + authenticator.interval))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Welcome back, Dr. Grace Okoye.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/doctor/$"))

    sign_out(page)
    sign_in(page, "grace@example.com", FACTORY_PASSWORD)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("You signed in with a recovery code")).to_be_visible()
    expect(page.get_by_text("You have 9 left.")).to_be_visible()
