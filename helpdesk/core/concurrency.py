"""Recognising a lost race between two saves, whatever the database says."""

from __future__ import annotations

import sqlite3
import time
from contextvars import ContextVar
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError


def is_lost_race(exc: BaseException) -> bool:
    """True when another transaction saved first and this one must not go on.

    PostgreSQL and the ORM's version check say so with StaleDataError. SQLite in
    WAL mode cannot let a transaction that read an older snapshot write at all,
    and says "database is locked" (SQLITE_BUSY_SNAPSHOT) instead.
    """
    if isinstance(exc, StaleDataError):
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


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


def take_write_lock(dbapi_connection: Any, wait_ms: int = LOCK_WAIT_MS) -> None:
    """BEGIN IMMEDIATE on a pysqlite connection, waiting up to ``wait_ms`` for the lock;
    then "database is locked" as SQLAlchemy raises it, so ``is_lost_race`` knows it."""
    deadline = time.monotonic() + wait_ms / 1000
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise OperationalError("BEGIN IMMEDIATE", (), exc) from exc
            time.sleep(_LOCK_POLL_SECONDS)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
