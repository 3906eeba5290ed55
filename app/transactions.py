"""How a request's transaction ends when it only read: COMMIT, so PostgreSQL keeps its plans.

psycopg 3 prepares a statement on a connection once the connection has run it a few times
(`prepare_threshold`, 5), and from then on PostgreSQL neither parses nor, after a few more runs,
plans it again. But psycopg forgets every prepared statement at each ROLLBACK, and
Flask-SQLAlchemy ends every request by closing the session, which rolls back. Each page view
would plan all its queries afresh, and planning was about half of PostgreSQL's time per page
(bench/README.md).

For a transaction that wrote nothing, COMMIT and ROLLBACK leave the database the same, so this
ends those with COMMIT. Only for GET and HEAD requests (which never change state here) in which
the session wrote nothing: no flush, and no statement other than an ORM SELECT through it. The
rest still ends with the rollback, as before.

A statement prepared and run more than five times may get a generic plan, made without its
parameters' values. A predicate a partial index relies on must therefore be written into the
SQL, not bound: see ACTIVE in app/repositories/scheduling.py.
"""

import logging

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from app.extensions import db

log = logging.getLogger(__name__)

WROTE = "hms_wrote"
READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


def register(app: Flask) -> None:
    # A teardown_request function: it runs before Flask-SQLAlchemy's teardown_appcontext one,
    # which closes (and so rolls back) the session.
    app.teardown_request(commit_if_read_only)


def commit_if_read_only(exc: BaseException | None) -> None:
    if exc is not None or request.method not in READ_ONLY_METHODS or not db.session.registry.has():
        return
    session = db.session()
    if not session.in_transaction() or session.info.get(WROTE) or _pending(session):
        return
    try:
        session.commit()
    except SQLAlchemyError:  # the connection went away, say: the page is served all the same
        log.warning("ending a read-only transaction failed; the session closes as usual",
                    exc_info=True)  # fmt: skip


def _pending(session: Session) -> bool:
    return bool(session.new or session.dirty or session.deleted)


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context) -> None:
    session.info[WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    # INSERT/UPDATE/DELETE, and text() whatever it says: anything but an ORM SELECT counts.
    if not state.is_select:
        state.session.info[WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction: what it wrote is settled
        session.info.pop(WROTE, None)
