"""Configuration classes. Values come from the environment (and `.env` in development).

Production refuses to start without its secrets: no fallback secret ever reaches it.
"""

import os
import secrets
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def env_bool(name: str, default: bool | None) -> bool | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_hour(name: str, default: int) -> int:
    hour = env_int(name, default)
    if not 0 <= hour <= 23:
        raise RuntimeError(f"{name} must be an hour of the day, 0 to 23, not {hour}")
    return hour


def env_roles(name: str, default: str) -> frozenset[str]:
    """A comma-separated list of roles; set but empty means none (unset: `default`)."""
    value = os.environ.get(name)
    roles = {r.strip().lower() for r in (default if value is None else value).split(",")}
    roles.discard("")
    unknown = roles - {"admin", "desk", "doctor", "patient"}
    if unknown:
        allowed = "admin, desk, doctor and patient"
        raise RuntimeError(f"{name} may name {allowed}, not {sorted(unknown)}")
    return frozenset(roles)


def normalise_database_url(url: str) -> str:
    """Send plain postgres URLs to psycopg 3, the only PostgreSQL driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    HMS_ENV = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'hms.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    CLINIC_TIMEZONE = os.environ.get("CLINIC_TIMEZONE", "UTC")
    CLINIC_NAME = os.environ.get("CLINIC_NAME", "HMS Clinic")
    CLINIC_PHONE = os.environ.get("CLINIC_PHONE", "+1 555 0100")
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000")

    EMAIL_SERVICE_URL = os.environ.get("EMAIL_SERVICE_URL", "http://127.0.0.1:3000/dev/send-email")
    EMAIL_SERVICE_SECRET = os.environ.get("EMAIL_SERVICE_SECRET")
    EMAIL_SERVICE_TIMEOUT = float(os.environ.get("EMAIL_SERVICE_TIMEOUT", "3"))
    OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8)
    # Unset: off on PostgreSQL, whose commit wakes the outbox worker at once (LISTEN/NOTIFY), so
    # the web threads never wait on the email service; on elsewhere (SQLite, `make run`).
    OUTBOX_DELIVER_AFTER_RESPONSE = env_bool("OUTBOX_DELIVER_AFTER_RESPONSE", None)
    # A claimed message is invisible to other workers for the lease; it must far exceed the
    # send timeout, or a slow send could be claimed and sent again by another worker.
    OUTBOX_LEASE_SECONDS = env_int("OUTBOX_LEASE_SECONDS", 60)
    OUTBOX_BATCH_SIZE = env_int("OUTBOX_BATCH_SIZE", 10)
    OUTBOX_RETRY_BASE_SECONDS = env_int("OUTBOX_RETRY_BASE_SECONDS", 30)  # doubles per attempt
    OUTBOX_RETRY_MAX_SECONDS = env_int("OUTBOX_RETRY_MAX_SECONDS", 3600)
    OUTBOX_IDLE_SECONDS = float(os.environ.get("OUTBOX_IDLE_SECONDS", "1.5"))
    # After a failed after-response attempt, this process leaves new messages to the worker for
    # this long (app/services/delivery.py, AfterResponsePause).
    OUTBOX_AFTER_RESPONSE_PAUSE_SECONDS = env_int("OUTBOX_AFTER_RESPONSE_PAUSE_SECONDS", 30)
    # Sent emails are copies of what patients were told: the worker deletes them this many days
    # after they went (0 keeps them). Unsent and given-up ones stay until an operator looks.
    OUTBOX_KEEP_SENT_DAYS = env_int("OUTBOX_KEEP_SENT_DAYS", 30)

    BOOKING_MIN_NOTICE_MINUTES = env_int("BOOKING_MIN_NOTICE_MINUTES", 60)
    BOOKING_MAX_DAYS_AHEAD = env_int("BOOKING_MAX_DAYS_AHEAD", 90)
    PATIENT_CANCEL_CUTOFF_HOURS = env_int("PATIENT_CANCEL_CUTOFF_HOURS", 2)
    # A patient who missed this many appointments (no-shows) in the window books through the
    # front desk until the oldest of them leaves the window; 0 turns the rule off.
    NO_SHOW_LIMIT = env_int("NO_SHOW_LIMIT", 3)
    NO_SHOW_WINDOW_DAYS = env_int("NO_SHOW_WINDOW_DAYS", 180)
    # The most appointments ahead a patient may hold when booking online (the front desk and
    # the doctors book past it); 0 sets no limit.
    BOOKING_MAX_UPCOMING = env_int("BOOKING_MAX_UPCOMING", 0)
    REMINDER_HOURS_BEFORE = env_int("REMINDER_HOURS_BEFORE", 24)
    REMINDER_SCAN_SECONDS = env_int("REMINDER_SCAN_SECONDS", 60)
    # The clinic-local hour from which doctors who asked for it are emailed the day's list.
    AGENDA_EMAIL_HOUR = env_hour("AGENDA_EMAIL_HOUR", 7)
    # How long a doctor's SCHEDULE_CHANGED waits after the first change the front desk makes,
    # gathering the others of that sitting into the same email.
    SCHEDULE_EMAIL_DELAY_MINUTES = env_int("SCHEDULE_EMAIL_DELAY_MINUTES", 10)
    # How long a patient's VISIT_INSTRUCTIONS waits after the doctor saves them: corrections
    # made meanwhile send nothing more, and instructions removed meanwhile send nothing at all.
    INSTRUCTIONS_EMAIL_DELAY_MINUTES = env_int("INSTRUCTIONS_EMAIL_DELAY_MINUTES", 10)

    GOOGLE_CLIENT_ID = os.environ.get("GOOGLE_CLIENT_ID")
    GOOGLE_CLIENT_SECRET = os.environ.get("GOOGLE_CLIENT_SECRET")
    GOOGLE_METADATA_URL = os.environ.get(
        "GOOGLE_METADATA_URL", "https://accounts.google.com/.well-known/openid-configuration"
    )
    GOOGLE_CALENDAR_API_URL = os.environ.get(
        "GOOGLE_CALENDAR_API_URL", "https://www.googleapis.com/"
    )
    GOOGLE_HTTP_TIMEOUT = float(os.environ.get("GOOGLE_HTTP_TIMEOUT", "5"))
    # Fernet keys (comma-separated, newest first) for the Google tokens stored in the database;
    # unset: a key derived from SECRET_KEY.
    TOKEN_ENCRYPTION_KEY = os.environ.get("TOKEN_ENCRYPTION_KEY")

    RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
    # Unset: the app's database when it is PostgreSQL, so that every process and machine counts
    # together; memory otherwise (app/rate_limit_storage.py).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI")
    RATELIMIT_HEADERS_ENABLED = True

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_DURATION_DAYS = env_int("REMEMBER_COOKIE_DURATION_DAYS", 14)
    # How long an emailed password-reset link works (it also ends at its first use).
    PASSWORD_RESET_MAX_AGE_MINUTES = env_int("PASSWORD_RESET_MAX_AGE_MINUTES", 60)
    # How long the link a patient registered by the front desk gets to choose a password works.
    ACCOUNT_INVITE_MAX_AGE_DAYS = env_int("ACCOUNT_INVITE_MAX_AGE_DAYS", 7)
    # How long the link confirming a new sign-in email works (it ends at its first use too).
    EMAIL_CHANGE_MAX_AGE_HOURS = env_int("EMAIL_CHANGE_MAX_AGE_HOURS", 24)
    # Roles that must use two-step sign-in (a code from an authenticator after the password):
    # they are sent to set it up before anything else. Production asks it of admins by default.
    TWO_STEP_REQUIRED_ROLES = env_roles("TWO_STEP_REQUIRED_ROLES", "")
    # Whether a doctor who signs up waits for the front desk's approval before patients can
    # find or book them (they can sign in, fill in their profile and publish times meanwhile).
    # Production asks it by default: anyone can fill in the sign-up form.
    DOCTOR_APPROVAL_REQUIRED = env_bool("DOCTOR_APPROVAL_REQUIRED", False)
    SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30)
    SESSION_ABSOLUTE_TIMEOUT_HOURS = env_int("SESSION_ABSOLUTE_TIMEOUT_HOURS", 12)
    # None lets every Host through (development); set it in production behind a proxy.
    TRUSTED_HOSTS = [
        h.strip() for h in os.environ.get("TRUSTED_HOSTS", "").split(",") if h.strip()
    ] or None
    PROXY_FIX_X_FOR = env_int("PROXY_FIX_X_FOR", 0)
    PROXY_FIX_X_PROTO = env_int("PROXY_FIX_X_PROTO", 0)
    PROXY_FIX_X_HOST = env_int("PROXY_FIX_X_HOST", 0)
    HSTS_ENABLED = False

    # No form here comes near 1 MiB; a bigger body is refused (413) before anyone parses it.
    MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 1024 * 1024)
    WTF_CSRF_TIME_LIMIT = (
        None  # the token lives as long as the session; sessions time out themselves
    )
    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BOOTSWATCH_THEME = None
    PAGE_SIZE = env_int("PAGE_SIZE", 20)
    # The admin dashboard's aggregates are recomputed at most this often per process (0: always).
    ADMIN_STATS_CACHE_SECONDS = env_int("ADMIN_STATS_CACHE_SECONDS", 30)
    # The directory's specializations (its search filter) and its doctor totals are re-read at
    # most this often: a new doctor shows in them within this time.
    DIRECTORY_CACHE_SECONDS = env_int("DIRECTORY_CACHE_SECONDS", 60)
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # Benchmarks only (bench/): an X-Query-Count header on every response. Never on by default.
    QUERY_COUNT_HEADER = env_bool("HMS_QUERY_COUNT_HEADER", False)

    @classmethod
    def validate(cls, config: dict) -> None:
        """Raise when the configuration cannot run safely."""


def development_secret_key() -> str:
    """A random key made once per checkout and kept in instance/ (git-ignored).

    Random per process would not do: each gunicorn worker would sign sessions with its own key,
    and a signed-in user would be signed out whenever the next request met another worker.
    Created atomically (write a temporary file, then link it into place), so workers starting
    together all end up reading the same key.
    """
    path = INSTANCE_DIR / "dev-secret-key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=INSTANCE_DIR, prefix=".dev-secret-key.")
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won the race: use its key
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


class DevelopmentConfig(Config):
    HMS_ENV = "development"

    @classmethod
    def validate(cls, config: dict) -> None:
        """Development needs no set-up: a missing SECRET_KEY is made once and kept."""
        if not config.get("SECRET_KEY"):
            config["SECRET_KEY"] = development_secret_key()

    EMAIL_SERVICE_SECRET = os.environ.get("EMAIL_SERVICE_SECRET") or "dev-email-secret"


class TestingConfig(Config):
    HMS_ENV = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"  # noqa: S105 - the test suite's own key, never production
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    )
    EMAIL_SERVICE_SECRET = "test-email-secret"  # noqa: S105 - matches the test email service
    EMAIL_SERVICE_URL = "http://127.0.0.1:9/dev/send-email"  # discard port: tests opt in
    OUTBOX_DELIVER_AFTER_RESPONSE = False
    EMAIL_SERVICE_TIMEOUT = 2.0
    OUTBOX_IDLE_SECONDS = 0.1
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"  # a fresh count for each app; tests opt in to database://
    WTF_CSRF_ENABLED = False
    ADMIN_STATS_CACHE_SECONDS = 0  # exact figures in every test; the cache has its own
    DIRECTORY_CACHE_SECONDS = 0
    PASSWORD_HASH_FAST = True  # argon2 with small parameters: the suite hashes thousands


class ProductionConfig(Config):
    HMS_ENV = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    HSTS_ENABLED = True
    # the staff: their accounts open every patient's details and bookings
    TWO_STEP_REQUIRED_ROLES = env_roles("TWO_STEP_REQUIRED_ROLES", "admin,desk")
    DOCTOR_APPROVAL_REQUIRED = env_bool("DOCTOR_APPROVAL_REQUIRED", True)
    REQUIRED = ("SECRET_KEY", "DATABASE_URL", "EMAIL_SERVICE_SECRET")

    @classmethod
    def validate(cls, config: dict) -> None:
        missing = [name for name in cls.REQUIRED if not os.environ.get(name)]
        if missing:
            raise RuntimeError(
                "Production needs these environment variables: " + ", ".join(missing)
            )
        if config.get("GOOGLE_CLIENT_ID") and not config.get("GOOGLE_CLIENT_SECRET"):
            raise RuntimeError("GOOGLE_CLIENT_ID is set but GOOGLE_CLIENT_SECRET is not")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    name = (name or os.environ.get("HMS_ENV") or "development").lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"HMS_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None
