"""Fixtures for the integration tests that live in helper modules."""

from tests.integration.calendar_flow import gctx, parties  # noqa: F401 - fixtures, found by name
from tests.integration.google_fakes import (  # noqa: F401 - fixtures, found by name
    google,
    google_app,
    google_client,
    google_provider,
)
