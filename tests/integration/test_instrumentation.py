"""The X-Query-Count header the benchmark harness reads: there only when asked for."""

import pytest

from app import create_app
from app.instrumentation import HEADER
from config import ProductionConfig, TestingConfig


@pytest.fixture
def counting_app(app):
    """A second app on the same (migrated) database, with the header switched on."""
    return create_app(
        TestingConfig,
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "QUERY_COUNT_HEADER": True,
        },
    )


def test_query_count_header_is_off_by_default(app, client):
    assert app.config["QUERY_COUNT_HEADER"] is False
    response = client.get("/healthz")
    assert response.status_code == 200
    assert HEADER not in response.headers


def test_query_count_header_counts_the_requests_own_queries(counting_app):
    client = counting_app.test_client()
    assert client.get("/healthz").headers[HEADER] == "1"  # SELECT 1, and nothing else
    assert client.get("/healthz").headers[HEADER] == "1"  # per request, not cumulative
    assert client.get("/auth/login").headers[HEADER] == "0"  # an anonymous form page


def test_query_count_header_counts_the_signed_in_users_lookup(counting_app, make, login_as, db):
    user = make.patient().user
    db.session.commit()
    client = login_as(counting_app.test_client(), user)
    response = client.get("/patient/")
    assert response.status_code == 200
    assert int(response.headers[HEADER]) >= 1


def test_production_leaves_it_off_unless_asked():
    assert ProductionConfig.QUERY_COUNT_HEADER is False
