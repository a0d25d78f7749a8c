"""A clock's due time as lines a person can check by hand against a wall calendar."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.sla.calendar import BusinessCalendar, always_open_calendar, office_hours_calendar
from helpdesk.sla.clock_math import (
    PAUSED,
    RECOMPUTED,
    RESUMED,
    STARTED,
    STOPPED,
    Mark,
    counted,
    replay,
    us,
)
from helpdesk.sla.explain import COUNTED_THEN, MAX_DAY_LINES, Line, explain
from tests.unit.sla.test_clock_math import MIDSOMMAR_WEEK, histories, office_calendars

STOCKHOLM = ZoneInfo("Europe/Stockholm")
OFFICE = office_hours_calendar()  # Mon–Fri 08–17 with Swedish holidays and eves
HOUR = 3_600_000_000
MINUTE = 60_000_000


def sthlm(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=STOCKHOLM)


def midnight(month: int, day: int) -> datetime:
    return sthlm(month, day, 0)


def counted_total(lines: list[Line]) -> int:
    return sum(line.business_us for line in lines if line.kind in ("counted", COUNTED_THEN, "more"))


def shown(lines: list[Line]) -> list[tuple]:
    """What the ticket page prints of each line: kind, local times, duration, reason."""
    return [(line.kind, line.start.strftime("%a %d %b %H:%M"),
             line.end.strftime("%a %d %b %H:%M") if line.end else None,
             line.business_us, line.reason) for line in lines]


# Opened on the Thursday before midsommar, 15:00, on the 08–17 office calendar; 8 h target.
MIDSOMMAR = [
    Mark(STARTED, sthlm(6, 18, 15), target_us=8 * HOUR),
    Mark(PAUSED, sthlm(6, 22, 10), reason="waiting_for_customer"),
    Mark(RESUMED, sthlm(6, 22, 12, 10), reason="in_progress"),
    Mark(STOPPED, sthlm(6, 22, 15), reason="resolved"),
]


def test_the_midsommar_ticket_reads_day_by_day():
    lines = explain(MIDSOMMAR, OFFICE, now=sthlm(6, 23, 9))
    assert lines == [
        Line("started", sthlm(6, 18, 15)),
        Line("counted", sthlm(6, 18, 15), sthlm(6, 18, 17), 2 * HOUR),
        Line("closed", midnight(6, 19), midnight(6, 19), reason="Midsommarafton"),
        Line("closed", midnight(6, 20), midnight(6, 20), reason="Midsommardagen"),
        Line("closed", midnight(6, 21), midnight(6, 21), reason="weekend"),
        Line("counted", sthlm(6, 22, 8), sthlm(6, 22, 10), 2 * HOUR),
        Line("paused", sthlm(6, 22, 10), sthlm(6, 22, 12, 10), reason="waiting_for_customer"),
        Line("resumed", sthlm(6, 22, 12, 10)),
        Line("counted", sthlm(6, 22, 12, 10), sthlm(6, 22, 15), 2 * HOUR + 50 * MINUTE),
        Line("stopped", sthlm(6, 22, 15), reason="resolved"),
    ]
    # Times are shown in the calendar's zone: 15:00 Stockholm, not 13:00 UTC.
    assert shown(lines)[1] == ("counted", "Thu 18 Jun 15:00", "Thu 18 Jun 17:00", 2 * HOUR, None)
    paused = lines[6]
    assert paused.end - paused.start == timedelta(hours=2, minutes=10)


def test_the_counted_lines_add_up_to_the_counted_business_time():
    lines = explain(MIDSOMMAR, OFFICE, now=sthlm(6, 23, 9))
    assert counted_total(lines) == replay(MIDSOMMAR, OFFICE).elapsed_us == 6 * HOUR + 50 * MINUTE


def test_a_running_clock_is_counted_up_to_now_and_a_paused_one_says_since_when():
    running = MIDSOMMAR[:3]
    lines = explain(running, OFFICE, now=sthlm(6, 22, 14))
    assert lines[-1] == Line("counted", sthlm(6, 22, 12, 10), sthlm(6, 22, 14), 110 * MINUTE)
    assert counted_total(lines) == 5 * HOUR + 50 * MINUTE

    paused = MIDSOMMAR[:2]
    lines = explain(paused, OFFICE, now=sthlm(6, 22, 11))
    assert lines[-1] == Line("paused", sthlm(6, 22, 10), None, reason="waiting_for_customer")
    assert counted_total(lines) == 4 * HOUR


def test_closed_days_with_the_same_reason_are_one_line():
    # Christmas 2026: Thu 24 julafton, Fri 25 juldagen, Sat 26 annandag jul, Sun 27 weekend;
    # a different reason each day, so a line each.
    marks = [Mark(STARTED, sthlm(12, 23, 16), target_us=8 * HOUR),
             Mark(STOPPED, sthlm(12, 28, 9), reason="resolved")]
    lines = explain(marks, OFFICE, now=sthlm(12, 28, 9))
    closed = [(line.start.date().day, line.end.date().day, line.reason)
              for line in lines if line.kind == "closed"]
    assert closed == [(24, 24, "Julafton"), (25, 25, "Juldagen"), (26, 26, "Annandag jul"),
                      (27, 27, "weekend")]

    weekend_run = [Mark(STARTED, sthlm(3, 6, 16), target_us=HOUR),
                   Mark(STOPPED, sthlm(3, 9, 9), reason="resolved")]
    lines = explain(weekend_run, OFFICE, now=sthlm(3, 9, 9))
    assert [line for line in lines if line.kind == "closed"] == [
        Line("closed", midnight(3, 7), midnight(3, 8), reason="weekend")]


def test_a_recomputation_splits_the_running_segment_and_says_why():
    marks = [Mark(STARTED, sthlm(3, 9, 8), target_us=24 * HOUR),
             Mark(RECOMPUTED, sthlm(3, 9, 11), target_us=8 * HOUR, reason="priority"),
             Mark(STOPPED, sthlm(3, 9, 13), reason="resolved")]
    lines = explain(marks, OFFICE, now=sthlm(3, 9, 14))
    assert [(line.kind, line.start, line.end, line.reason) for line in lines] == [
        ("started", sthlm(3, 9, 8), None, None),
        ("counted", sthlm(3, 9, 8), sthlm(3, 9, 11), None),
        ("recomputed", sthlm(3, 9, 11), None, "priority"),
        ("counted", sthlm(3, 9, 11), sthlm(3, 9, 13), None),
        ("stopped", sthlm(3, 9, 13), None, "resolved"),
    ]
    assert counted_total(lines) == replay(marks, OFFICE).elapsed_us == 5 * HOUR


def test_a_clock_that_ran_for_months_shows_its_first_weeks_then_a_summary_that_adds_up():
    marks = [Mark(STARTED, sthlm(1, 5, 8), target_us=2000 * HOUR),
             Mark(STOPPED, sthlm(6, 1, 8), reason="resolved")]
    lines = explain(marks, OFFICE, now=sthlm(6, 1, 8))
    assert sum(1 for line in lines if line.kind == "counted") == MAX_DAY_LINES
    assert lines[-2].kind == "more"
    assert counted_total(lines) == replay(marks, OFFICE).elapsed_us


def test_a_24_7_clock_crosses_the_dst_change_with_one_line_per_local_day():
    calendar = always_open_calendar()
    marks = [Mark(STARTED, datetime(2026, 3, 28, 22, tzinfo=UTC), target_us=48 * HOUR)]
    lines = explain(marks, calendar, now=datetime(2026, 3, 29, 23, tzinfo=UTC))
    counted_lines = [line for line in lines if line.kind == "counted"]
    # Sat 23:00 → Sun 24:00 → Mon 01:00 local; Sunday has only 23 real hours.
    assert [line.business_us for line in counted_lines] == [HOUR, 23 * HOUR, HOUR]
    assert counted_total(lines) == 25 * HOUR


def test_a_night_shift_on_the_dst_night_counts_the_real_hours():
    # Sundays 00:00–06:00; on 29 March 2026 the clocks skip 02:00–03:00: 5 real hours open.
    night = BusinessCalendar("Natt", weekly_hours={6: ((time(0), time(6)),)},
                             holiday_country=None, holiday_categories=())
    marks = [Mark(STARTED, sthlm(3, 28, 12), target_us=8 * HOUR),
             Mark(STOPPED, sthlm(3, 29, 12), reason="resolved")]
    assert replay(marks, night).elapsed_us == 5 * HOUR
    lines = explain(marks, night, now=sthlm(3, 29, 12))
    assert [line.business_us for line in lines if line.kind == "counted"] == [5 * HOUR]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(office_calendars(), histories(bases=(MIDSOMMAR_WEEK,)))
def test_the_lines_always_add_up_to_what_replay_counts(calendar, marks):
    # Weeks without a DST change, where wall-clock and real lengths agree; across one,
    # see the DST tests above.
    now = marks[-1].at
    lines = explain(marks, calendar, now=now)
    assert counted_total(lines) == replay(marks, calendar).elapsed_us
    for line in lines:
        if line.kind == "counted":
            assert line.business_us == us(line.end - line.start) > 0


def test_a_stretch_counted_on_hours_changed_since_is_one_line_of_what_was_counted_then():
    # Opened Tue 10 Mar 10:00 on 08–17; at 12:00 the office hours became 13–17. The two
    # hours counted under the old hours stay counted; today's hours would count none.
    afternoons = office_hours_calendar("Eftermiddagar", time(13), time(17))
    marks = [Mark(STARTED, sthlm(3, 10, 10), target_us=8 * HOUR),
             Mark(RECOMPUTED, sthlm(3, 10, 12), target_us=8 * HOUR, reason="calendar",
                  elapsed_us=2 * HOUR)]
    lines = explain(marks, afternoons, now=sthlm(3, 10, 14))
    assert lines == [
        Line("started", sthlm(3, 10, 10)),
        Line(COUNTED_THEN, sthlm(3, 10, 10), sthlm(3, 10, 12), 2 * HOUR),
        Line("recomputed", sthlm(3, 10, 12), reason="calendar"),
        Line("counted", sthlm(3, 10, 13), sthlm(3, 10, 14), HOUR),
    ]
    so_far = replay(marks, afternoons)  # what the clock row holds, and its open segment
    assert counted_total(lines) == counted(so_far.elapsed_us, so_far.segment_start,
                                           sthlm(3, 10, 14), afternoons) == 3 * HOUR


def test_a_stretch_today_s_calendar_tells_alike_keeps_its_day_lines():
    marks = [Mark(STARTED, sthlm(3, 10, 10), target_us=8 * HOUR),
             Mark(RECOMPUTED, sthlm(3, 10, 12), target_us=4 * HOUR, reason="priority",
                  elapsed_us=2 * HOUR)]
    lines = explain(marks, OFFICE, now=sthlm(3, 10, 14))
    assert [line.kind for line in lines] == ["started", "counted", "recomputed", "counted"]


def test_a_clock_stopped_while_paused_ends_its_pause_there():
    # Taken 16:00, the requester asked at 16:20 (paused), resolved while waiting at 16:30.
    marks = [Mark(STARTED, sthlm(3, 13, 16), target_us=8 * HOUR),
             Mark(PAUSED, sthlm(3, 13, 16, 20), reason="waiting_for_customer"),
             Mark(STOPPED, sthlm(3, 13, 16, 30), reason="resolved")]
    lines = explain(marks, OFFICE, now=sthlm(3, 16, 9))
    assert lines[-2:] == [
        Line("paused", sthlm(3, 13, 16, 20), sthlm(3, 13, 16, 30), reason="waiting_for_customer"),
        Line("stopped", sthlm(3, 13, 16, 30), reason="resolved")]
    # A reply that asks the requester something pauses and meets the first response at
    # once: no pause of no length, and nothing after the stop.
    asked = [marks[0], Mark(PAUSED, sthlm(3, 13, 16, 20), reason="waiting_for_customer"),
             Mark(STOPPED, sthlm(3, 13, 16, 20), reason="public_reply")]
    lines = explain(asked, OFFICE, now=sthlm(3, 16, 9))
    assert [line.kind for line in lines] == ["started", "counted", "stopped"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(office_calendars(), office_calendars(), histories(bases=(MIDSOMMAR_WEEK,)),
       st.data())
def test_lines_add_up_to_the_recorded_counts_and_a_stopped_clock_ends_with_its_stop(
        calendar, then, marks, data):
    # Some marks were recorded while another calendar was in force (``then``): what they
    # recorded is what counts, as replay counts it.
    recorded = []
    for mark in marks:
        if mark.kind in (PAUSED, STOPPED) and data.draw(st.booleans()):
            mark = Mark(mark.kind, mark.at, reason=mark.reason,
                        elapsed_us=replay([*recorded, mark], then).elapsed_us)
        recorded.append(mark)
    lines = explain(recorded, calendar, now=recorded[-1].at)
    assert counted_total(lines) == replay(recorded, calendar).elapsed_us
    if recorded[-1].kind == STOPPED:
        assert lines[-1].kind == "stopped"
    if recorded[-1].kind != PAUSED:  # only a clock paused now has a pause without an end
        assert all(line.end is not None for line in lines if line.kind == "paused")
