import pytest

from app import create_app
from config import ProductionConfig, TestingConfig, env_bool, env_roles, normalise_database_url


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "EMAIL_SERVICE_SECRET"])
def test_production_refuses_to_start_without_each_secret(monkeypatch, missing):
    env = {
        "SECRET_KEY": "s" * 32,
        "DATABASE_URL": "postgresql://u@localhost/db",
        "EMAIL_SERVICE_SECRET": "e" * 32,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing)
    with pytest.raises(RuntimeError, match=missing):
        create_app(ProductionConfig)


def test_production_starts_with_its_secrets_and_secure_cookies(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@localhost/db")
    monkeypatch.setenv("EMAIL_SERVICE_SECRET", "e" * 32)
    app = create_app(ProductionConfig, {"SECRET_KEY": "s" * 32})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_unknown_environment_name_is_refused():
    with pytest.raises(RuntimeError, match="HMS_ENV"):
        create_app("staging")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_use_psycopg3(given, expected):
    assert normalise_database_url(given) == expected


def test_development_key_is_made_once_and_shared_by_every_process(tmp_path, monkeypatch):
    """Workers of one gunicorn must sign sessions with the same key (a real bug once)."""
    import config

    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app(config.DevelopmentConfig, {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    second = create_app(config.DevelopmentConfig, {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert (tmp_path / "dev-secret-key").stat().st_mode & 0o777 == 0o600


def test_production_asks_the_staff_for_two_step_sign_in_unless_told_otherwise(monkeypatch):
    production, testing = (c.TWO_STEP_REQUIRED_ROLES for c in (ProductionConfig, TestingConfig))
    assert production == {"admin", "desk"}
    assert testing == frozenset()
    monkeypatch.setenv("TWO_STEP_REQUIRED_ROLES", " Admin, doctor ,")
    assert env_roles("TWO_STEP_REQUIRED_ROLES", "admin") == {"admin", "doctor"}
    monkeypatch.setenv("TWO_STEP_REQUIRED_ROLES", "")  # set but empty: nobody
    assert env_roles("TWO_STEP_REQUIRED_ROLES", "admin") == frozenset()
    monkeypatch.setenv("TWO_STEP_REQUIRED_ROLES", "admin,nurse")
    with pytest.raises(RuntimeError, match="nurse"):
        env_roles("TWO_STEP_REQUIRED_ROLES", "admin")


def test_production_has_new_doctors_approved_by_the_desk_unless_told_otherwise(monkeypatch):
    assert ProductionConfig.DOCTOR_APPROVAL_REQUIRED is True
    assert TestingConfig.DOCTOR_APPROVAL_REQUIRED is False
    monkeypatch.setenv("DOCTOR_APPROVAL_REQUIRED", "false")
    assert env_bool("DOCTOR_APPROVAL_REQUIRED", True) is False
