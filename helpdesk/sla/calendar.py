"""Business time: how much of a span a support group is open, and when a target falls due.

Every SLA clock (response, resolution, OLA, UC) counts only open time, so this module is
the arithmetic under all of them. It is pure: stdlib plus the ``holidays`` package.

What "open" means. A calendar gives each *local date* a set of half-open wall-clock
intervals ``[start, end)`` (see ``opening_hours`` for which rule wins). An instant is open
when its local wall-clock time, on its local date, lies in one of them. ``time(0)`` as an
end means 24:00, so ``(time(0), time(0))`` is a whole day; an interval cannot cross
midnight (write 22:00–24:00 and 00:00–06:00 on the next weekday instead).

Why membership of the wall clock rather than converting the interval's two ends: it is
what people read on the clock, and it decides DST cleanly. On a spring-forward day the
wall times in the gap never happen, so 02:30–04:00 Stockholm is open 03:00–04:00 CEST (one
real hour); on a fall-back day 02:00–03:00 happens twice and is open two real hours.
Converting both ends with zoneinfo's ``fold=0`` gives the same answer except when an end
lies in the gap or fold (it would stretch 00:00–02:30 to 03:30 CEST). Office hours never
touch 02:00–03:00, so the rule only matters for night shifts; 24/7 is always exact.

Arithmetic is done on UTC instants (integer microseconds), never on wall-clock
differences: 24 hours of business time on a 24/7 calendar is 24 real hours across a DST
change, and 08:00–17:00 on a DST Sunday is still 9 hours. The open time of each UTC year
is laid out once per calendar as sorted intervals with running totals, so adding 30
business days or measuring a month is two binary searches, whatever the duration.

Edge semantics (``tests/unit/sla/oracle.py`` checks them minute by minute):

* ``add_business_time`` returns the instant the duration is used up. Used up exactly at an
  interval's end, that end is the answer (8 h from Mon 09:00 on 08–17 is Mon 17:00, not
  Tue 08:00). A zero duration returns the start itself, even in closed time.
* ``business_time_between(a, b)`` is the open time in ``[a, b)``, zero when ``b <= a``;
  ``business_time_between(s, add_business_time(s, d)) == d`` always.
* Inputs must be aware datetimes (``ValueError`` if naive); outputs are aware, in UTC.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from helpdesk.sla import holiday_rules
from helpdesk.sla.timeline import (
    DAY_US,
    YearTable,
    build_year,
    instant,
    micros,
    to_datetime,
    utc_year,
)

Intervals = tuple[tuple[time, time], ...]
K = TypeVar("K")
V = TypeVar("V")

_MIDNIGHT = time(0)
_MAX_EMPTY_YEARS = 10  # a calendar closed this long is a configuration error, not a wait
_WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


class FrozenMap(Mapping[K, V]):
    """An immutable, hashable mapping: what a calendar keeps of the dicts it is given."""

    __slots__ = ("_hash", "_items")

    def __init__(self, items: Mapping[K, V] | None = None) -> None:
        self._items: dict[K, V] = dict(items or {})
        self._hash = hash(frozenset(self._items.items()))

    def __getitem__(self, key: K) -> V:
        return self._items[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"


@dataclass(frozen=True)
class BusinessCalendar:
    """The opening hours of a support group, in its own time zone.

    Mappings given to the constructor are frozen (``FrozenMap``) and intervals sorted and
    checked, so a calendar is hashable and keys the caches that make the arithmetic fast.
    Rules for one local date, first match wins: ``extra_open_days`` (replaces the day's
    hours, even on a holiday), ``extra_closed_days``, holidays of ``holiday_categories``,
    ``weekly_hours`` (weekday 0 = Monday; a missing weekday is closed). A day that is open
    and is a half day (in ``half_day_categories`` per ``holiday_rules``, or listed in
    ``extra_shortened_days``) closes at ``shortened_close``; without ``shortened_close``
    there are no half days.
    """

    name: str
    _: KW_ONLY
    weekly_hours: Mapping[int, Intervals]
    timezone: str = "Europe/Stockholm"
    holiday_country: str | None = "SE"
    holiday_categories: tuple[str, ...] = ("public", "de_facto")
    extra_closed_days: Mapping[date, str] = field(default_factory=FrozenMap)
    extra_open_days: Mapping[date, Intervals] = field(default_factory=FrozenMap)
    shortened_close: time | None = None
    half_day_categories: tuple[str, ...] = ()
    extra_shortened_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        def store(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        weekly = {}
        for weekday, intervals in self.weekly_hours.items():
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0 (Monday) to 6, not {weekday!r}")
            if hours := _checked_intervals(intervals, f"weekday {weekday}"):
                weekly[weekday] = hours
        store("weekly_hours", FrozenMap(weekly))
        closed = {_checked_date(day): str(why) for day, why in self.extra_closed_days.items()}
        store("extra_closed_days", FrozenMap(closed))
        opened = {_checked_date(d): _checked_intervals(i, str(d)) for d, i in self.extra_open_days.items()}
        if empty := sorted(day for day, hours in opened.items() if not hours):
            raise ValueError(f"extra open days without hours: {empty}; close them instead")
        if both := sorted(set(opened) & set(closed)):
            raise ValueError(f"days both extra open and extra closed: {both}")
        store("extra_open_days", FrozenMap(opened))
        store("extra_shortened_days", frozenset(map(_checked_date, self.extra_shortened_days)))
        store("holiday_categories", tuple(self.holiday_categories))
        store("half_day_categories", tuple(self.half_day_categories))
        if self.shortened_close is not None and (
            self.shortened_close == _MIDNIGHT or self.shortened_close.tzinfo is not None
        ):
            raise ValueError("shortened_close must be a naive local time after midnight")
        if self.holiday_country is not None:
            holiday_rules.check(self.holiday_country, self.holiday_categories)
            holiday_rules.check(self.holiday_country, self.half_day_categories)


def office_hours_calendar(
    name: str = "Kontorstid",
    start: time = time(8),
    end: time = time(17),
    *,
    timezone: str = "Europe/Stockholm",
    weekdays: Iterable[int] = range(5),
    holiday_country: str | None = "SE",
    holiday_categories: tuple[str, ...] = ("public", "de_facto"),
    extra_closed_days: Mapping[date, str] | None = None,
    extra_open_days: Mapping[date, Intervals] | None = None,
    shortened_close: time | None = None,
    half_day_categories: tuple[str, ...] = ("bank",),
    extra_shortened_days: Iterable[date] = (),
) -> BusinessCalendar:
    """A Swedish office: Mon–Fri ``start``–``end``, closed on public holidays and on
    midsommarafton, julafton and nyårsafton (the package's ``de_facto`` category).

    Half days are off unless ``shortened_close`` is given; then the "från kl. 14.00" days of
    the ``bank`` category (the fullest list for SE) close at that time.
    """
    return BusinessCalendar(
        name,
        weekly_hours={weekday: ((start, end),) for weekday in weekdays},
        timezone=timezone,
        holiday_country=holiday_country,
        holiday_categories=holiday_categories,
        extra_closed_days=extra_closed_days or {},
        extra_open_days=extra_open_days or {},
        shortened_close=shortened_close,
        half_day_categories=half_day_categories if shortened_close is not None else (),
        extra_shortened_days=frozenset(extra_shortened_days),
    )


def always_open_calendar(name: str = "24/7", timezone: str = "Europe/Stockholm") -> BusinessCalendar:
    """Round the clock, every day: business time equals real time."""
    whole_day = ((_MIDNIGHT, _MIDNIGHT),)
    return BusinessCalendar(
        name,
        weekly_hours=dict.fromkeys(range(7), whole_day),
        timezone=timezone,
        holiday_country=None,
        holiday_categories=(),
    )


def add_business_time(start: datetime, duration: timedelta, calendar: BusinessCalendar) -> datetime:
    """The instant (UTC) at which ``duration`` of open time, counted from ``start``, is used up."""
    moment = instant(start, "start")
    remaining = micros(duration)
    if remaining < 0:
        raise ValueError(f"duration must not be negative, got {duration}")
    if remaining == 0:
        return to_datetime(moment)
    schedule = _schedule(calendar)
    year, empty_years = utc_year(moment), 0
    while True:
        table = schedule.year(year)
        target = table.position(moment) + remaining
        if target <= table.total:
            k = bisect_left(table.totals, target)
            return to_datetime(table.ends[k] - (table.totals[k] - target))
        empty_years = empty_years + 1 if target - remaining == table.total else 0
        if empty_years > _MAX_EMPTY_YEARS:
            raise ValueError(f"calendar {calendar.name!r} has no open time after {start}")
        remaining = target - table.total
        year, moment = year + 1, table.stop


def business_time_between(a: datetime, b: datetime, calendar: BusinessCalendar) -> timedelta:
    """Open time in ``[a, b)``; zero when ``b <= a``."""
    first, last = instant(a, "a"), instant(b, "b")
    if last <= first:
        return timedelta(0)
    schedule = _schedule(calendar)
    total = 0
    for year in range(utc_year(first), utc_year(last) + 1):
        table = schedule.year(year)
        total += table.position(last) - table.position(first)
    return timedelta(microseconds=total)


def open_intervals(
    a: datetime, b: datetime, calendar: BusinessCalendar
) -> Iterator[tuple[datetime, datetime]]:
    """The open stretches within ``[a, b)``, as sorted, disjoint, non-touching UTC pairs."""
    first, last = instant(a, "a"), instant(b, "b")
    return _open_intervals(_schedule(calendar), first, last)


def opening_hours(day: date, calendar: BusinessCalendar) -> Intervals:
    """The local wall-clock intervals ``day`` is open (empty when closed), rules applied."""
    return _day_rule(calendar, _checked_date(day))[0]


def closed_reason(day: date, calendar: BusinessCalendar) -> str | None:
    """Why ``day`` is closed, for people reading an SLA explanation; ``None`` if it opens.

    Holiday names come from the package in the country's language ("Midsommarafton",
    "Långfredagen"); an extra closed day gives its own reason; a weekday without hours
    gives "weekend" (Saturday, Sunday) or "no opening hours on Wednesdays".
    """
    return _day_rule(calendar, _checked_date(day))[1]


def _day_rule(calendar: BusinessCalendar, day: date) -> tuple[Intervals, str | None]:
    """The one place that decides a local date's hours; everything else builds on it."""
    if day in calendar.extra_open_days:
        return calendar.extra_open_days[day], None
    if day in calendar.extra_closed_days:
        return (), calendar.extra_closed_days[day]
    country = calendar.holiday_country
    if country and calendar.holiday_categories:
        names = holiday_rules.holiday_names(country, calendar.holiday_categories, day.year)
        if day in names:
            return (), names[day]
    hours = calendar.weekly_hours.get(day.weekday(), ())
    if not hours:
        return (
            (),
            "weekend" if day.weekday() >= 5 else f"no opening hours on {_WEEKDAYS[day.weekday()]}",
        )
    close = calendar.shortened_close
    if close is None:
        return hours, None
    half_days: Mapping[date, str] = {}
    if country and calendar.half_day_categories:
        half_days = holiday_rules.half_day_names(country, calendar.half_day_categories, day.year)
    if day not in half_days and day not in calendar.extra_shortened_days:
        return hours, None
    shortened = tuple((s, close if e == _MIDNIGHT else min(e, close)) for s, e in hours if s < close)
    return shortened, None if shortened else half_days.get(day, f"closes at {close:%H:%M}")


