"""A report's period: whole local days (Europe/Stockholm), turned into UTC boundaries.

Pure: no Flask, no SQLAlchemy. A month is its local first day at 00:00 up to the next
month's first day at 00:00, so a month with a DST change is 743 or 745 hours long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

REPORT_TIMEZONE = "Europe/Stockholm"


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date  # inclusive
    timezone: str = REPORT_TIMEZONE

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError("the period ends before it starts")

    @property
    def starts_at(self) -> datetime:
        return _local_midnight(self.first_day, self.timezone)

    @property
    def ends_at(self) -> datetime:
        """The first moment after the period (exclusive), in UTC."""
        return _local_midnight(self.last_day + timedelta(days=1), self.timezone)

    @property
    def month_key(self) -> str | None:
        """"2026-10" when the period is exactly one calendar month."""
        if self.first_day.day == 1 and self == month(self.first_day.year, self.first_day.month):
            return f"{self.first_day:%Y-%m}"
        return None


def _local_midnight(day: date, timezone: str) -> datetime:
    local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


def month(year: int, number: int) -> Period:
    first = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)
    return Period(first, following - timedelta(days=1))


def parse_month(text: str) -> Period:
    """"2026-10" -> October 2026; ValueError for anything else."""
    year, _, number = text.partition("-")
    if not (year.isdigit() and number.isdigit() and len(year) == 4 and 1 <= int(number) <= 12):
        raise ValueError(text)
    return month(int(year), int(number))


def previous_month(today: date) -> Period:
    last = today.replace(day=1) - timedelta(days=1)
    return month(last.year, last.month)


def local_today(now: datetime, timezone: str = REPORT_TIMEZONE) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()
