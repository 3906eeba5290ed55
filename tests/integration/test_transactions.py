"""Read-only requests end with COMMIT (PostgreSQL keeps their prepared statements); a request
that wrote anything still ends with the rollback, so nothing it did not commit is kept."""

import pytest
from sqlalchemy import event, func, select, text, update

from app import create_app
from app.extensions import db as _db
from app.models import User
from config import TestingConfig


@pytest.fixture
def ends(app):
    """How each engine-level transaction ended during the test: "commit" or "rollback"."""
    seen: list[str] = []
    with app.app_context():
        engine = _db.engine
    listeners = {name: (lambda _c, name=name: seen.append(name)) for name in ("commit", "rollback")}
    for name, listener in listeners.items():
        event.listen(engine, name, listener)
    yield seen
    for name, listener in listeners.items():
        event.remove(engine, name, listener)


@pytest.fixture
def probe_app(database_url):
    """An app of its own (routes cannot be added to the suite's once it has served), with one
    pooled connection, so the test reads the very connection its requests used."""
    app = create_app(
        TestingConfig,
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0},
        },
    )

    @app.get("/probe/flush")
    def flush_without_commit():
        _db.session.scalars(select(User)).first().full_name = "Changed Without Commit"
        _db.session.flush()
        return "flushed"

    @app.get("/probe/update")
    def update_without_commit():
        _db.session.execute(update(User).values(full_name="Updated Without Commit"))
        return "updated"

    @app.get("/probe/read")
    def read():
        return str(_db.session.scalar(select(func.count(User.id))))

    yield app
    with app.app_context():
        _db.engine.dispose()


def test_a_page_view_ends_its_transaction_with_commit(db, client, make, login_as, ends):
    login_as(client, make.patient().user)
    ends.clear()
    assert client.get("/patient/doctors").status_code == 200
    assert ends == ["commit"]


def test_a_form_post_still_ends_with_rollback_when_it_commits_nothing(
    db, client, make, login_as, ends
):
    login_as(client, make.patient().user)
    ends.clear()
    assert client.post("/patient/profile", data={"full_name": ""}).status_code == 400
    assert "commit" not in ends


@pytest.mark.parametrize("path", ["/probe/flush", "/probe/update"])
def test_a_get_that_wrote_is_rolled_back_not_committed(db, make, probe_app, path):
    make.patient(user__full_name="Kept Name")
    assert probe_app.test_client().get(path).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(User.full_name)) == "Kept Name"


def test_prepared_statements_outlive_page_views(db, make, probe_app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("psycopg's prepared statements: PostgreSQL only")
    make.patient()
    client = probe_app.test_client()
    for _ in range(8):  # psycopg prepares a statement on its 5th run on a connection
        assert client.get("/probe/read").text == "1"
    with probe_app.app_context():
        prepared = _db.session.scalars(text("SELECT statement FROM pg_prepared_statements")).all()
    assert any("count(users.id)" in statement for statement in prepared)


def test_the_active_appointment_predicate_is_written_into_the_sql(db, client, make, login_as):
    """Statements stay prepared, and PostgreSQL may give them a generic plan, made without the
    parameters: only a predicate written out matches the partial index on active appointments
    (a bound one cost a doctor's page 37 ms instead of 0.4 at the benchmark's small scale)."""
    from tests.helpers import count_queries

    login_as(client, make.patient().user)
    doctor = make.doctor()
    with count_queries(db.engine) as statements:
        assert client.get(f"/patient/doctors/{doctor.id}").status_code == 200
    open_slots = [s for s in statements if "FROM availability_slots" in s]
    assert open_slots
    assert all("appointments.status != 'cancelled'" in s for s in open_slots)


def test_the_doctor_role_is_written_into_the_directory_sql(db, client, make, login_as):
    """The same for the directory's searches: the trigram index on doctors' names is partial
    (role = 'doctor'), and a generic plan can use it only if the role is written out."""
    from tests.helpers import count_queries

    login_as(client, make.patient().user)
    for n in range(21):  # more than a page: the total is counted too
        make.doctor(user__full_name=f"Dr. Lovelace {n:02d}")
    with count_queries(db.engine) as statements:
        assert "Lovelace 00" in client.get("/patient/doctors?q=love").text
    searches = [s for s in statements if "LIKE" in s.upper()]  # ILIKE on PostgreSQL
    assert len(searches) == 2  # the page and its total
    assert all("users.role = 'doctor'" in s for s in searches)


def test_postgresql_sessions_speak_utc(db):
    """Whatever the server's own TimeZone setting, timestamps come back in Python's UTC."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL session setting")
    from datetime import UTC

    assert db.session.scalar(text("SHOW TimeZone")) == "UTC"
    assert db.session.scalar(text("SELECT now()")).tzinfo is UTC


def test_a_failed_commit_after_a_page_view_still_serves_the_page(
    db, client, make, login_as, monkeypatch, caplog
):
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    def lost_connection(self):
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    login_as(client, make.patient().user)
    monkeypatch.setattr(Session, "commit", lost_connection)
    response = client.get("/patient/doctors")
    assert response.status_code == 200
    assert "ending a read-only transaction failed" in caplog.text
