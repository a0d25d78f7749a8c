"""Service credits and report periods: pure arithmetic, worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from helpdesk.reports.credits import CreditRule, credit_percent, points_under
from helpdesk.reports.period import Period, local_today, month, parse_month, previous_month

RULE = CreditRule.from_data({"target_percent": 95, "credit_percent_per_point": 2,
                             "max_credit_percent": 10})


@pytest.mark.parametrize(("met", "count", "points", "credit"), [
    (200, 200, 0, "0"),  # all met
    (190, 200, 0, "0"),  # exactly on target: 95 %
    (189, 200, 0, "0"),  # 94.5 %: half a point under is not a whole point
    (181, 200, 4, "8"),  # 90.5 %: 4.5 points under, 4 whole points
    (4, 5, 15, "10"),  # 80 %: 15 points, 30 % capped at 10 %
    (0, 0, 0, "0"),  # no clocks: no credit
])
def test_a_credit_for_each_whole_point_under_target_up_to_the_cap(met, count, points, credit):
    assert points_under(RULE, met, count) == points
    assert credit_percent(RULE, met, count) == Decimal(credit)


def test_half_percent_credits_stay_exact():
    rule = CreditRule.from_data({"target_percent": 85, "credit_percent_per_point": 0.5,
                                 "max_credit_percent": 10})
    assert credit_percent(rule, 4, 5) == Decimal("2.5")


def test_october_2026_runs_from_local_midnight_to_local_midnight_across_the_dst_change():
    october = month(2026, 10)
    assert october.starts_at == datetime(2026, 9, 30, 22, tzinfo=UTC)  # CEST, UTC+2
    assert october.ends_at == datetime(2026, 10, 31, 23, tzinfo=UTC)  # CET, UTC+1
    assert (october.ends_at - october.starts_at).total_seconds() == 745 * 3600
    assert october.month_key == "2026-10"
    assert Period(date(2026, 10, 1), date(2026, 10, 30)).month_key is None


def test_months_are_read_and_found():
    assert parse_month("2026-12") == Period(date(2026, 12, 1), date(2026, 12, 31))
    for bad in ("2026-13", "2026-1x", "26-10", ""):
        with pytest.raises(ValueError):
            parse_month(bad)
    assert previous_month(date(2026, 1, 15)) == month(2025, 12)
    # 23:30 UTC on 31 October is already 1 November in Stockholm.
    assert local_today(datetime(2026, 10, 31, 23, 30, tzinfo=UTC)) == date(2026, 11, 1)
    with pytest.raises(ValueError):
        Period(date(2026, 10, 2), date(2026, 10, 1))
