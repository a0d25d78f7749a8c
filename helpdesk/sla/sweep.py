"""The sweep: find clocks whose warning or due time has come, and act once.

It reads clocks through the ``next_attention_at`` index, so its cost follows the
number of clocks that need attention, not the number of tickets. Each warning
and breach is recorded under a unique constraint and its effects happen in the
same transaction, so a sweep that dies half-way changes nothing and the next
one (in this process or another) does the work exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from helpdesk.config import Settings
from helpdesk.extensions import db
from helpdesk.sla import clocks, effects
from helpdesk.sla.models import AlertKind, ClockStatus, SlaClock

BATCH = 500


@dataclass
class SweepResult:
    examined: int = 0
    warnings: list[int] = field(default_factory=list)  # clock ids
    breaches: list[int] = field(default_factory=list)


def sweep(*, now: datetime, settings: Settings, worker: str, limit: int = BATCH) -> SweepResult:
    """One pass over the clocks due for attention; the caller commits."""
    query = (
        select(SlaClock)
        .where(SlaClock.next_attention_at <= now)
        .order_by(SlaClock.next_attention_at)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # Another scheduler that (wrongly) runs at the same time skips what this one holds.
        query = query.with_for_update(skip_locked=True, of=SlaClock)
    result = SweepResult()
    for clock in db.session.scalars(query).all():
        result.examined += 1
        if clock.status != ClockStatus.RUNNING:
            clock.next_attention_at = None
            continue
        if clock.warned_at is None and clock.warn_at is not None and clock.warn_at <= now:
            _alert(clock, AlertKind.WARNING, clock.warn_at, now, settings, worker, result.warnings)
        if clock.breached_at is None and clock.due_at is not None and clock.due_at <= now:
            _alert(clock, AlertKind.BREACH, clock.due_at, now, settings, worker, result.breaches)
        clocks.reschedule(clock)
        clocks.refresh_ticket(clock.ticket, quiet=True)
    db.session.flush()
    return result


def _alert(clock: SlaClock, kind: AlertKind, at: datetime, now: datetime, settings: Settings,
           worker: str, recorded: list[int]) -> None:
    if clocks.record_alert(clock, kind, at=at, now=now, by=worker):
        recorded.append(clock.id)
        effects.apply(clock, kind, now=now, settings=settings)


def sweep_all(*, now: datetime, settings: Settings, worker: str) -> SweepResult:
    """Sweep in batches until nothing due is left (each batch flushed, one commit by the caller)."""
    total = SweepResult()
    while True:
        batch = sweep(now=now, settings=settings, worker=worker)
        total.examined += batch.examined
        total.warnings += batch.warnings
        total.breaches += batch.breaches
        if batch.examined < BATCH:
            return total
