"""What a clock's history adds up to: due and warning times, and replaying the marks.

Worked examples a service manager can check on a wall calendar, then two properties on
random office calendars: ``replay`` counts exactly the business time of the running
segments, and ``schedule`` puts the due time exactly the remaining target further on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.sla.calendar import (
    always_open_calendar,
    business_time_between,
    office_hours_calendar,
)
from helpdesk.sla.clock_math import (
    PAUSED,
    RECOMPUTED,
    RESUMED,
    STARTED,
    STOPPED,
    Mark,
    counted,
    replay,
    schedule,
    us,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
OFFICE = office_hours_calendar()  # Mon–Fri 08–17, Swedish public holidays and eves
HOUR = 3_600_000_000
MINUTE = 60_000_000


def sthlm(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=STOCKHOLM)


# schedule -------------------------------------------------------------------------------


def test_due_and_warning_are_counted_in_opening_hours_across_the_night():
    # Mon 9 March 2026 09:00, 16 business hours: Monday 09–17 is 8 h, Tuesday 08–16 the rest.
    times = schedule(0, sthlm(9, 9), 16 * HOUR, 75, OFFICE)
    assert times.due_at == sthlm(10, 16)
    # 75 % of 16 h is 12 h: 8 h on Monday, 4 h on Tuesday morning.
    assert times.warn_at == sthlm(10, 12)
    assert times.due_at.tzinfo is not None and times.due_at.utcoffset() == timedelta(0)


def test_time_already_counted_brings_the_due_time_forward():
    # 6 h counted before; 2 h left from Thursday 16:00 runs over the night to Friday 09:00.
    times = schedule(6 * HOUR, sthlm(12, 16), 8 * HOUR, 50, OFFICE)
    assert times.due_at == sthlm(13, 9)
    # The warning (4 h) had already passed: it is due at once, at the segment's start.
    assert times.warn_at == sthlm(12, 16)


def test_a_segment_starting_at_night_counts_from_the_next_opening():
    times = schedule(0, sthlm(6, 20), 1 * HOUR, 75, OFFICE)  # Friday evening
    assert times.due_at == sthlm(9, 9)  # Monday 09:00
    assert times.warn_at == sthlm(9, 8, 45)


def test_a_target_used_up_is_due_at_the_start_of_the_running_segment():
    # A priority raised late: 5 h counted against a new 4 h target.
    times = schedule(5 * HOUR, sthlm(12, 20), 4 * HOUR, 75, OFFICE)
    assert times.due_at == times.warn_at == sthlm(12, 20)


def test_the_due_time_is_exact_to_the_microsecond_on_a_24_7_calendar():
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # the night Sweden moves to summer time
    times = schedule(1, start, 24 * HOUR, 90, always_open_calendar())
    assert times.due_at == start + timedelta(hours=24, microseconds=-1)
    assert times.warn_at == start + timedelta(hours=21.6, microseconds=-1)


def test_counted_adds_the_running_segment_up_to_now():
    assert counted(2 * HOUR, sthlm(9, 16), sthlm(10, 9), OFFICE) == 4 * HOUR
    assert counted(2 * HOUR, None, sthlm(10, 9), OFFICE) == 2 * HOUR  # paused: nothing added


# replay ---------------------------------------------------------------------------------


def test_replay_of_start_pause_resume_stop():
    marks = [
        Mark(STARTED, sthlm(9, 15), target_us=8 * HOUR),
        Mark(PAUSED, sthlm(10, 10), reason="waiting_for_customer"),  # Mon 2 h + Tue 2 h
        Mark(RESUMED, sthlm(11, 9)),  # paused 23 real hours
        Mark(STOPPED, sthlm(11, 11, 30), reason="resolved"),  # 2 h 30 min more
    ]
    result = replay(marks, OFFICE)
    assert result.elapsed_us == 6 * HOUR + 30 * MINUTE
    assert result.segment_start is None
    assert result.target_us == 8 * HOUR
    assert result.paused_us == 23 * HOUR


def test_replay_of_a_running_clock_leaves_the_open_segment_to_the_caller():
    marks = [
        Mark(STARTED, sthlm(9, 8), target_us=4 * HOUR),
        Mark(PAUSED, sthlm(9, 9)),
        Mark(RESUMED, sthlm(9, 13)),
    ]
    result = replay(marks, OFFICE)
    assert (result.elapsed_us, result.segment_start, result.paused_us) == (
        HOUR, sthlm(9, 13), 4 * HOUR)


def test_a_clock_still_paused_has_no_running_segment_and_no_finished_pause():
    marks = [Mark(STARTED, sthlm(9, 8), target_us=HOUR), Mark(PAUSED, sthlm(9, 8, 30))]
    result = replay(marks, OFFICE)
    assert (result.elapsed_us, result.segment_start, result.paused_us) == (30 * MINUTE, None, 0)


def test_a_recomputed_target_counts_on_from_the_recomputation():
    marks = [
        Mark(STARTED, sthlm(9, 8), target_us=24 * HOUR),
        Mark(RECOMPUTED, sthlm(9, 11), target_us=8 * HOUR, reason="priority"),
    ]
    result = replay(marks, OFFICE)
    assert (result.elapsed_us, result.segment_start, result.target_us) == (
        3 * HOUR, sthlm(9, 11), 8 * HOUR)
    # The due time moved by exactly the target difference: 5 h from 11:00 is 16:00.
    assert schedule(result.elapsed_us, result.segment_start, result.target_us, 75,
                    OFFICE).due_at == sthlm(9, 16)


def test_a_recomputation_while_paused_keeps_the_clock_paused():
    marks = [
        Mark(STARTED, sthlm(9, 8), target_us=24 * HOUR),
        Mark(PAUSED, sthlm(9, 10)),
        Mark(RECOMPUTED, sthlm(9, 12), target_us=8 * HOUR, reason="priority"),
        Mark(RESUMED, sthlm(9, 14)),
    ]
    result = replay(marks, OFFICE)
    assert (result.elapsed_us, result.segment_start, result.target_us, result.paused_us) == (
        2 * HOUR, sthlm(9, 14), 8 * HOUR, 4 * HOUR)


def test_a_calendar_change_keeps_what_the_old_calendar_counted():
    # The clock ran Sun 20:00–Mon 12:00 on a 24/7 calendar (16 h), then the office calendar
    # replaced it. Replay only knows the new calendar (which counts 4 h of that stretch):
    # the elapsed time recorded on the recomputed mark is what counts.
    night_and_morning = [
        Mark(STARTED, sthlm(8, 20), target_us=24 * HOUR),
        Mark(RECOMPUTED, sthlm(9, 12), target_us=24 * HOUR, reason="calendar",
             elapsed_us=16 * HOUR),
        Mark(PAUSED, sthlm(9, 15)),
    ]
    result = replay(night_and_morning, OFFICE)
    assert result.elapsed_us == 16 * HOUR + 3 * HOUR
    assert result.segment_start is None
    # Without the recorded figure the office calendar would count only Monday 08–15.
    without = [m if m.kind != RECOMPUTED else Mark(RECOMPUTED, m.at, target_us=m.target_us)
               for m in night_and_morning]
    assert replay(without, OFFICE).elapsed_us == 7 * HOUR


def test_a_reopened_clock_resumes_after_its_stop():
    marks = [
        Mark(STARTED, sthlm(9, 8), target_us=8 * HOUR),
        Mark(STOPPED, sthlm(9, 10), reason="resolved"),
        Mark(RESUMED, sthlm(10, 9), reason="reopened"),
        Mark(STOPPED, sthlm(10, 10), reason="resolved"),
    ]
    result = replay(marks, OFFICE)
    assert (result.elapsed_us, result.segment_start) == (3 * HOUR, None)
    # Stopped is not paused: the night between is not "paused time".
    assert result.paused_us == 0


def test_an_empty_history_is_a_clock_that_never_ran():
    assert replay([], OFFICE) == replay([], always_open_calendar())
    assert replay([], OFFICE).elapsed_us == 0 and replay([], OFFICE).segment_start is None


# Properties on random office calendars ----------------------------------------------------

RANDOM = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MIDSOMMAR_WEEK = datetime(2026, 6, 15, tzinfo=UTC)  # holidays in play
DST_WEEKS = (datetime(2026, 3, 23, tzinfo=UTC), datetime(2026, 10, 19, tzinfo=UTC))


@st.composite
def office_calendars(draw: st.DrawFn):
    opens = draw(st.one_of(st.sampled_from((0, 8)), st.integers(0, 20)))
    closes = draw(st.one_of(st.just(24), st.integers(opens + 1, 24)))
    weekdays = draw(st.sets(st.integers(0, 6), min_size=1))
    zone = draw(st.sampled_from(("Europe/Stockholm", "UTC", "America/New_York")))
    holidays = draw(st.booleans())
    closed = draw(st.sets(st.integers(0, 40), max_size=3))
    return office_hours_calendar(
        "random", time(opens), time(0) if closes == 24 else time(closes), timezone=zone,
        weekdays=weekdays, holiday_country="SE" if holidays else None,
        holiday_categories=("public", "de_facto") if holidays else (),
        extra_closed_days={date(2026, 6, 15) + timedelta(days=d): "stängt" for d in closed},
    )


@st.composite
def histories(draw: st.DrawFn, bases: tuple[datetime, ...] = (MIDSOMMAR_WEEK, *DST_WEEKS)
              ) -> list[Mark]:
    """Start, then alternating pause/resume at increasing minutes, maybe a final stop."""
    gaps = draw(st.lists(st.integers(0, 3 * 24 * 60), min_size=0, max_size=8))
    at = draw(st.sampled_from(bases)) + timedelta(minutes=draw(st.integers(0, 7 * 24 * 60)), seconds=draw(
        st.integers(0, 59)))
    marks = [Mark(STARTED, at, target_us=8 * HOUR)]
    running = True
    for gap in gaps:
        at += timedelta(minutes=gap)
        marks.append(Mark(PAUSED if running else RESUMED, at))
        running = not running
    if draw(st.booleans()):
        at += timedelta(minutes=draw(st.integers(0, 2 * 24 * 60)))
        marks.append(Mark(STOPPED, at))
    return marks


def running_segments(marks: list[Mark]) -> tuple[list[tuple[datetime, datetime]], datetime | None]:
    """The oracle's own reading: pair each start/resume with the next pause/stop."""
    segments, open_at = [], None
    for mark in marks:
        if mark.kind in (STARTED, RESUMED) and open_at is None:
            open_at = mark.at
        elif mark.kind in (PAUSED, STOPPED) and open_at is not None:
            segments.append((open_at, mark.at))
            open_at = None
    return segments, open_at


