"""A brute-force oracle for business time: one UTC minute at a time.

It is deliberately naive and shares no code with ``helpdesk.sla``: for every UTC minute it
converts the instant to the calendar's local time and asks whether that wall-clock time
lies in the hours the *raw* calendar definition gives its local date, looking holidays up
in the ``holidays`` package itself. If the interval arithmetic and this agree on random
calendars, across DST changes and holidays, the arithmetic is right.

Exact only for minute-aligned questions: minute-aligned starts, opening hours with whole
minutes and zones whose offsets and transitions are whole minutes (then every UTC minute
is wholly open or wholly closed). Only ``holiday_country`` ``None`` and ``"SE"``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from helpdesk.sla.calendar import BusinessCalendar

MINUTE = timedelta(minutes=1)
GIVE_UP = timedelta(weeks=26)  # a test that needs longer is a broken test
HALF_DAY_MARK = "(från kl. 14.00)"  # how holidays' Swedish names mark a day closing at 14


@cache
def _package_days(country: str, categories: tuple[str, ...], year: int) -> dict[date, str]:
    if not categories:
        return {}
    return dict(holidays.country_holidays(country, years=year, categories=categories, language="sv"))


class Oracle:
    """Answers business-time questions for one calendar by counting minutes."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        assert calendar.holiday_country in (None, "SE")
        self.calendar = calendar
        self.zone = ZoneInfo(calendar.timezone)
        self._hours: dict[date, list[tuple[time, time | None]]] = {}

    def hours_on(self, day: date) -> list[tuple[time, time | None]]:
        """The day's wall-clock intervals; ``None`` as an end means 24:00."""
        if day not in self._hours:
            self._hours[day] = [
                (start, None if end == time(0) else end) for start, end in self._raw_hours(day)
            ]
        return self._hours[day]

    def _raw_hours(self, day: date) -> list[tuple[time, time]]:
        cal = self.calendar
        if day in cal.extra_open_days:
            return list(cal.extra_open_days[day])
        if day in cal.extra_closed_days:
            return []
        country = cal.holiday_country
        if country and day in _package_days(country, cal.holiday_categories, day.year):
            return []
        hours = list(cal.weekly_hours.get(day.weekday(), ()))
        close = cal.shortened_close
        if close is None:
            return hours
        half_day_name = ""
        if country:
            half_day_name = _package_days(country, cal.half_day_categories, day.year).get(day, "")
        if HALF_DAY_MARK in half_day_name or day in cal.extra_shortened_days:
            clipped = []
            for start, end in hours:
                if start < close:
                    clipped.append((start, close if end == time(0) or end > close else end))
            return clipped
        return hours

    def is_open(self, minute: datetime) -> bool:
        """Is the UTC minute starting at ``minute`` open?"""
        local = minute.astimezone(self.zone)
        wall = local.time()
        return any(
            start <= wall and (end is None or wall < end) for start, end in self.hours_on(local.date())
        )

    def add(self, start: datetime, minutes: int) -> datetime:
        """The end of the minute in which the ``minutes``-th open minute is used up."""
        moment = _minute(start)
        if minutes == 0:
            return moment
        used, give_up = 0, moment + GIVE_UP
        while moment < give_up:
            if self.is_open(moment):
                used += 1
            moment += MINUTE
            if used == minutes:
                return moment
        raise AssertionError("the oracle gave up: no open time for half a year")

    def between(self, a: datetime, b: datetime) -> timedelta:
        moment, end = _minute(a), _minute(b)
        count = 0
        while moment < end:
            count += self.is_open(moment)
            moment += MINUTE
        return count * MINUTE

    def open_runs(self, a: datetime, b: datetime) -> list[tuple[datetime, datetime]]:
        """Maximal runs of open minutes in ``[a, b)``."""
        runs: list[tuple[datetime, datetime]] = []
        moment, end = _minute(a), _minute(b)
        while moment < end:
            if self.is_open(moment):
                if runs and runs[-1][1] == moment:
                    runs[-1] = (runs[-1][0], moment + MINUTE)
                else:
                    runs.append((moment, moment + MINUTE))
            moment += MINUTE
        return runs


def _minute(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    assert moment.second == 0 and moment.microsecond == 0, "the oracle counts whole minutes"
    return moment
