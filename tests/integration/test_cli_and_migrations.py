"""Operator commands and the migrations themselves."""

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db as _db
from app.models import DoctorProfile, OutboxMessage, PatientProfile, Role, User
from app.models.types import in_schema_of
from app.services.demo import ADMIN_EMAIL, DEMO_PASSWORD
from config import TestingConfig
from tests.helpers import MIGRATIONS


def test_create_admin_creates_then_promotes(runner, db, make):
    result = runner.invoke(
        args=["create-admin", "--email", "Boss@Example.com", "--password", "x" * 12]
    )
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.com" in result.output
    admin = db.session.scalar(select(User).where(User.email == "boss@example.com"))
    assert admin.role == Role.ADMIN

    doctor = make.doctor(user__email="doc@example.com")
    result = runner.invoke(
        args=["create-admin", "--email", "doc@example.com", "--password", "y" * 12]
    )
    assert "Promoted admin" in result.output
    db.session.expire_all()
    assert db.session.get(User, doctor.user_id).role == Role.ADMIN
    # the promotion set a new password: its owner is told (a new admin is not: no old password)
    notices = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.idempotency_key.like("password-changed:%"))
    ).all()
    assert [n.payload["to"] for n in notices] == ["doc@example.com"]


def test_create_admin_with_desk_creates_a_front_desk_account(runner, db):
    args = ["create-admin", "--email", "desk@example.org", "--password", "z" * 12, "--desk"]
    result = runner.invoke(args=args + ["--name", "Olivia Desk"])

    assert result.exit_code == 0, result.output
    assert "Created front-desk account desk@example.org" in result.output
    desk = db.session.scalar(select(User).where(User.email == "desk@example.org"))
    assert (desk.role, desk.full_name, desk.is_staff, desk.is_admin) == (
        Role.DESK,
        "Olivia Desk",
        True,
        False,
    )


def test_create_admin_prompts_for_the_password(runner, db):
    result = runner.invoke(
        args=["create-admin", "--email", "a@example.com"], input="longpassword\nlongpassword\n"
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User.role)) == Role.ADMIN


def test_create_admin_refuses_a_short_password(runner, db):
    result = runner.invoke(args=["create-admin", "--email", "a@example.com", "--password", "short"])
    assert result.exit_code != 0
    assert db.session.scalar(select(User)) is None


def test_seed_demo_is_idempotent_and_prints_logins(runner, db):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert ADMIN_EMAIL in first.output and DEMO_PASSWORD in first.output
    assert "desk@example.com" in first.output
    counts = (
        db.session.scalar(select(func.count(DoctorProfile.id))),
        db.session.scalar(select(func.count(PatientProfile.id))),
        db.session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN)),
        db.session.scalar(select(func.count(User.id)).where(User.role == Role.DESK)),
    )
    assert counts == (6, 10, 1, 1)  # five doctors listed, one waiting for the desk's approval
    waiting = db.session.scalars(
        select(DoctorProfile.specialization).where(DoctorProfile.approved_at.is_(None))
    ).all()
    assert waiting == ["Neurology"]
    specializations = db.session.scalars(select(DoctorProfile.specialization)).all()
    assert len(set(specializations)) == 6

    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert db.session.scalar(select(func.count(User.id))) == 18


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """A brand-new empty database of the same kind as the suite's."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    name = f"hms_fresh_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_from_empty_builds_the_schema_the_models_describe(empty_database_url):
    app = create_app(TestingConfig, {"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        tables = set(inspect(_db.engine).get_table_names())
        assert {
            "users",
            "doctor_profiles",
            "patient_profiles",
            "availability_slots",
            "appointments",
            "outbox_messages",
            "audit_events",
        } <= tables
        with _db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_object": in_schema_of(conn.dialect.name)}
            )
            diff = compare_metadata(context, _db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        downgrade(directory=MIGRATIONS, revision="base")
        assert set(inspect(_db.engine).get_table_names()) <= {"alembic_version"}
        _db.engine.dispose()


def test_the_doctors_already_listed_stay_listed_when_approval_arrives(empty_database_url):
    """Migration fbd8fea02292 approves every doctor it finds as of their account's creation."""
    app = create_app(TestingConfig, {"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="60f5971dead6")
        with _db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, email, password_hash, role, full_name, active,"
                    " created_at, session_version) VALUES (7, 'dr@x.test', 'h', 'doctor',"
                    " 'Dr. Old', true, '2025-01-02 03:04:05+00', 1)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO doctor_profiles (id, user_id, specialization,"
                    " years_of_experience) VALUES (3, 7, 'Cardiology', 5)"
                )
            )
        upgrade(directory=MIGRATIONS, revision="fbd8fea02292")
        with _db.engine.connect() as conn:
            approved = conn.execute(text("SELECT approved_at FROM doctor_profiles")).scalar_one()
        assert str(approved).startswith("2025-01-02 03:04:05")
        _db.engine.dispose()


USERS_INDEXES = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users'"


def test_every_downgrade_on_sqlite_keeps_emails_unique_whatever_their_case(tmp_path):
    """`make run`'s database: SQLite rebuilds a table to drop a column, and a rebuild of `users`
    used to lose its expression index (and then the downgrade to base failed on it)."""
    url = f"sqlite:///{tmp_path / 'steps.sqlite3'}"
    app = create_app(TestingConfig, {"SQLALCHEMY_DATABASE_URI": url})
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    steps = [r.revision for r in ScriptDirectory.from_config(config).walk_revisions()]
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        for revision in steps[1:]:  # newest first: down one step at a time
            downgrade(directory=MIGRATIONS, revision=revision)
            with _db.engine.connect() as conn:
                indexes = set(conn.scalars(text(USERS_INDEXES)))
            assert "uq_users_email_lower" in indexes, f"lost at the downgrade to {revision}"
        downgrade(directory=MIGRATIONS, revision="base")
        _db.engine.dispose()


def test_emails_are_unique_whatever_their_case_in_the_database_itself(db):
    from sqlalchemy.exc import IntegrityError

    db.session.add(User(email="a@x.test", password_hash="h", role=Role.PATIENT, full_name="A"))
    db.session.commit()
    db.session.add(User(email="A@X.test", password_hash="h", role=Role.PATIENT, full_name="B"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_test_database_is_postgres_under_make_test(database_url):
    if os.environ.get("TEST_DATABASE_URL"):
        assert database_url.startswith("postgresql+psycopg://")