@RANDOM
@given(office_calendars(), histories())
def test_replay_counts_exactly_the_business_time_of_the_running_segments(calendar, marks):
    segments, open_at = running_segments(marks)
    expected = 0
    for a, b in segments:
        expected += us(business_time_between(a, b, calendar))
    paused = sum((marks[i + 1].at - m.at for i, m in enumerate(marks[:-1])
                  if m.kind == PAUSED and marks[i + 1].kind == RESUMED), timedelta(0))
    result = replay(marks, calendar)
    assert result.elapsed_us == expected
    assert result.segment_start == open_at
    assert result.paused_us == us(paused)
    assert result.target_us == 8 * HOUR


@RANDOM
@given(office_calendars(), st.integers(0, 40 * 60), st.integers(1, 60 * 60),
       st.integers(1, 99), st.integers(0, 14 * 24 * 60), st.sampled_from(
           (MIDSOMMAR_WEEK, *DST_WEEKS)))
def test_schedule_leaves_exactly_the_remaining_target_between_segment_start_and_due(
        calendar, elapsed_min, target_min, percent, offset_min, base):
    start = base + timedelta(minutes=offset_min)
    elapsed, target = elapsed_min * MINUTE, target_min * MINUTE
    times = schedule(elapsed, start, target, percent, calendar)
    assert us(business_time_between(start, times.due_at, calendar)) == max(0, target - elapsed)
    assert us(business_time_between(start, times.warn_at, calendar)) == max(
        0, target * percent // 100 - elapsed)
    assert start <= times.warn_at <= times.due_at
    if target <= elapsed:
        assert times.due_at == start


@pytest.mark.parametrize("calendar", [OFFICE, always_open_calendar()], ids=["office", "24/7"])
def test_replay_then_schedule_agrees_with_scheduling_each_segment_in_turn(calendar):
    # A clock that ran, paused and ran again is due as if the counted time had been one block.
    marks = [
        Mark(STARTED, sthlm(9, 9), target_us=10 * HOUR),
        Mark(PAUSED, sthlm(9, 12)),
        Mark(RESUMED, sthlm(10, 9)),
    ]
    result = replay(marks, calendar)
    due = schedule(result.elapsed_us, result.segment_start, result.target_us, 75, calendar).due_at
    left = us(business_time_between(sthlm(10, 9), due, calendar))
    assert result.elapsed_us + left == 10 * HOUR
