"""Named cases for business-time arithmetic: the ones people will ask about."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from helpdesk.sla import holiday_rules
from helpdesk.sla.calendar import (
    BusinessCalendar,
    add_business_time,
    always_open_calendar,
    business_time_between,
    closed_reason,
    office_hours_calendar,
    open_intervals,
    opening_hours,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
OFFICE = office_hours_calendar()
ALWAYS = always_open_calendar()


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=STOCKHOLM)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def test_midsommar_weekend_is_skipped() -> None:
    """Thursday 15–17 counts; Friday (midsommarafton), Saturday (midsommardagen) and
    Sunday do not; the remaining two hours are Monday 08–10."""
    due = add_business_time(local(2026, 6, 18, 15), hours(4), OFFICE)

    assert due == local(2026, 6, 22, 10)
    assert due.tzinfo is UTC


def test_ticket_opened_on_friday_evening_waits_for_monday() -> None:
    assert add_business_time(local(2026, 3, 13, 19, 30), hours(2), OFFICE) == local(2026, 3, 16, 10)


def test_ticket_opened_on_saturday_starts_counting_on_monday_morning() -> None:
    assert add_business_time(local(2026, 3, 14, 10), hours(1), OFFICE) == local(2026, 3, 16, 9)


def test_easter_closes_langfredagen_and_annandag_pask() -> None:
    """Skärtorsdagen 16–17, then Tuesday 7 April 08–10."""
    assert add_business_time(local(2026, 4, 2, 16), hours(3), OFFICE) == local(2026, 4, 7, 10)


def test_target_used_up_at_closing_is_closing_time_not_next_opening() -> None:
    assert add_business_time(local(2026, 3, 16, 9), hours(8), OFFICE) == local(2026, 3, 16, 17)


def test_thirty_business_days_from_a_monday_morning() -> None:
    due = add_business_time(local(2026, 1, 12, 8), 30 * hours(9), OFFICE)

    assert due == local(2026, 2, 20, 17)


def test_new_year_is_crossed_into_the_next_year() -> None:
    """Wednesday 30 Dec 16–17; nyårsafton, nyårsdagen and the weekend closed; then 4 Jan."""
    assert add_business_time(local(2026, 12, 30, 16), hours(2), OFFICE) == local(2027, 1, 4, 9)


def test_zero_duration_returns_the_start_even_when_closed() -> None:
    start = local(2026, 6, 19, 12)  # midsommarafton

    due = add_business_time(start, timedelta(0), OFFICE)

    assert due == start
    assert due.tzinfo is UTC


def test_24_hours_on_24_7_across_spring_forward_are_24_real_hours() -> None:
    """The wall clock moves 25 hours (12:00 CET to 13:00 CEST); real time moves 24."""
    due = add_business_time(local(2026, 3, 28, 12), hours(24), ALWAYS)

    assert due == datetime(2026, 3, 29, 11, tzinfo=UTC)
    assert due.astimezone(STOCKHOLM).hour == 13


def test_24_hours_on_24_7_across_fall_back_are_24_real_hours() -> None:
    due = add_business_time(local(2026, 10, 24, 12), hours(24), ALWAYS)

    assert due == datetime(2026, 10, 25, 10, tzinfo=UTC)
    assert due.astimezone(STOCKHOLM).hour == 11


def test_dst_days_on_24_7_are_23_and_25_hours_long() -> None:
    assert business_time_between(local(2026, 3, 29), local(2026, 3, 30), ALWAYS) == hours(23)
    assert business_time_between(local(2026, 10, 25), local(2026, 10, 26), ALWAYS) == hours(25)


def test_office_hours_on_a_dst_sunday_are_still_nine_hours() -> None:
    every_day = office_hours_calendar(weekdays=range(7), holiday_country=None)

    for sunday in (date(2026, 3, 29), date(2026, 10, 25)):
        start = datetime.combine(sunday, time(0), STOCKHOLM)
        assert business_time_between(start, start + timedelta(days=1), every_day) == hours(9)


def test_wall_clock_hours_inside_the_dst_gap_and_fold() -> None:
    """02:30–04:00 loses the half hour that never happens on 29 March; 02:30–05:00 gets
    02:30–03:00 twice on 25 October, as two stretches."""
    night = BusinessCalendar(
        "Natt",
        weekly_hours=dict.fromkeys(range(7), ((time(2, 30), time(4)),)),
        holiday_country=None,
    )
    assert business_time_between(local(2026, 3, 29), local(2026, 3, 30), night) == hours(1)
    fold = BusinessCalendar(
        "Natt",
        weekly_hours=dict.fromkeys(range(7), ((time(2, 30), time(5)),)),
        holiday_country=None,
    )
    day = list(open_intervals(local(2026, 10, 25), local(2026, 10, 26), fold))

    assert day == [
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), datetime(2026, 10, 25, 4, tzinfo=UTC)),
    ]


def test_lunch_gap_is_not_business_time() -> None:
    lunch = BusinessCalendar(
        "Med lunch",
        weekly_hours=dict.fromkeys(range(5), ((time(8), time(12)), (time(13), time(17)))),
    )

    assert add_business_time(local(2026, 3, 16, 11), hours(2), lunch) == local(2026, 3, 16, 14)
    assert add_business_time(local(2026, 3, 16, 8), hours(4), lunch) == local(2026, 3, 16, 12)
    assert business_time_between(local(2026, 3, 16, 8), local(2026, 3, 16, 17), lunch) == hours(8)


def test_extra_closed_day_is_skipped_and_explained() -> None:
    """Kristi himmelsfärdsdag on Thursday, then the squeeze day closed by the office."""
    calendar = office_hours_calendar(extra_closed_days={date(2026, 5, 15): "Klämdag – stängt"})

    assert add_business_time(local(2026, 5, 13, 16), hours(2), calendar) == local(2026, 5, 18, 9)
    assert closed_reason(date(2026, 5, 15), calendar) == "Klämdag – stängt"
    assert closed_reason(date(2026, 5, 14), calendar) == "Kristi himmelsfärdsdag"


def test_extra_open_saturday_counts() -> None:
    calendar = office_hours_calendar(extra_open_days={date(2026, 5, 16): ((time(10), time(14)),)})

    assert add_business_time(local(2026, 5, 15, 16), hours(2), calendar) == local(2026, 5, 16, 11)
    assert closed_reason(date(2026, 5, 16), calendar) is None


def test_extra_open_day_overrides_a_holiday() -> None:
    calendar = office_hours_calendar(extra_open_days={date(2026, 12, 24): ((time(9), time(12)),)})

    assert opening_hours(date(2026, 12, 24), calendar) == ((time(9), time(12)),)


def test_half_days_close_early_only_when_asked_to() -> None:
    """Dag före midsommarafton is a "från kl. 14.00" day in the package's bank category."""
    assert opening_hours(date(2026, 6, 18), OFFICE) == ((time(8), time(17)),)
    early = office_hours_calendar(shortened_close=time(14), extra_shortened_days=[date(2026, 3, 18)])

    assert opening_hours(date(2026, 6, 18), early) == ((time(8), time(14)),)
    assert opening_hours(date(2026, 4, 30), early) == ((time(8), time(14)),)  # Valborg
    assert opening_hours(date(2026, 3, 18), early) == ((time(8), time(14)),)
    assert opening_hours(date(2026, 3, 19), early) == ((time(8), time(17)),)
    assert add_business_time(local(2026, 6, 18, 13), hours(2), early) == local(2026, 6, 22, 9)


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2026, 6, 19), "Midsommarafton"),
        (date(2026, 12, 24), "Julafton"),
        (date(2026, 12, 31), "Nyårsafton"),
        (date(2026, 4, 3), "Långfredagen"),
        (date(2026, 4, 6), "Annandag påsk"),
        (date(2026, 6, 20), "Midsommardagen"),
        (date(2026, 3, 14), "weekend"),
        (date(2026, 3, 16), None),
    ],
)
def test_closed_reason_names_the_day(day: date, reason: str | None) -> None:
    assert closed_reason(day, OFFICE) == reason


