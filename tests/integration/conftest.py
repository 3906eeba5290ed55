"""Fixtures for the integration tests that need the email service (see mail_fixtures.py)."""

from tests.integration.mail_fixtures import email_service, mailbox  # noqa: F401 - fixtures
