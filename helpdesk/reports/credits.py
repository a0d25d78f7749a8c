"""Service credits: what the supplier owes when a month falls short of a target.

Pure. A rule on an SLA policy, per metric::

    service_credits:
      resolution: {target_percent: 95, credit_percent_per_point: 2, max_credit_percent: 10}

For each *whole* percentage point of met clocks under the target, the credit grows by
``credit_percent_per_point`` (percent of the month's service fee), up to the cap. A month
with no clocks of the metric earns no credit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class CreditRule:
    target_percent: Decimal
    credit_percent_per_point: Decimal
    max_credit_percent: Decimal

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> CreditRule:
        return cls(Decimal(str(data["target_percent"])),
                   Decimal(str(data["credit_percent_per_point"])),
                   Decimal(str(data["max_credit_percent"])))


def points_under(rule: CreditRule, met: int, count: int) -> int:
    """Whole percentage points the month's met share is under the target (0 if none)."""
    if count == 0:
        return 0
    shortfall = Fraction(rule.target_percent) - Fraction(100 * met, count)
    return max(0, math.floor(shortfall))


def credit_percent(rule: CreditRule, met: int, count: int) -> Decimal:
    return min(rule.max_credit_percent, points_under(rule, met, count) * rule.credit_percent_per_point)
