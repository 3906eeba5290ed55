"""When something goes wrong a person is told what happened and what to do next."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import PHONE, Journey, sign_in, use_menu
from tests.factories import PASSWORD as FACTORY_PASSWORD

pytestmark = pytest.mark.e2e


def test_wrong_password_invalid_form_and_missing_page(page, make):
    journey = Journey("errors")
    patient = make.patient(user__email="ruth@example.com", user__full_name="Ruth Lake")

    page.goto("/auth/login")
    page.get_by_label("Email").fill(patient.user.email)
    page.get_by_label("Password", exact=True).fill("not my password at all")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 400
    password = page.get_by_label("Password", exact=True)
    expect(password).to_have_accessible_description(re.compile("Invalid email or password"))
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Email")).to_have_value(patient.user.email)  # nothing to retype
    journey.checkpoint(page, "wrong-password")

    page.get_by_role("link", name="doctor", exact=True).click()
    page.get_by_label("Full name").fill("Dr. Half Done")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Confirm password").fill("different")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Create account").click()
    assert answer.value.status == 400
    expect(page.get_by_role("heading", name="Create a doctor account")).to_be_visible()
    for label, error in [
        ("Email", "Invalid email address"),
        ("Password", "between 8 and 128 characters"),
        ("Confirm password", "The passwords do not match."),
        ("Specialization", "This field is required."),
        ("Years of experience", "This field is required."),
    ]:
        field = page.get_by_label(label, exact=True)
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_accessible_description(re.compile(re.escape(error)))
    expect(page.get_by_label("Full name")).not_to_have_attribute("aria-invalid", "true")
    journey.checkpoint(page, "invalid-signup")

    response = page.goto("/patient/doctors/999999/nowhere")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    journey.checkpoint(page, "not-found")
    page.get_by_role("link", name="Go to the home page").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Book your appointment")

    sign_in(page, patient.user.email, FACTORY_PASSWORD)
    response = page.goto("/doctor/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_text("use the menu above")).to_be_visible()
    journey.checkpoint(page, "forbidden")


def test_focus_moves_through_sign_in_in_reading_order(page):
    page.goto("/auth/login")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # it shows itself when focused
    page.get_by_label("Email").focus()
    for name in ("Password", "Keep me signed in on this device"):
        page.keyboard.press("Tab")
        expect(page.get_by_label(name, exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="patient", exact=True)).to_be_focused()


def test_phone_menu_opens_from_its_toggler(browse):
    journey = Journey("phone-menu")
    page = browse(PHONE)
    page.goto("/")
    menu = page.get_by_role("navigation", name="Main")
    expect(menu.get_by_role("link", name="Sign in")).to_be_hidden()
    toggler = page.get_by_role("button", name="Toggle navigation")
    expect(toggler).to_have_attribute("aria-expanded", "false")

    toggler.click()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("link", name="Sign in")).to_be_visible()
    journey.checkpoint(page, "menu-open")

    use_menu(page, "Patient sign-up")  # the menu is open already: the link is clicked directly
    expect(page.get_by_role("heading", name="Create a patient account")).to_be_visible()
