"""Recognising a lost race between two saves, whatever the database says."""

from __future__ import annotations

from contextvars import ContextVar

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
