"""Fixtures shared by the whole suite.

The database is PostgreSQL when TEST_DATABASE_URL is set (as `make test` does) and a temporary
SQLite file otherwise. The schema is built once per run by the migrations themselves; every
test starts from empty tables. Each test-client request runs in a fresh context, exactly as in
production, so a request never sees the test's own session, `g` or identity map.
"""

import contextvars
import os

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from flask_login.utils import _create_identifier
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.extensions import db as _db
from config import TestingConfig
from tests.helpers import MIGRATIONS


class IsolatedClient(FlaskClient):
    """A test client whose requests never share the test's app context."""

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            _db.session.expire_all()  # the request committed elsewhere: read fresh
        return response


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return TestingConfig.SQLALCHEMY_DATABASE_URI
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app(
        TestingConfig,
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MAIL_DIR": str(tmp_path_factory.mktemp("mail")),
        },
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        if _db.engine.dialect.name == "postgresql":
            with _db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(directory=MIGRATIONS)
        _db.engine.dispose()
    return app


def _table_names() -> list[str]:
    return [t.name for t in reversed(_db.metadata.sorted_tables)]


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Empty every table after each test that used the app."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        _db.session.remove()
        with _db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(_table_names())} RESTART IDENTITY CASCADE"))
            else:
                for name in _table_names():
                    conn.execute(text(f"DELETE FROM {name}"))  # noqa: S608 - our own table names


@pytest.fixture(autouse=True)
def _after_response_delivery_unpaused(request):
    """A pause of after-response delivery is process-wide: none outlives the test that made it."""
    yield
    if "app" in request.fixturenames:
        from app.services.delivery import after_response_pause

        after_response_pause.clear()


@pytest.fixture
def db(app, _clean_database):
    """An app context for the test body, so it can use models, factories and db.session."""
    with app.app_context():
        yield _db
        _db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login_as(app):
    """Sign a client in as `user` without going through the form (that has its own tests)."""

    def login(client: FlaskClient, user) -> FlaskClient:
        user_id = user.get_id()
        ctx = app.test_request_context(environ_base=client.environ_base)
        identifier = contextvars.Context().run(_identifier_in, ctx)
        with client.session_transaction() as session:
            session["_user_id"] = user_id
            session["_fresh"] = True
            session["_id"] = identifier
        return client

    return login


def _identifier_in(ctx) -> str:
    """Flask-Login's session identifier (IP and user agent) as the client will present them."""
    with ctx:
        return _create_identifier()


@pytest.fixture
def is_postgres(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("TEST_DATABASE_URL", "").startswith(("postgres", "postgresql")):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set TEST_DATABASE_URL, or run make test)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


from tests.factories import *  # noqa: E402, F403 - factory fixtures
