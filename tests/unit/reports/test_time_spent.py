"""Where a ticket's time went, from its history: hand-worked cases, and random histories
against an oracle that walks the history one minute at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.reports.time_spent import (
    CUSTOMER,
    VENDOR,
    WORKING,
    Span,
    Step,
    holder_of,
    spans,
    time_spent,
)
from helpdesk.sla.calendar import office_hours_calendar
from tests.unit.sla.oracle import Oracle

STOCKHOLM = ZoneInfo("Europe/Stockholm")
OFFICE = office_hours_calendar()
HOUR = timedelta(hours=1)


def local(day: int, hour: int, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=STOCKHOLM).astimezone(UTC)


def test_a_ticket_through_the_tiers_a_vendor_and_the_customer():
    # Mon 19 Oct: created 09:00 at level 1 (group 1), escalated 11:00 to group 2, which asks
    # the requester at 13:00; the answer comes Tue 09:00; a vendor has it 10:00–14:00;
    # resolved 15:00.
    history = [Step(local(19, 9), "new", None), Step(local(19, 9), None, 1),
               Step(local(19, 9), "in_progress", None), Step(local(19, 11), "open", 2),
               Step(local(19, 11), "in_progress", None),
               Step(local(19, 13), "waiting_for_customer", None),
               Step(local(20, 9), "in_progress", None), Step(local(20, 10), "waiting_for_vendor", None),
               Step(local(20, 14), "in_progress", 2), Step(local(20, 15), "resolved", None)]
    assert time_spent(spans(history, local(20, 15)), OFFICE) == {
        (WORKING, 1): 2 * HOUR, (WORKING, 2): 2 * HOUR + HOUR + HOUR,
        (CUSTOMER, 2): 4 * HOUR + HOUR, (VENDOR, 2): 4 * HOUR}


def test_resolved_time_before_a_reopening_is_nobodys():
    history = [Step(local(12, 8), "new", 1), Step(local(12, 10), "resolved", None),
               Step(local(14, 8), "open", 1), Step(local(16, 14), "resolved", None)]
    found = spans(history, local(16, 14))
    assert [(s.start, s.end) for s in found] == [(local(12, 8), local(12, 10)),
                                                 (local(14, 8), local(16, 14))]
    # 2 h on Monday the 12th, then Wednesday and Thursday (9 h each) and Friday until 14:00.
    assert time_spent(found, OFFICE) == {(WORKING, 1): 26 * HOUR}


def test_the_summer_time_change_is_counted_in_local_hours():
    # Fri 23 Oct 16:00 CEST to Mon 26 Oct 10:00 CET: 1 h and 2 h of office time.
    history = [Step(local(23, 16), "new", 7)]
    assert time_spent(spans(history, local(26, 10)), OFFICE) == {(WORKING, 7): 3 * HOUR}


def test_nothing_is_counted_before_the_ticket_has_a_group_or_after_the_end():
    history = [Step(local(19, 8), "new", None), Step(local(19, 9), None, 3),
               Step(local(19, 12), "in_progress", None)]
    assert spans(history, local(19, 10)) == [Span(local(19, 9), local(19, 10), WORKING, 3)]


def test_the_holders_of_the_states():
    assert [holder_of(s) for s in ("new", "open", "in_progress", "waiting_for_customer",
                                   "waiting_for_vendor", "awaiting_approval", "resolved",
                                   "closed", "cancelled", "rejected")] == [
        WORKING, WORKING, WORKING, CUSTOMER, VENDOR, "approval", None, None, None, None]


# Random histories against a minute-by-minute walk --------------------------------------

STATUSES = ("new", "open", "in_progress", "waiting_for_customer", "waiting_for_vendor",
            "awaiting_approval", "resolved", "closed")
START = datetime(2026, 10, 22, 6, 0, tzinfo=UTC)  # the week of the autumn DST change


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Step], datetime]:
    offsets = sorted(draw(st.lists(st.integers(0, 4 * 24 * 60), min_size=1, max_size=12)))
    steps = [Step(START + timedelta(minutes=m),
                  draw(st.one_of(st.none(), st.sampled_from(STATUSES))),
                  draw(st.one_of(st.none(), st.integers(1, 3))))
             for m in offsets]
    until = START + timedelta(minutes=draw(st.integers(offsets[-1], 5 * 24 * 60)))
    return steps, until


def _oracle(steps: list[Step], until: datetime) -> dict[tuple[str, int], timedelta]:
    """Each open minute goes to whoever the last step at or before it says has the ticket."""
    is_open = Oracle(OFFICE).is_open
    totals: dict[tuple[str, int], timedelta] = {}
    minute = steps[0].at
    while minute < until:
        status = group = None
        for step in steps:
            if step.at <= minute:
                status, group = step.status or status, step.group_id or group
        holder = holder_of(status) if status else None
        if holder and group:  # a holder with no open minute is there, with no time
            spent = timedelta(minutes=1) if is_open(minute) else timedelta()
            totals[(holder, group)] = totals.get((holder, group), timedelta()) + spent
        minute += timedelta(minutes=1)
    return totals


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_random_histories_agree_with_the_minute_walk(history):
    steps, until = history
    assert time_spent(spans(steps, until), OFFICE) == _oracle(steps, until)
