"""Who may do what: every route of the app against every actor, in one table (route_table.py).

Anonymous visitors are sent to sign in, the wrong role gets 403, another person's object 404
(IDOR: cancelling, viewing, rescheduling or downloading someone else's appointment, deleting
another doctor's slot, recording another doctor's visit, leaving another patient's waitlist),
owners get their page or their change. A refused request changes nothing in the database; an
allowed POST changes it. Every answer carries the security headers. The matrix runs on the app
with Google configured (loopback provider), so the Google routes are exercised too.
"""

import pytest

from tests.integration.route_table import LOGIN, ROWS, app_routes, table_routes
from tests.integration.security_world import ACTORS, ANON, snapshot


def test_the_table_lists_every_route_of_the_app():
    """A new route without a row fails here: decide who may reach it, then add the row."""
    assert table_routes() == app_routes()


def test_the_table_has_one_row_per_route_and_an_answer_per_actor():
    assert len(ROWS) == len(table_routes())
    for row in ROWS:
        assert set(row.expected) == set(ACTORS), row
        assert row.method == "POST" or not row.changes, f"{row}: a GET must never change state"


def assert_headers(response) -> None:
    """Whatever the answer, it is typed and wrapped in the security headers (ASVS 14.4)."""
    content_type = response.headers["Content-Type"]
    assert "charset=utf-8" in content_type or content_type == "application/json", content_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("row", ROWS, ids=str)
def test_access(google_client, world, login_as, row, actor):
    if actor != ANON:
        login_as(google_client, world.user(actor))
    url = row.url(world)
    data = row.data(world) if row.data else None
    before = snapshot()

    response = google_client.open(url, method=row.method, data=data)

    expected = row.expected[actor]
    if expected == LOGIN:
        assert response.status_code == 302, response.status_code
        assert response.headers["Location"].startswith("/auth/login?next=")
    else:
        assert response.status_code == expected
    assert_headers(response)
    if actor in row.changes:
        assert snapshot() != before, "an allowed request that changed nothing"
    else:
        assert snapshot() == before, "a refused (or read-only) request changed the database"
