"""Opt-in request instrumentation for the benchmark harness (bench/).

With `QUERY_COUNT_HEADER` on (env `HMS_QUERY_COUNT_HEADER=1`), every response carries
`X-Query-Count`: the SQL statements the request sent, so the harness can show queries per page
next to its latency. Off by default, and nothing is registered then: production pays nothing
unless an operator asks for it.
"""

from flask import Flask, g, has_app_context
from sqlalchemy import event

from app.extensions import db

HEADER = "X-Query-Count"


def register(app: Flask) -> None:
    if not app.config.get("QUERY_COUNT_HEADER"):
        return
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", _count_query)
    app.after_request(_add_query_count_header)


def _count_query(_conn, _cursor, _statement, _parameters, _context, _executemany) -> None:
    # The engine is shared by CLI commands and threads outside a request: count only in one.
    if has_app_context():
        g.hms_query_count = g.get("hms_query_count", 0) + 1


def _add_query_count_header(response):
    response.headers[HEADER] = str(g.get("hms_query_count", 0))
    return response