def test_weekday_without_hours_has_a_reason() -> None:
    four_days = office_hours_calendar(weekdays=(0, 1, 3, 4))

    assert closed_reason(date(2026, 3, 18), four_days) == "no opening hours on Wednesdays"


def test_the_package_lists_the_three_eves_as_de_facto_holidays() -> None:
    """Why no rule of our own adds them: holidays 0.108 has them for SE."""
    eves = holiday_rules.holiday_names("SE", ("de_facto",), 2026)

    assert eves == {
        date(2026, 6, 19): "Midsommarafton",
        date(2026, 12, 24): "Julafton",
        date(2026, 12, 31): "Nyårsafton",
    }


def test_business_time_over_june_2026() -> None:
    """22 weekdays, less midsommarafton (Nationaldagen is a Saturday): 21 × 9 hours."""
    assert business_time_between(local(2026, 6, 1), local(2026, 7, 1), OFFICE) == hours(189)


def test_business_time_between_is_zero_when_b_is_not_after_a() -> None:
    assert business_time_between(local(2026, 3, 16, 12), local(2026, 3, 16, 9), OFFICE) == hours(0)
    assert business_time_between(local(2026, 3, 16, 12), local(2026, 3, 16, 12), OFFICE) == hours(0)


@pytest.mark.parametrize(
    ("start", "duration"),
    [
        (local(2026, 6, 18, 15), hours(4)),
        (local(2026, 4, 2, 16, 59, 59), timedelta(hours=3, microseconds=1)),
        (local(2026, 12, 23, 10), 10 * hours(9)),
        (local(2026, 3, 14, 10), hours(9)),
    ],
)
def test_business_time_between_inverts_add_business_time(start: datetime, duration: timedelta) -> None:
    due = add_business_time(start, duration, OFFICE)

    assert business_time_between(start, due, OFFICE) == duration


