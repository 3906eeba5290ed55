"""Fuzzing every form with hypothesis: random and hostile values, fields left out, as the person
the form is for. Never a 500; and a refusal (any 4xx) changes nothing in the database, apart from
the failed sign-in the audit trail records on purpose.

The database is not emptied between examples (the cleanup runs per test), so each example
compares the database before and after its own request, and the world keeps whatever earlier
examples changed (a booked slot, a renamed doctor): later examples meet that state, as a real
server would.

25 examples per form keep the run short; `FUZZ_EXAMPLES=1000` digs deeper when wanted.
"""

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.route_table import ROWS
from tests.integration.security_world import ANON, snapshot

# Each form as someone it changes something for; the two-step code (which nobody in the world
# is half-way through signing in for) is fuzzed in test_two_step.py, after a password.
FORMS = [row for row in ROWS if row.method == "POST" and row.data and row.changes]
HOSTILE = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "x" * 100_000,
    "9" * 400,
    "-1",
    "0",
    "2147483648",
    "1e309",
    "NaN",
    "' OR 1=1 --",
    "1; DROP TABLE users",
    "%_\\",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "\u202e\ufeff\u200b",
    "😀" * 50,
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "24:00",
    "23:59:60",
    "completed",
    "no_show",
]
FAST = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    deadline=None,
    database=None,  # no example database written into the repository
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def one_value(valid) -> st.SearchStrategy:
    """The field's valid value, or something else entirely."""
    plain = valid if isinstance(valid, str) else valid[0]
    return st.one_of(
        st.just(valid),
        st.sampled_from(HOSTILE),
        st.text(max_size=40),
        st.integers().map(str),
        st.floats().map(str),
        st.lists(st.sampled_from([plain, *HOSTILE[:8]]), min_size=2, max_size=3),
    )


def without_failed_logins(state: dict) -> dict:
    """The audit trail keeps failed sign-ins: the one change a refused request may make."""
    audit = [row for row in state["audit_events"] if "'login.failure'" not in row]
    return {**state, "audit_events": audit}


def actor_for(row) -> str:
    return row.changes[0]


@pytest.mark.parametrize("row", FORMS, ids=str)
def test_fuzzing_a_form_never_breaks_the_server_or_half_changes_state(app, world, login_as, row):
    actor = actor_for(row)
    valid = row.data(world)
    url = row.url(world)
    fields = st.fixed_dictionaries({}, optional={name: one_value(v) for name, v in valid.items()})

    @FAST
    @given(data=fields)
    def post_one(data):
        client = app.test_client()
        before = snapshot()  # also expires the world: the user's session version is read fresh
        if actor != ANON:
            login_as(client, world.user(actor))
        response = client.post(url, data=data)

        assert response.status_code < 500, response.status_code
        if 400 <= response.status_code < 500:
            assert without_failed_logins(snapshot()) == without_failed_logins(before)

    post_one()


FILTERS = [
    ("admin", "/admin/users", ["q", "role", "status", "page"]),
    (
        "admin",
        "/admin/appointments",
        ["q", "doctor", "patient", "status", "date_from", "date_to", "page"],
    ),
    ("admin", "/admin/appointments.csv", ["q", "status", "date_from", "date_to"]),
    ("admin", "/admin/audit", ["q", "actor", "kind", "date_from", "date_to", "page"]),
    ("patient", "/patient/doctors", ["q", "specialization", "page"]),
    ("patient", "/patient/appointments", ["when", "page"]),
    ("doctor", "/doctor/appointments", ["when", "page"]),
    ("doctor", "/doctor/availability", ["page"]),
]


@pytest.mark.parametrize(("actor", "path", "names"), FILTERS, ids=lambda v: str(v)[:30])
def test_fuzzing_list_filters_never_breaks_the_server(app, world, login_as, actor, path, names):
    client = login_as(app.test_client(), world.user(actor))
    text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40), st.integers().map(str))
    query = st.lists(st.tuples(st.sampled_from(names), text), max_size=4)

    @FAST
    @given(pairs=query)
    def get_one(pairs):
        response = client.get(path, query_string=pairs)
        assert response.status_code in (200, 400), (pairs, response.status_code)

    get_one()