class _Schedule:
    """A calendar's per-UTC-year tables, built on first use and then kept."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        self._years: dict[int, YearTable] = {}

    def year(self, year: int) -> YearTable:
        table = self._years.get(year)
        if table is None:
            table = self._years[year] = build_year(year, self.calendar.timezone, self._hours)
        return table

    def _hours(self, day: date) -> tuple[tuple[int, int], ...]:
        return tuple((_of_day(s), _of_day(e) or DAY_US) for s, e in _day_rule(self.calendar, day)[0])


@lru_cache(maxsize=128)
def _schedule(calendar: BusinessCalendar) -> _Schedule:
    """Equal calendars share their tables, even when built afresh from stored settings."""
    return _Schedule(calendar)


def _open_intervals(schedule: _Schedule, first: int, last: int) -> Iterator[tuple[datetime, datetime]]:
    pending: tuple[int, int] | None = None
    for year in range(utc_year(first), utc_year(last) + 1) if first < last else ():
        table = schedule.year(year)
        i = bisect_right(table.ends, first)
        while i < len(table.starts) and table.starts[i] < last:
            lo, hi = max(table.starts[i], first), min(table.ends[i], last)
            if pending and pending[1] == lo:
                pending = (pending[0], hi)
            else:
                if pending:
                    yield to_datetime(pending[0]), to_datetime(pending[1])
                pending = (lo, hi)
            i += 1
    if pending:
        yield to_datetime(pending[0]), to_datetime(pending[1])


def _checked_intervals(intervals: Iterable[tuple[time, time]], where: str) -> Intervals:
    hours = []
    for pair in intervals:
        opens, closes = pair
        if not (isinstance(opens, time) and isinstance(closes, time)):
            raise ValueError(f"{where}: intervals are pairs of datetime.time, got {pair!r}")
        if opens.tzinfo is not None or closes.tzinfo is not None:
            raise ValueError(f"{where}: use naive local times; the calendar has the zone")
        if closes != _MIDNIGHT and closes <= opens:
            raise ValueError(f"{where}: {opens}–{closes} is empty or crosses midnight")
        hours.append((opens.replace(fold=0), closes.replace(fold=0)))
    hours.sort()
    for (_, end), (begin, _) in pairwise(hours):
        if end == _MIDNIGHT or begin < end:
            raise ValueError(f"{where}: intervals overlap: {hours}")
    return tuple(hours)


def _checked_date(day: Any) -> date:
    if isinstance(day, datetime) or not isinstance(day, date):
        raise ValueError(f"expected a date, got {day!r}")
    return day


def _of_day(moment: time) -> int:
    return ((moment.hour * 60 + moment.minute) * 60 + moment.second) * 1_000_000 + moment.microsecond