def test_open_intervals_of_24_7_are_one_stretch_across_new_year() -> None:
    stretches = list(open_intervals(local(2026, 12, 30), local(2027, 1, 2), ALWAYS))

    assert stretches == [(local(2026, 12, 30), local(2027, 1, 2))]


def test_open_intervals_of_an_office_week() -> None:
    stretches = list(open_intervals(local(2026, 3, 16), local(2026, 3, 23), OFFICE))

    assert [(a.astimezone(STOCKHOLM).hour, b.astimezone(STOCKHOLM).hour) for a, b in stretches] == [
        (8, 17)
    ] * 5


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 3, 16, 9)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(naive, hours(1), OFFICE)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_time_between(local(2026, 3, 16), naive, OFFICE)
    with pytest.raises(ValueError, match="timezone-aware"):
        open_intervals(naive, local(2026, 3, 17), OFFICE)


def test_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_time(local(2026, 3, 16, 9), hours(-1), OFFICE)


def test_calendar_that_never_opens_is_an_error_not_a_hang() -> None:
    never = BusinessCalendar("Aldrig", weekly_hours={}, holiday_country=None)

    with pytest.raises(ValueError, match="no open time"):
        add_business_time(local(2026, 3, 16, 9), hours(1), never)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weekly_hours": {7: ((time(8), time(17)),)}}, "weekday"),
        ({"weekly_hours": {0: ((time(17), time(8)),)}}, "crosses midnight"),
        ({"weekly_hours": {0: ((time(8), time(12)), (time(11), time(13)))}}, "overlap"),
        ({"weekly_hours": {0: ((time(8), time(0)), (time(9), time(10)))}}, "overlap"),
        ({"weekly_hours": {}, "timezone": "Europe/Atlantis"}, "time zone"),
        ({"weekly_hours": {}, "holiday_categories": ("nope",)}, "holidays"),
        ({"weekly_hours": {}, "extra_open_days": {date(2026, 5, 16): ()}}, "without hours"),
        (
            {
                "weekly_hours": {},
                "extra_open_days": {date(2026, 5, 16): ((time(10), time(14)),)},
                "extra_closed_days": {date(2026, 5, 16): "Stängt"},
            },
            "both",
        ),
        ({"weekly_hours": {}, "extra_closed_days": {datetime(2026, 5, 16): "x"}}, "a date"),
        ({"weekly_hours": {}, "shortened_close": time(0)}, "shortened_close"),
    ],
)
def test_bad_calendars_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar("Fel", **kwargs)


def test_calendars_built_from_dicts_are_hashable_and_equal_by_value() -> None:
    one = BusinessCalendar("K", weekly_hours={0: ((time(13), time(17)), (time(8), time(12)))})
    two = BusinessCalendar("K", weekly_hours={0: ((time(8), time(12)), (time(13), time(17))), 1: ()})

    assert one == two
    assert hash(one) == hash(two)
    assert one.weekly_hours[0] == ((time(8), time(12)), (time(13), time(17)))
    assert office_hours_calendar() == OFFICE
