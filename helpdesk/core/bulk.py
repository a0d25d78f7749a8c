"""Rows written together: many history and outbox rows in one statement per table.

The ORM inserts rows one by one where it must read their new ids back (on SQLite
always), and builds an object for each. Bulk work such as the SLA sweep records
hundreds of events and messages that nothing reads back before the transaction
ends, so inside ``inserted_together()`` the writers queue plain rows and the block
ends with one executemany INSERT per table, in the order the rows were queued.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Table

from helpdesk.extensions import db

_queued: ContextVar[dict[Table, list[dict[str, Any]]] | None] = ContextVar("bulk_rows",
                                                                            default=None)


def queue_row(table: Table, row: dict[str, Any]) -> bool:
    """Queue ``row`` if a bulk block is open; False tells the caller to add it itself."""
    queued = _queued.get()
    if queued is None:
        return False
    queued.setdefault(table, []).append(row)
    return True


@contextmanager
def inserted_together() -> Iterator[None]:
    """Rows queued inside are inserted when the block ends without an error."""
    if _queued.get() is not None:  # already inside one: the outer block inserts
        yield
        return
    queued: dict[Table, list[dict[str, Any]]] = {}
    token = _queued.set(queued)
    try:
        yield
    finally:
        _queued.reset(token)
    for table, rows in queued.items():
        db.session.execute(table.insert(), rows)
