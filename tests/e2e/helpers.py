"""What every journey does at its key steps, and the few things a person does on every visit.

`Journey.checkpoint` is the reviewer's and the auditor's eye: a full-page screenshot at desktop
and phone size, axe-core against WCAG 2.1 AA at both, and at phone size the checks that the page
fits (no sideways scrolling, every control on screen or in a scrolling table, the menu toggler
shown). The helpers find elements by label, role and visible text, as a person would.
"""

from __future__ import annotations

import re
import time
from email.message import EmailMessage
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
PASSWORD = "a long and unusual passphrase"
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
BLOCKING_IMPACTS = {"serious", "critical"}
MAIL_WAIT_SECONDS = 20

_axe = Axe()

# Controls that stick out of the phone's screen and are not inside something that scrolls
# sideways (a .table-responsive wrapper) cannot be reached: a layout fact, read from the page.
_UNREACHABLE_CONTROLS = """
() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => {
    for (let node = el.parentElement; node; node = node.parentElement) {
      const overflow = getComputedStyle(node).overflowX;
      if (overflow === 'auto' || overflow === 'scroll') return true;
    }
    return false;
  };
  return [...document.querySelectorAll('a[href], button, input, select, textarea')]
    .filter((el) => el.offsetParent !== null && el.type !== 'hidden')
    .filter((el) => {
      const box = el.getBoundingClientRect();
      return (box.left < -1 || box.right > width + 1) && !scrolls(el);
    })
    .map((el) => (el.innerText || el.value || el.name || el.outerHTML).trim().slice(0, 60));
}
"""


def assert_accessible(page: Page, where: str) -> None:
    """No serious or critical WCAG 2.1 A/AA violation on the page as it is now."""
    results = _axe.run(page, options=AXE_OPTIONS)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in blocking
    )
    assert not blocking, f"axe found accessibility violations on {where} ({page.url}):\n{report}"


def assert_fits_phone(page: Page, where: str) -> None:
    """At 375 px: no sideways scrolling, every control reachable, the menu behind its toggler."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"], f"{where} is {scroll_width}px wide on a phone"
    unreachable = page.evaluate(_UNREACHABLE_CONTROLS)
    assert not unreachable, f"controls off screen on a phone on {where}: {unreachable}"
    expect(page.get_by_role("button", name="Toggle navigation")).to_be_visible()


class Journey:
    """A journey's key steps, each recorded at both sizes and checked."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.steps = 0

    def checkpoint(self, page: Page, step: str) -> None:
        self.steps += 1
        where = f"{self.name} step {self.steps} ({step})"
        original = page.viewport_size
        for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
            resize(page, size)
            page.screenshot(
                path=SCREENSHOTS / f"{self.name}-{self.steps:02d}-{step}-{size_name}.png",
                full_page=True,
            )
            assert_accessible(page, f"{where} at {size_name} size")
            if size_name == "phone":
                assert_fits_phone(page, where)
        if original:
            resize(page, original)


def resize(page: Page, size: dict[str, int]) -> None:
    """Change the viewport and wait until the page has taken the new size.

    Chromium applies the new size asynchronously: a visibility check made straight after may
    still see the old layout (a menu toggler that is about to disappear, say).
    """
    page.set_viewport_size(size)
    page.wait_for_function(
        "([width, height]) => window.innerWidth === width && window.innerHeight === height",
        arg=[size["width"], size["height"]],
    )


def use_menu(page: Page, name: str, role: str = "link") -> None:
    """Click an item of the main menu, opening it first where it is collapsed (phones)."""
    page.wait_for_load_state("load")
    toggler = page.get_by_role("button", name="Toggle navigation")
    if toggler.is_visible() and toggler.get_attribute("aria-expanded") != "true":
        toggler.click()
        expect(toggler).to_have_attribute("aria-expanded", "true")
    menu = page.get_by_role("navigation", name="Main")
    menu.get_by_role(role, name=name).click()


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    # Wait for the page the form loads (its "load" event: stylesheets applied). Otherwise the
    # next step can meet the new page unstyled, where the phone menu's toggler looks visible.
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    use_menu(page, re.compile(r"^Sign out"), role="button")
    expect(page.get_by_text("You have been signed out.")).to_be_visible()


def choose_password_from(page: Page, invite: EmailMessage, password: str) -> None:
    """Follow an invitation's link (ACCOUNT_INVITE, STAFF_INVITE) and choose `password` there;
    the page is left on the form, filled in, for a checkpoint before `Set new password`."""
    text = invite.get_body(("plain",)).get_content()
    link = re.search(r"https?://[^/\s]+(/auth/password/reset/\S+)", text)
    page.goto(link.group(1))
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("Confirm new password").fill(password)


def fill_account(page: Page, full_name: str, email: str) -> None:
    page.get_by_label("Full name").fill(full_name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)


def sign_up_patient(page: Page, full_name: str, email: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="I am a patient").click()
    fill_account(page, full_name, email)
    page.get_by_label("Date of birth (optional)").fill("1990-05-17")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Your patient account is ready.")).to_be_visible()


class Mailbox:
    """The messages the SMTP server received, as the outbox and the email service sent them."""

    def __init__(self, recorder) -> None:
        self.recorder = recorder
        self.start = len(recorder.envelopes)  # what earlier tests caused is not this test's

    def received(self) -> list[tuple[str, str, EmailMessage]]:
        """(action, recipient, message) for every message since this test began."""
        envelopes = list(self.recorder.envelopes)
        messages = self.recorder.messages()[self.start : len(envelopes)]
        envelopes = envelopes[self.start :]
        return [
            (message["X-HMS-Action"], recipient.lower(), message)
            for envelope, message in zip(envelopes, messages, strict=True)
            for recipient in envelope.rcpt_tos
        ]

    def expect(self, *expected: tuple[str, str]) -> dict[tuple[str, str], EmailMessage]:
        """Wait until each (action, recipient) has arrived, as the live outbox worker sends
        them (woken by the commit on PostgreSQL: the wait is for the network, not a poll)."""
        wanted = {(action, to.lower()) for action, to in expected}
        deadline = time.monotonic() + MAIL_WAIT_SECONDS
        while True:
            got = {(action, to): message for action, to, message in self.received()}
            if wanted <= got.keys() or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        missing = wanted - got.keys()
        assert not missing, f"emails not received: {sorted(missing)}; got {sorted(got)}"
        return {key: got[key] for key in wanted}

    def expect_text(self, action: str, to: str, text: str) -> EmailMessage:
        """Wait for the (action, recipient) message whose text holds `text`: earlier messages of
        the same kind (a fixture's bookings, say) may still be arriving."""
        deadline = time.monotonic() + MAIL_WAIT_SECONDS
        while True:
            for got_action, recipient, message in self.received():
                body = message.get_body(("plain",)).get_content()
                if (got_action, recipient) == (action, to.lower()) and text in body:
                    return message
            assert time.monotonic() < deadline, f"no {action} to {to} saying {text!r}"
            time.sleep(0.1)
