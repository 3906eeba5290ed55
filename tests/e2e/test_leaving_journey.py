"""A patient moving away: she downloads her data from her details page, then closes her account
with her password. She is signed out, signing in again tells her whom to call, her doctor is
told of the cancelled visit and she gets the confirmation."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import Journey, sign_in, use_menu
from tests.factories import PASSWORD as FACTORY_PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def booked(db, make):
    start = (datetime.now(UTC) + timedelta(days=5)).replace(
        hour=11, minute=0, second=0, microsecond=0
    )
    doctor = make.doctor(user__full_name="Dr. Mae Jemison", user__email="mae@example.com")
    patient = make.patient(user__full_name="Ida Wells", user__email="ida@example.com")
    return make.appointment(slot=make.slot(doctor=doctor, start_at=start), patient=patient)


def test_a_patient_takes_her_data_and_closes_her_account(browse, booked, mailbox):
    journey = Journey("leaving")
    page = browse()
    sign_in(page, "ida@example.com", FACTORY_PASSWORD)
    use_menu(page, "Profile")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download your data").click()
    data = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert data["account"]["email"] == "ida@example.com"
    assert [a["doctor"] for a in data["appointments"]] == ["Dr. Mae Jemison"]

    page.get_by_role("link", name="Close your account").click()
    expect(page.get_by_text("Your upcoming appointment: cancelled")).to_be_visible()
    journey.checkpoint(page, "close")

    page.get_by_label("Current password").fill("not the password")
    page.get_by_role("button", name="Close my account").click()
    expect(page.get_by_text("Your password is not correct.")).to_be_visible()
    page.get_by_label("Current password").fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Close my account").click()
    expect(page.get_by_role("alert").filter(has_text="Your account is closed")).to_be_visible()
    journey.checkpoint(page, "closed")

    mailbox.expect(("ACCOUNT_CLOSED", "ida@example.com"), ("BOOKING_CANCELLED", "mae@example.com"))
    sign_in(page, "ida@example.com", FACTORY_PASSWORD)
    expect(
        page.get_by_text("This account is closed. To reopen it, call the front desk")
    ).to_be_visible()
