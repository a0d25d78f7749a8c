"""The monthly service-level report on the hand-worked October, its credits and decisions."""

from __future__ import annotations

import pytest

from helpdesk.core.errors import DomainError
from helpdesk.reports.models import Decision
from helpdesk.reports.period import month
from helpdesk.reports.service_level import build, decide, report
from tests.integration.reports.october import build_october, local
from tests.support import fast_password_hashing

OCTOBER = month(2026, 10)
AFTER = local(11, 10, 9)
CREDITS = {
    "first_response": {"target_percent": 85, "credit_percent_per_point": 0.5, "max_credit_percent": 10},
    "resolution": {"target_percent": 95, "credit_percent_per_point": 2, "max_credit_percent": 10},
}


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture
def october(sla_org, factory, settings):
    sla_org.policy.service_credits = CREDITS
    return build_october(sla_org, factory, settings)


def test_targets_results_breaches_and_credits(october, sla_org):
    result = build(sla_org.org.service, OCTOBER, now=AFTER)
    assert result["month"] == "2026-10"
    assert result["targets"]["3"] == {"first_response": 240, "resolution": 1440}
    first, resolution = result["results"]
    assert (first["metric"], first["count"], first["met"], first["met_percent"]) == (
        "first_response", 5, 4, 80.0)
    # 85 − 80 = 5 points × 0.5 %; 95 − 80 = 15 points × 2 % = 30 %, capped at 10 %.
    assert (first["points_under"], first["credit_percent"]) == (5, "2.5")
    assert (resolution["points_under"], resolution["credit_percent"]) == (15, "10")
    assert result["total_credit_percent"] == "12.5"
    assert (resolution["median_hours"], resolution["p90_hours"]) == (3.0, 26.0)
    assert sorted((b["reference"], b["metric"], b["hours"]) for b in result["breaches"]) == sorted([
        (october.late.reference, "first_response", 9.0),
        (october.reopened.reference, "resolution", 26.0),
    ])


def test_an_approved_report_is_kept_as_approved(october, sla_org, org):
    service = sla_org.org.service
    decide(service, OCTOBER, decision=Decision.APPROVED, comment="", actor=org.admin, now=AFTER)
    sla_org.policy.service_credits = {}  # the contract changes afterwards
    assert build(service, OCTOBER, now=AFTER)["total_credit_percent"] == "0"
    kept = report(service, OCTOBER, now=AFTER)
    assert kept["total_credit_percent"] == "12.5"
    with pytest.raises(DomainError, match="approved"):
        decide(service, OCTOBER, decision=Decision.REJECTED, comment="Fel.", actor=org.admin,
               now=AFTER)


def test_a_rejection_needs_a_reason_and_may_be_decided_again(october, sla_org, org):
    service = sla_org.org.service
    with pytest.raises(DomainError, match="why"):
        decide(service, OCTOBER, decision=Decision.REJECTED, comment=" ", actor=org.admin, now=AFTER)
    row = decide(service, OCTOBER, decision=Decision.REJECTED, comment="Ärendet räknas fel.",
                 actor=org.admin, now=AFTER)
    assert (row.decision, row.comment) == (Decision.REJECTED, "Ärendet räknas fel.")
    sla_org.policy.service_credits = {}
    # A rejected month is computed afresh, and can then be approved.
    assert report(service, OCTOBER, now=AFTER)["total_credit_percent"] == "0"
    row = decide(service, OCTOBER, decision=Decision.APPROVED, comment="Rättat.", actor=org.admin,
                 now=AFTER)
    assert (row.decision, row.snapshot["total_credit_percent"]) == (Decision.APPROVED, "0")


def test_a_month_is_decided_only_when_it_is_over(october, sla_org, org):
    with pytest.raises(DomainError, match="not over"):
        decide(sla_org.org.service, OCTOBER, decision=Decision.APPROVED, comment="",
               actor=org.admin, now=local(10, 31, 23, 59))
