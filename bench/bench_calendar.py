"""Micro-benchmark of business-time arithmetic: ``python bench/bench_calendar.py``.

Why: the SLA sweep computes due times for every running clock, so a call must cost
microseconds whatever the duration. The ratio line shows that a 30-business-day target
costs about the same as a 1-hour one (interval tables and binary search, not stepping).
Year tables are warmed first: the figures are steady-state costs, the one-off cost of
laying out a year is printed separately.
"""

from __future__ import annotations

import sys
import timeit
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpdesk.sla.calendar import (
    add_business_time,
    always_open_calendar,
    business_time_between,
    office_hours_calendar,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
OFFICE = office_hours_calendar()
ALWAYS = always_open_calendar()
# A Wednesday afternoon, so the longer targets cross weekends, Easter and the DST change.
START = datetime(2026, 3, 18, 15, 30, tzinfo=STOCKHOLM)


def per_call(call: Callable[[], object], repeat: int = 5, number: int = 20_000) -> float:
    """Best of ``repeat`` runs, in µs per call: the least disturbed measurement."""
    return min(timeit.repeat(call, repeat=repeat, number=number)) / number * 1e6


def main() -> None:
    cold = timeit.timeit(
        lambda: add_business_time(START, timedelta(hours=1), office_hours_calendar("cold")),
        number=1,
    )
    cases = [
        ("add_business_time  1 h      ", OFFICE, timedelta(hours=1)),
        ("add_business_time  1 day 8 h", OFFICE, timedelta(hours=8)),
        ("add_business_time  24 h 24/7", ALWAYS, timedelta(hours=24)),
        ("add_business_time  30 days  ", OFFICE, 30 * timedelta(hours=9)),
    ]
    figures = {}
    for label, calendar, duration in cases:
        add_business_time(START, duration, calendar)  # warm the year tables
        figures[label] = per_call(partial(add_business_time, START, duration, calendar))
        print(f"{label}: {figures[label]:6.2f} µs/call")
    month_end = START + timedelta(days=31)
    business_time_between(START, month_end, OFFICE)
    between = per_call(lambda: business_time_between(START, month_end, OFFICE))
    print(f"business_time_between 1 month: {between:6.2f} µs/call")
    ratio = figures["add_business_time  30 days  "] / figures["add_business_time  1 h      "]
    print(f"ratio 30 business days / 1 h : {ratio:6.2f}")
    print(f"first call on a new calendar (lays out the year): {cold * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
