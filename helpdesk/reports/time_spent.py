"""Where a ticket's time went: its history cut into spans, each held by a group at its tier,
by a vendor or by the customer, and each span's business time on one calendar.

Pure: no Flask, no SQLAlchemy. The history says, row by row, the status a ticket moved to
and the group it moved to (either may be missing when a row changed neither); a span runs
from one change to the next. Time while a ticket is resolved (before a reopening) or
closed belongs to nobody and is not counted, so the spans add up to the business time
from creation to the last resolution less the resolved weeks in between.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk.sla.calendar import BusinessCalendar, business_time_between

# Who holds a span. A group "works" a ticket also while it waits in the group's queue.
WORKING = "working"
VENDOR = "vendor"
CUSTOMER = "customer"
APPROVAL = "approval"

_HOLDER_OF_STATUS = {
    "waiting_for_vendor": VENDOR,
    "waiting_for_customer": CUSTOMER,
    "awaiting_approval": APPROVAL,
}
# The work is done (or over) in these: nobody holds the ticket.
NOT_HELD = frozenset({"resolved", "closed", "cancelled", "rejected"})


@dataclass(frozen=True, slots=True)
class Step:
    """One history row as far as time goes: from ``at`` on, the ticket was in ``status``
    with ``group_id`` (None where the row changed neither)."""

    at: datetime
    status: str | None
    group_id: int | None


@dataclass(frozen=True, slots=True)
class Span:
    start: datetime
    end: datetime
    holder: str
    group_id: int


def holder_of(status: str) -> str | None:
    if status in NOT_HELD:
        return None
    return _HOLDER_OF_STATUS.get(status, WORKING)


def spans(steps: Iterable[Step], until: datetime) -> list[Span]:
    """The spans of a history given in order, the last one ending at ``until``."""
    out: list[Span] = []
    status: str | None = None
    group_id: int | None = None
    since: datetime | None = None

    def close(end: datetime) -> None:
        holder = holder_of(status) if status is not None else None
        if since is not None and holder is not None and group_id is not None and end > since:
            out.append(Span(since, end, holder, group_id))

    for step in steps:
        if step.at > until:
            break
        now_status = step.status or status
        now_group = step.group_id or group_id
        if (now_status, now_group) != (status, group_id):
            close(step.at)
            status, group_id, since = now_status, now_group, step.at
    close(until)
    return out


def time_spent(found: Iterable[Span], calendar: BusinessCalendar) -> dict[tuple[str, int], timedelta]:
    """Business time per (holder, group) on ``calendar``."""
    totals: dict[tuple[str, int], timedelta] = defaultdict(timedelta)
    for span in found:
        totals[(span.holder, span.group_id)] += business_time_between(span.start, span.end, calendar)
    return dict(totals)
