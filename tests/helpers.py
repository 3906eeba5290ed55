"""Helpers several test modules share: counting SQL queries, reading HTML tables, the app's
routes at collection time (for parametrizing and for skipping on routes not built yet), and
times to book."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from sqlalchemy import event

from app import create_app
from config import TestingConfig

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


def days_from_now(days: float, hour: int = 9) -> datetime:
    """On the hour, `days` from today (UTC, the clinic's zone in the tests)."""
    return (datetime.now(UTC) + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


@contextmanager
def count_queries(engine):
    """Collect every SQL statement sent to `engine` inside the block (list of strings)."""
    statements: list[str] = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)


@cache
def url_rules() -> tuple:
    """The URL rules of a freshly built app (no database needed), for use at collection time."""
    return tuple(create_app(TestingConfig).url_map.iter_rules())


def has_route(rule: str) -> bool:
    return any(r.rule == rule for r in url_rules())


class _TableParser(HTMLParser):
    def __init__(self, attribute: str, value: str):
        super().__init__()
        self.wanted = (attribute, value)
        self.depth = 0  # > 0 inside the wanted table
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and (self.depth or self.wanted in attrs):
            self.depth += 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table" and self.depth:
            self.depth -= 1
        elif self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def table_rows(html: str, attribute: str, value: str) -> list[list[str]]:
    """The text of each cell, row by row (header row included), of the table whose
    `attribute` is `value`: table_rows(page, "data-table", "bookings")."""
    parser = _TableParser(attribute, value)
    parser.feed(html)
    return parser.rows


def text_of(response) -> str:
    return response.get_data(as_text=True)
