"""Fixtures for the integration tests that live in helper modules, found by name."""

from tests.integration.calendar_flow import gctx, parties  # noqa: F401
from tests.integration.google_fakes import (  # noqa: F401
    google,
    google_app,
    google_client,
    google_provider,
)
from tests.integration.mail_fixtures import email_service, mailbox  # noqa: F401
from tests.integration.races import race_app  # noqa: F401
from tests.integration.security_world import world  # noqa: F401
