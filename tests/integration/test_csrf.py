"""CSRF: every POST route of the app refuses a request without a valid token (400, nothing
changed), signed in as someone who could otherwise do it; the same request with the token of
the person's own session goes through, so the refusal is the token's doing and nothing else's.

The rows are the authorization matrix's (route_table.py), which lists every route of the app.
"""

import pytest

from tests.integration.google_fakes import google_app_for
from tests.integration.route_table import LOGIN, ROWS, app_routes
from tests.integration.security_world import ANON, snapshot

POSTS = [row for row in ROWS if row.method == "POST"]
EXPIRED = "Your form expired or was sent from another page"


@pytest.fixture(scope="module")
def csrf_app(app, database_url, google_provider):
    """The app as in production: CSRF on (and Google configured, so its routes exist)."""
    return google_app_for(database_url, google_provider.metadata_url, WTF_CSRF_ENABLED=True)


def allowed_actor(row) -> str:
    """Someone the route serves: whoever changes something with it, else whoever it answers."""
    if row.changes:
        return row.changes[0]
    return next(a for a, status in row.expected.items() if status not in (LOGIN, 403, 404))


def client_for(csrf_app, login_as, world, actor):
    client = csrf_app.test_client()
    if actor != ANON:
        login_as(client, world.user(actor))
    return client


def token_of(client, actor: str) -> str:
    """The CSRF token of this client's session, read from a form page it can see."""
    page = client.get("/auth/login" if actor == ANON else "/auth/password")
    html = page.get_data(as_text=True)
    return html.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]


def test_every_post_route_of_the_app_is_covered():
    assert {row.rule for row in POSTS} == {
        rule for rule, method in app_routes() if method == "POST"
    }


@pytest.mark.parametrize("row", POSTS, ids=str)
def test_post_without_a_token_is_refused(csrf_app, google, world, login_as, row):
    actor = allowed_actor(row)
    client = client_for(csrf_app, login_as, world, actor)
    before = snapshot()

    response = client.post(row.url(world), data=row.data(world) if row.data else None)

    assert response.status_code == 400
    assert EXPIRED in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.parametrize("row", POSTS, ids=str)
def test_post_with_another_sessions_token_is_refused(csrf_app, google, world, login_as, row):
    actor = allowed_actor(row)
    stranger = csrf_app.test_client()
    foreign_token = token_of(stranger, ANON)
    client = client_for(csrf_app, login_as, world, actor)
    before = snapshot()

    data = {**(row.data(world) if row.data else {}), "csrf_token": foreign_token}
    response = client.post(row.url(world), data=data)

    assert response.status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize("row", POSTS, ids=str)
def test_the_same_post_with_its_token_goes_through(csrf_app, google, world, login_as, row):
    actor = allowed_actor(row)
    client = client_for(csrf_app, login_as, world, actor)
    before = snapshot()

    data = {**(row.data(world) if row.data else {}), "csrf_token": token_of(client, actor)}
    response = client.post(row.url(world), data=data)

    assert response.status_code == row.expected[actor]
    assert (snapshot() != before) == bool(row.changes)


def test_a_refused_form_leads_back_to_its_page_on_this_site_only(csrf_app, db, make, login_as):
    # The usual way here: a form left open in a tab whose session has since ended. Its page,
    # opened again, has a fresh token (or asks to sign in first, and comes back)
    client = csrf_app.test_client()
    login_as(client, make.user())
    cancel = "/booking/appointments/1/cancel"

    ours = client.post(cancel, headers={"Referer": "http://localhost/patient/appointments?page=2"})
    foreign = client.post(cancel, headers={"Referer": "https://evil.example/patient/"})
    none = client.post(cancel)

    assert ours.status_code == foreign.status_code == none.status_code == 400
    assert (
        '<a class="btn btn-primary" href="/patient/appointments?page=2">Back to the page</a>'
        in (ours.get_data(as_text=True))
    )
    for page in (foreign.get_data(as_text=True), none.get_data(as_text=True)):
        assert EXPIRED in page and "Back to the page" not in page and "evil" not in page
