"""Business-time arithmetic against a minute-stepping oracle, on random calendars.

Random weekly hours (minute granularity, often touching 02:00–03:00 where DST bites),
random extra closed, open and shortened days, Swedish holidays or none, three zones, and
starts drawn around the weeks that matter in 2026: the DST changes in Europe and the US,
Easter, Ascension, midsommar, Christmas and New Year (which also crosses into 2027).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.sla.calendar import (
    BusinessCalendar,
    add_business_time,
    always_open_calendar,
    business_time_between,
    open_intervals,
)
from tests.unit.sla.oracle import Oracle

ZONES = ("Europe/Stockholm", "UTC", "America/New_York")
ANCHORS = (
    date(2026, 3, 29),  # Europe: spring forward
    date(2026, 10, 25),  # Europe: fall back
    date(2026, 3, 8),  # United States: spring forward
    date(2026, 11, 1),  # United States: fall back
    date(2026, 4, 3),  # långfredagen
    date(2026, 5, 14),  # Kristi himmelsfärdsdag
    date(2026, 6, 19),  # midsommarafton
    date(2026, 12, 24),  # julafton
    date(2026, 12, 31),  # nyårsafton, into 2027
    date(2026, 2, 11),  # an ordinary week
)
# Minutes of the day worth hitting on purpose: DST gaps and folds, office edges, midnight.
SPECIAL_MINUTES = (0, 60, 120, 150, 179, 180, 181, 480, 720, 780, 1020, 1439, 1440)
BUSINESS_DAY = 8 * 60

# The oracle is slow by design; 150 examples each keep the suite well under a minute.
ORACLE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHEAP = settings(max_examples=300, deadline=None)

minute_of_day = st.one_of(st.integers(0, 1440), st.sampled_from(SPECIAL_MINUTES))


def _wall(minute: int) -> time:
    return time(0) if minute == 1440 else time(minute // 60, minute % 60)


@st.composite
def day_hours(draw: st.DrawFn, min_size: int = 0) -> tuple[tuple[time, time], ...]:
    cuts = sorted(draw(st.lists(minute_of_day, min_size=min_size, max_size=6, unique=True)))
    cuts = cuts[: len(cuts) // 2 * 2]
    return tuple((_wall(a), _wall(b)) for a, b in zip(cuts[::2], cuts[1::2], strict=True))


@st.composite
def calendars(draw: st.DrawFn) -> tuple[BusinessCalendar, date]:
    """A random calendar, and the anchor date its extra days cluster around."""
    anchor = draw(st.sampled_from(ANCHORS))
    near = st.integers(-3, 20).map(lambda n: anchor + timedelta(days=n))
    weekly = {weekday: draw(day_hours()) for weekday in range(7)}
    if not any(weekly.values()):
        weekly[draw(st.integers(0, 6))] = draw(day_hours(min_size=2))
    country, categories = draw(
        st.sampled_from([(None, ()), ("SE", ("public",)), ("SE", ("public", "de_facto"))])
    )
    opened = draw(st.dictionaries(near, day_hours(min_size=2), max_size=3))
    closed = draw(st.dictionaries(near, st.sampled_from(["Personaldag", "Flytt"]), max_size=3))
    shortened = draw(st.none() | minute_of_day.filter(lambda m: 0 < m < 1440).map(_wall))
    calendar = BusinessCalendar(
        "random",
        weekly_hours=weekly,
        timezone=draw(st.sampled_from(ZONES)),
        holiday_country=country,
        holiday_categories=categories,
        extra_closed_days={day: why for day, why in closed.items() if day not in opened},
        extra_open_days=opened,
        shortened_close=shortened,
        half_day_categories=draw(st.sampled_from([(), ("bank",), ("optional",)])) if country else (),
        extra_shortened_days=draw(st.frozensets(near, max_size=2)),
    )
    return calendar, anchor


@st.composite
def starts(draw: st.DrawFn, anchor: date) -> datetime:
    """A minute-aligned instant within days of ``anchor``, shown in a random zone."""
    base = datetime.combine(anchor, time(0), UTC)
    moment = base + timedelta(minutes=draw(st.integers(-3 * 1440, 4 * 1440)))
    return moment.astimezone(ZoneInfo(draw(st.sampled_from(ZONES))))


def weekly_minutes(calendar: BusinessCalendar) -> int:
    def length(start: time, end: time) -> int:
        return (end.hour * 60 + end.minute or 1440) - (start.hour * 60 + start.minute)

    return sum(length(s, e) for hours in calendar.weekly_hours.values() for s, e in hours)


@ORACLE
@given(data=st.data(), case=calendars())
def test_add_business_time_agrees_with_the_oracle(data: st.DataObject, case: tuple) -> None:
    calendar, anchor = case
    start = data.draw(starts(anchor), label="start")
    most = min(15 * BUSINESS_DAY, 2 * weekly_minutes(calendar))
    minutes = data.draw(st.integers(0, min(120, most)) | st.integers(0, most), label="minutes")

    due = add_business_time(start, timedelta(minutes=minutes), calendar)

    assert due == Oracle(calendar).add(start, minutes)
    assert due.tzinfo is UTC


@ORACLE
@given(data=st.data(), case=calendars())
def test_business_time_between_agrees_with_the_oracle(data: st.DataObject, case: tuple) -> None:
    calendar, anchor = case
    a = data.draw(starts(anchor), label="a")
    b = a + timedelta(minutes=data.draw(st.integers(-120, 21 * 1440), label="span"))

    assert business_time_between(a, b, calendar) == Oracle(calendar).between(a, b)


@ORACLE
@given(data=st.data(), case=calendars())
def test_open_intervals_are_the_oracles_runs(data: st.DataObject, case: tuple) -> None:
    calendar, anchor = case
    a = data.draw(starts(anchor), label="a")
    b = a + timedelta(minutes=data.draw(st.integers(0, 10 * 1440), label="span"))

    assert list(open_intervals(a, b, calendar)) == Oracle(calendar).open_runs(a, b)


@CHEAP
@given(
    data=st.data(),
    case=calendars(),
    duration=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=60 * 8)),
)
def test_business_time_between_inverts_add_business_time(
    data: st.DataObject, case: tuple, duration: timedelta
) -> None:
    """Exact to the microsecond, for any start and duration, not only whole minutes."""
    calendar, anchor = case
    start = data.draw(starts(anchor)) + timedelta(microseconds=data.draw(st.integers(0, 10**8)))

    due = add_business_time(start, duration, calendar)

    assert due >= start
    assert business_time_between(start, due, calendar) == duration
    if duration:  # and it is the earliest such instant
        assert business_time_between(start, due - timedelta(microseconds=1), calendar) < duration


@CHEAP
@given(
    zone=st.sampled_from(ZONES),
    start=st.datetimes(
        min_value=datetime(2025, 12, 1), max_value=datetime(2027, 1, 31), timezones=st.just(UTC)
    ),
    duration=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
)
def test_always_open_business_time_is_real_time(zone: str, start: datetime, duration: timedelta) -> None:
    calendar = always_open_calendar(timezone=zone)

    assert add_business_time(start, duration, calendar) == start + duration
    assert business_time_between(start, start + duration, calendar) == duration
