"""Rate limits counted in the app's own database, so that every process counts together.

Flask-Limiter keeps its counters in `RATELIMIT_STORAGE_URI`. `memory://` is per process: with
gunicorn's workers, and the machines behind a load balancer, each counts alone, so "5 sign-in
attempts a minute per account" would be five per process. Redis would share them, at the cost of
one more service to run; the clinic already runs PostgreSQL, the single source of truth. So
`database://` (the default on PostgreSQL) keeps the counters in the `rate_limit_counters` table:
one upsert a hit, on a small connection pool of its own in autocommit, so a count stands whether
the request's own transaction commits or not.

The `limits` library picks a storage by the URI's scheme: this class registers `database`, and
`configure` hands it the database's URL as an option.
"""

import time

from flask import Flask
from limits.storage import Storage
from sqlalchemy import case, create_engine, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from app.models.rate_limit import RateLimitCounter

SCHEME = "database"
SWEEP_EVERY = 1000  # hits of one process between deletions of the counters whose window ended

_table = RateLimitCounter.__table__
_DIALECTS = {"postgresql": postgresql, "sqlite": sqlite}


def configure(app: Flask) -> None:
    """Choose where the counters live before Flask-Limiter starts: unless the clinic names a
    storage, in PostgreSQL when the app runs on it, in memory otherwise (development's SQLite,
    where one machine serves)."""
    uri = app.config.get("RATELIMIT_STORAGE_URI")
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri:
        uri = f"{SCHEME}://" if database_url.startswith("postgresql") else "memory://"
        app.config["RATELIMIT_STORAGE_URI"] = uri
    if uri.startswith(f"{SCHEME}://"):
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {
            "database_url": database_url,
            **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}),
        }


class DatabaseStorage(Storage):
    """The fixed-window counters of `limits` (the strategy Flask-Limiter uses by default) in a
    table. Time is this machine's clock, as with the in-memory storage."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        url = options.get("database_url")
        if not url:
            raise ValueError("database:// rate limits need the database's URL (database_url)")
        # Created before gunicorn forks, it holds no connection until the first hit in a worker.
        self.engine = create_engine(
            url,
            isolation_level="AUTOCOMMIT",
            pool_size=int(options.get("pool_size", 2)),
            max_overflow=int(options.get("max_overflow", 2)),
            pool_pre_ping=True,
        )
        self._insert = _DIALECTS[self.engine.dialect.name].insert
        self._hits = 0

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count `amount` more hits of `key` and answer its count: a window that has ended starts
        again at `amount`, with `expiry` seconds to run. One atomic statement, so concurrent hits
        from any number of processes all count."""
        now = time.time()
        new = self._insert(_table).values(key=key, count=amount, expires_at=now + expiry)
        ended = _table.c.expires_at <= now
        statement = new.on_conflict_do_update(
            index_elements=[_table.c.key],
            set_={
                "count": case((ended, new.excluded.count), else_=_table.c.count + amount),
                "expires_at": case((ended, new.excluded.expires_at), else_=_table.c.expires_at),
            },
        ).returning(_table.c.count)
        with self.engine.connect() as connection:
            count = connection.execute(statement).scalar_one()
            self._hits += 1
            if self._hits % SWEEP_EVERY == 0:
                connection.execute(delete(_table).where(_table.c.expires_at <= now))
        return count

    def get(self, key: str) -> int:
        """The key's count in its current window; 0 once the window has ended."""
        query = select(_table.c.count).where(_table.c.key == key, _table.c.expires_at > time.time())
        with self.engine.connect() as connection:
            return connection.execute(query).scalar() or 0

    def get_expiry(self, key: str) -> float:
        """When the key's window ends (seconds since the epoch); now, when there is none."""
        now = time.time()
        query = select(_table.c.expires_at).where(_table.c.key == key, _table.c.expires_at > now)
        with self.engine.connect() as connection:
            return connection.execute(query).scalar() or now

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.engine.connect() as connection:
            return connection.execute(delete(_table)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.connect() as connection:
            connection.execute(delete(_table).where(_table.c.key == key))
