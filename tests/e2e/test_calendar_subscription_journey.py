"""A patient who lives in Outlook subscribes to her appointments: she makes her calendar's
secret address, copies it with one click, her calendar application fetches it with no session,
and when she makes a new one the old address stops working."""

import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from tests.e2e.helpers import Journey, sign_in
from tests.factories import PASSWORD as FACTORY_PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def booked(db, make):
    start = (datetime.now(UTC) + timedelta(days=3)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    doctor = make.doctor(user__full_name="Dr. Lin Chen", specialization="Dermatology")
    patient = make.patient(user__full_name="Rosa Parks", user__email="rosa@example.com")
    return make.appointment(slot=make.slot(doctor=doctor, start_at=start), patient=patient)


def fetch(address: str) -> bytes:
    """As a calendar application does: a plain GET, no cookie."""
    with urllib.request.urlopen(address, timeout=10) as response:  # noqa: S310 - the live server
        assert response.headers["Content-Type"].startswith("text/calendar")
        return response.read()


def test_a_patient_subscribes_her_calendar_application(browse, booked):
    journey = Journey("calendar-subscription")
    page = browse()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, "rosa@example.com", FACTORY_PASSWORD)
    page.get_by_role("link", name="Subscribe to your appointments").click()
    expect(page.get_by_role("heading", name="Your appointments in any calendar")).to_be_visible()
    journey.checkpoint(page, "off")

    page.get_by_role("button", name="Make my calendar address").click()
    expect(page.get_by_role("alert").filter(has_text="address is ready")).to_be_visible()
    field = page.get_by_label("Your calendar address")
    address = field.input_value()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == address
    journey.checkpoint(page, "on")

    [event] = Calendar.from_ical(fetch(address)).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Appointment with Dr. Lin Chen (Dermatology)"
    assert event.decoded("DTSTART") == booked.start_at

    page.get_by_role("button", name="Make a new address").click()
    expect(page.get_by_role("alert").filter(has_text="the old one no longer works")).to_be_visible()
    renewed = page.get_by_label("Your calendar address").input_value()
    assert renewed != address
    assert Calendar.from_ical(fetch(renewed)).walk("VEVENT")
    with pytest.raises(urllib.error.HTTPError) as gone:
        fetch(address)
    assert gone.value.code == 404
