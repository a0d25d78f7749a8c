"""Human-readable ticket references: HD-2026-000042, numbered per year."""

from __future__ import annotations

from sqlalchemy import select, update

from helpdesk.core import bulk
from helpdesk.extensions import db
from helpdesk.tickets.models import ReferenceCounter


def format_reference(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:06d}"


def next_reference(prefix: str, year: int) -> str:
    """Take the next number for ``year`` (inside a bulk block that reserved numbers with
    ``reserve_references``, the next of those)."""
    reserved: dict[int, list[int]] | None = bulk.block_local("references", dict)
    if reserved and reserved.get(year):
        return format_reference(prefix, year, reserved[year].pop(0))
    return format_reference(prefix, year, _take(year, 1))


def _take(year: int, count: int) -> int:
    """Move ``year``'s counter on by ``count``; the last number taken.

    The UPDATE takes a row lock (PostgreSQL) or the write lock (SQLite), so two
    requests never get the same number; the counter row is created on first use, by an
    INSERT that leaves a row another request made first as it is. No savepoint: one would
    flush the new ticket, which has no number yet.
    """
    # On the table, not the entity: no object in the session is a counter worth keeping in
    # step, so the ORM has nothing to look through (a group of mails holds hundreds of objects).
    counters = ReferenceCounter.__table__
    bump = (update(counters).where(counters.c.year == year)
            .values(last_number=counters.c.last_number + count)
            .returning(counters.c.last_number))
    bumped = db.session.execute(bump).scalar_one_or_none()
    if bumped is None:
        db.session.execute(bulk.insert_ignoring_duplicates(counters).values(year=year, last_number=0))
        bumped = db.session.execute(bump).scalar_one()
    return int(bumped)


def last_number(year: int) -> int:
    return db.session.scalar(
        select(ReferenceCounter.last_number).where(ReferenceCounter.year == year)
    ) or 0


def reserve_references(counts: dict[int, int]) -> None:
    """Take ``counts[year]`` numbers for each year in one statement per year, for the open
    bulk block's tickets: ``next_reference`` hands them out in order inside the block."""
    pool: dict[int, list[int]] | None = bulk.block_local("references", dict)
    if pool is None:
        raise RuntimeError("reserve_references needs an open bulk block")
    for year, count in counts.items():
        last = _take(year, count)
        pool.setdefault(year, []).extend(range(last - count + 1, last + 1))
