"""Recognising a lost race between two saves, or work the database could not do just now,
whatever the database says; and waiting for SQLite's one write lock."""

from __future__ import annotations

import sqlite3
import time
from contextvars import ContextVar
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from helpdesk.core.errors import BUSY, DatabaseBusy


def is_lost_race(exc: BaseException) -> bool:
    """True when another transaction saved first and this one must not go on.

    PostgreSQL and the ORM's version check say so with StaleDataError. SQLite in
    WAL mode cannot let a transaction that read an older snapshot write at all,
    and says "database is locked" (SQLITE_BUSY_SNAPSHOT) instead.
    """
    if isinstance(exc, StaleDataError):
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def is_busy(exc: BaseException) -> bool:
    """True when SQLite's write lock stayed taken by another writer (SQLITE_BUSY): nothing
    was done and the same save may simply be tried again. Not a lost race: those are a
    snapshot another commit made stale (SQLITE_BUSY_SNAPSHOT) or the ORM's version check.
    A transaction that read first is refused at once while the lock is taken, without
    waiting, so a save that must not be refused takes the lock up front (``write_intent``,
    ``hold_write_lock``)."""
    if not isinstance(exc, OperationalError):
        return False
    orig = exc.orig
    return isinstance(orig, sqlite3.OperationalError) and (
        getattr(orig, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY)


# PostgreSQL's SQLSTATEs for work refused for the moment, not for what it is: a
# serialization failure, a deadlock, a lock not to be had, a statement cancelled or timed
# out, the server shutting down or starting up. Classes 08 (the connection failed) and 53
# (out of disk, memory or connections) are added below.
_TRY_AGAIN_STATES = frozenset({"40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03"})
_TRY_AGAIN_CLASSES = ("08", "53")
# SQLite's words for the same: its file could not be written just now.
_SQLITE_TRY_AGAIN = ("database or disk is full", "disk i/o error")


def is_transient(exc: BaseException) -> bool:
    """True when the database could not do the work now, not because of the work: a race
    lost, a lock, a connection broken or refused. The same work may well succeed later."""
    if is_lost_race(exc):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = str(getattr(exc.orig, "sqlstate", None) or "")
    if state in _TRY_AGAIN_STATES or state.startswith(_TRY_AGAIN_CLASSES):
        return True
    return isinstance(exc.orig, sqlite3.OperationalError) and any(
        words in str(exc.orig).lower() for words in _SQLITE_TRY_AGAIN)


# Set while a request that is going to write runs (the API's POSTs). On SQLite its
# transaction then begins with BEGIN IMMEDIATE: it waits for the write lock up front
# instead of reading a snapshot that another writer makes stale, which SQLite can only
# refuse at the first write ("database is locked"). Writers queue; none is refused.
write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)

# How long a statement waits for SQLite's lock before it is refused (SQLITE_BUSY).
LOCK_WAIT_MS = 5000

# SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25, 25, 50, 50, 100 ms between
# tries: a waiter soon sleeps far longer than a write transaction lasts (a few ms), and
# the writer that just committed takes the lock again while it sleeps. Two API workers
# then take turns badly (a p99 of 150-190 ms in `make bench`). Waiting for BEGIN
# IMMEDIATE ourselves, trying every half millisecond, hands the lock over within about
# that long of its release.
_LOCK_POLL_SECONDS = 0.0005


class WriteLockTimeout(OperationalError):
    """SQLite's write lock stayed taken for the whole wait: nothing was done yet, and the
    same request can simply be sent again."""


def take_write_lock(dbapi_connection: Any, wait_ms: int = LOCK_WAIT_MS) -> None:
    """BEGIN IMMEDIATE on a pysqlite connection, waiting up to ``wait_ms`` for the lock;
    then WriteLockTimeout, "database is locked" as SQLAlchemy says it, so that
    ``is_lost_race`` knows it too."""
    deadline = time.monotonic() + wait_ms / 1000
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    raise OperationalError("BEGIN IMMEDIATE", (), exc) from exc
                if time.monotonic() >= deadline:
                    raise WriteLockTimeout("BEGIN IMMEDIATE", (), exc) from exc
            time.sleep(_LOCK_POLL_SECONDS)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")


def began(connection: Connection, *, writing: bool) -> None:
    """Note how a SQLite transaction began (the engine's ``begin`` listener calls this): with
    the write lock taken, or reading; and how many rows the connection had changed then, so
    that ``start_writing`` can tell a transaction that has written since."""
    dbapi_connection: Any = connection.connection.dbapi_connection
    connection.info["holds_write_lock"] = writing
    connection.info["changes_at_begin"] = dbapi_connection.total_changes


def hold_write_lock(session: Session) -> None:
    """From here on this session's transaction, which has only read so far, is going to
    write: on SQLite its snapshot (an API token, say) gives way to the write lock, taken as
    ``write_intent`` would have taken it at the start. What was read stays loaded, a moment
    old, as under PostgreSQL's READ COMMITTED. A request refused on what it read (an unknown
    token) then never waits for the lock, nor holds it while it is answered."""
    if session.get_bind().dialect.name != "sqlite" or not session.in_transaction():
        return
    connection = session.connection()
    if connection.in_nested_transaction():
        return  # inside a transaction that is not the session's own to end (a test's)
    dbapi_connection: Any = connection.connection.dbapi_connection
    dbapi_connection.execute("COMMIT")  # a read transaction: nothing is lost
    take_write_lock(dbapi_connection)
    connection.info["holds_write_lock"] = True


def start_writing(session: Session) -> None:
    """Where an operation that has read and decided begins to write (a new ticket taking its
    number): on SQLite its transaction needs the write lock from here on, and takes it now
    (``hold_write_lock``) unless it holds it already: it began with ``write_intent``, or it
    has written. So a ticket is routed and its SLA targets counted while other writers
    write, and two creations hold the one lock only for their own writes, not by turns for
    their whole request. DatabaseBusy if the lock stays taken."""
    if _only_read(session):
        wait_to_write(session)


def take_lock_before_flush(session: Session, _context: Any, _instances: Any) -> None:
    """The sessions' ``before_flush`` on SQLite: a transaction that has only read takes the
    write lock before the ORM writes (``hold_write_lock``), so that a save which read first,
    an administrator's form say, waits for other writers instead of being refused because
    one of them committed since it read. WriteLockTimeout, which pages and the API answer
    with 503, if the lock stays taken; the caller rolls back, as after any failed flush."""
    if _only_read(session):
        hold_write_lock(session)


def _only_read(session: Session) -> bool:
    """Whether the session's SQLite transaction has only read so far: it began without the
    write lock, has not taken it since, and has changed no row."""
    if session.get_bind().dialect.name != "sqlite" or not session.in_transaction():
        return False
    connection = session.connection()
    dbapi_connection: Any = connection.connection.dbapi_connection
    info = connection.info
    # A transaction that wrote holds the lock until it ends, and must not be committed here.
    return not info.get("holds_write_lock") and (
        dbapi_connection.total_changes == info.get("changes_at_begin"))


def wait_to_write(session: Session) -> None:
    """``hold_write_lock`` for an operation or a page: if the lock stays taken, the
    transaction is rolled back and DatabaseBusy says that nothing was saved."""
    try:
        hold_write_lock(session)
    except WriteLockTimeout as exc:
        session.rollback()
        raise DatabaseBusy(BUSY) from exc
