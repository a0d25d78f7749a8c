"""Rows written together: many history and outbox rows in one statement per table.

The ORM inserts rows one by one where it must read their new ids back (on SQLite
always), and builds an object for each. Bulk work such as the SLA sweep and a
group of incoming mails records hundreds of events and messages that nothing
reads back before the transaction ends, so inside ``inserted_together()`` the
writers queue plain rows and the block ends with one executemany INSERT per
table, in the order the rows were queued.

New objects need not be flushed one by one to be named in such a row: ``id_of``
gives a promise of the id, which the block fills in after one flush of its own, so
a whole group of new tickets is written by one flush instead of one each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import Table

from helpdesk.extensions import db

_T = TypeVar("_T")
_queued: ContextVar[dict[Table, list[dict[str, Any]]] | None] = ContextVar("bulk_rows",
                                                                            default=None)

# Whether a row in the open block names an object by a promised id (then the block flushes).
_promised: ContextVar[bool] = ContextVar("bulk_promised", default=False)
# What the block's users keep while it is open (see ``block_local``).
_local: ContextVar[dict[str, Any] | None] = ContextVar("bulk_local", default=None)


class IdOf:
    """The id an object will have once flushed; resolved when the block's rows are written."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def resolve(self) -> int:
        ident = self.obj.id
        if ident is None:
            raise RuntimeError(f"{self.obj!r} was queued by id but never added to the session")
        return int(ident)


def collecting() -> bool:
    """True inside ``inserted_together()``: rows are queued and new ids may be promised."""
    return _queued.get() is not None


def id_of(obj: Any) -> Any:
    """``obj``'s id; for a new object inside a block a promise of it, else a flush gives it now."""
    if obj.id is None:
        if collecting():
            _promised.set(True)
            return IdOf(obj)
        db.session.flush()
    return obj.id


def flush() -> None:
    """Flush now, unless a block is open: it flushes everything once when it ends."""
    if not collecting():
        db.session.flush()


def block_local(name: str, factory: Callable[[], _T]) -> _T | None:
    """State kept while the open block lasts, made by ``factory`` on first use; None outside
    a block. A group of mails keeps here what its earlier mails made, which no query sees
    before the block writes it."""
    return read_once(name, factory) if _local.get() is not None else None


def read_once(name: str, read: Callable[[], _T]) -> _T:
    """``read()``, called once per open block and kept for the rest of it (every time outside
    a block): what bulk work would otherwise read again for each ticket or event."""
    local = _local.get()
    if local is None:
        return read()
    if name not in local:
        local[name] = read()
    return local[name]


def queue_row(table: Table, row: dict[str, Any]) -> bool:
    """Queue ``row`` if a bulk block is open; False tells the caller to add it itself."""
    queued = _queued.get()
    if queued is None:
        return False
    queued.setdefault(table, []).append(row)
    return True


def queued_rows(table: Table) -> list[dict[str, Any]]:
    """The rows for ``table`` queued so far in the open block (none outside a block): what a
    reader inside the block must add to what its queries see."""
    queued = _queued.get()
    return list(queued.get(table, ())) if queued is not None else []


@contextmanager
def inserted_together() -> Iterator[None]:
    """Rows queued inside are inserted when the block ends without an error."""
    if _queued.get() is not None:  # already inside one: the outer block inserts
        yield
        return
    queued: dict[Table, list[dict[str, Any]]] = {}
    token, promised, local = _queued.set(queued), _promised.set(False), _local.set({})
    try:
        yield
    finally:
        _queued.reset(token)
        promised_any = _promised.get()
        _promised.reset(promised)
        _local.reset(local)
    if promised_any:
        db.session.flush()  # gives promised ids their values
    for table, rows in queued.items():
        db.session.execute(table.insert(), [_resolved(row) for row in rows])


def _resolved(row: dict[str, Any]) -> dict[str, Any]:
    # Promises sit in a row's columns or one level down, in a JSON column's details.
    out = {}
    for key, value in row.items():
        if isinstance(value, IdOf):
            value = value.resolve()
        elif isinstance(value, dict) and any(isinstance(v, IdOf) for v in value.values()):
            value = {k: v.resolve() if isinstance(v, IdOf) else v for k, v in value.items()}
        out[key] = value
    return out


def insert_ignoring_duplicates(table: Table) -> Any:
    """INSERT … ON CONFLICT DO NOTHING, in the session's dialect: a row another transaction
    may have written first is left as it is, without an error or a savepoint."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()
