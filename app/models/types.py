"""Column types and schema helpers shared by the models."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, Index
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend.

    PostgreSQL stores `timestamptz`; SQLite has no zone, so values are stored as UTC and handed
    back aware. Naive values are refused: they are always a bug here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def postgresql_only(index: Index) -> Index:
    """An index only PostgreSQL has (a trigram index, say): created there only, and compared
    with the migrations there only (`in_schema_of`, Alembic's include_object)."""
    index.info["only_on"] = "postgresql"
    return index.ddl_if(dialect="postgresql")


def in_schema_of(dialect_name: str):
    """Alembic's `include_object` for a database of `dialect_name`: leaves out of autogenerate's
    comparison what the models create on other databases only."""

    def include(obj, name, type_, reflected, compare_to) -> bool:
        wanted = getattr(obj, "info", {}).get("only_on") if obj is not None else None
        return wanted in (None, dialect_name)

    return include
