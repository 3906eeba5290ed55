"""The application factory."""

import logging
import sys

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app import instrumentation, rate_limit_storage, transactions
from config import Config, config_for


def create_app(config: type[Config] | str | None = None, overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    config_class = config if isinstance(config, type) else config_for(config)
    app.config.from_object(config_class)
    if overrides:
        app.config.update(overrides)
    config_class.validate(app.config)

    configure_logging(app)
    register_extensions(app)
    register_web_security(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_commands(app)
    register_outbox_delivery(app)
    instrumentation.register(app)
    return app


def configure_logging(app: Flask) -> None:
    """Logs go to stdout, one line each, for gunicorn and the platform to collect."""
    root = logging.getLogger()
    if not any(getattr(h, "_hms", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._hms = True
        root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite enforces foreign keys only when asked, and needs WAL for several processes."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def speak_utc_to_postgresql(app: Flask) -> None:
    """Every instant is stored and computed in UTC; a session in UTC hands timestamps back
    with Python's own `timezone.utc` rather than a zoneinfo zone named after the server's
    setting (Etc/UTC, say), which made every conversion of them several times slower."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    options["connect_args"] = {"options": "-c TimeZone=UTC", **options.get("connect_args", {})}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def register_extensions(app: Flask) -> None:
    from app.extensions import bootstrap, csrf, db, limiter, login_manager, migrate, oauth

    speak_utc_to_postgresql(app)
    db.init_app(app)
    transactions.register(app)  # read-only requests end with COMMIT: see app/transactions.py
    migrate.init_app(app, db, render_as_batch=True)
    csrf.init_app(app)
    bootstrap.init_app(app)
    rate_limit_storage.configure(app)  # where the counters live, before the limiter starts
    limiter.init_app(app)
    oauth.init_app(app)
    if app.config.get("GOOGLE_CLIENT_ID"):
        from app.services import google_account

        google_account.init_app(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    from app.auth_session import load_user

    login_manager.user_loader(load_user)


def register_web_security(app: Flask) -> None:
    from app.web_security import register

    register(app)


def register_blueprints(app: Flask) -> None:
    from app.blueprints.admin import bp as admin_bp
    from app.blueprints.auth import bp as auth_bp
    from app.blueprints.booking import bp as booking_bp
    from app.blueprints.doctor import bp as doctor_bp
    from app.blueprints.main import bp as main_bp
    from app.blueprints.patient import bp as patient_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(doctor_bp, url_prefix="/doctor")
    app.register_blueprint(patient_bp, url_prefix="/patient")
    app.register_blueprint(booking_bp, url_prefix="/booking")
    app.register_blueprint(admin_bp, url_prefix="/admin")


def register_error_handlers(app: Flask) -> None:
    from app.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from app.templating import register

    register(app)


def register_commands(app: Flask) -> None:
    from app.cli import register

    register(app)


def register_outbox_delivery(app: Flask) -> None:
    from app.services.delivery import register_outbox_delivery

    register_outbox_delivery(app)
