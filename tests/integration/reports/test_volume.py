"""Volume and trends on the hand-worked October (``october.py``) and a small escalation story."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from helpdesk.reports.period import Period, month
from helpdesk.reports.volume import periods, volume
from helpdesk.tiers.operations import escalate_ticket
from tests.integration.reports.october import build_october, local
from tests.support import fast_password_hashing


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


def test_weeks_are_monday_to_sunday_cut_at_the_period():
    weeks = periods(month(2026, 10), "week")
    assert [(w.first_day.day, w.last_day.day) for w in weeks] == [
        (1, 4), (5, 11), (12, 18), (19, 25), (26, 31)]


def test_created_resolved_and_open_per_month_and_the_reopen_rate(sla_org, factory, settings):
    build_october(sla_org, factory, settings)
    autumn = Period(date(2026, 9, 1), date(2026, 11, 30))
    report = volume(autumn, unit="month", now=local(11, 30, 12))
    # September: from_september came in and was still open at the month's end. October:
    # five came in; six resolutions (the reopened ticket twice, from_september on the 1st);
    # into_november still open at midnight. November: its resolution at 00:30 on the 1st.
    assert [(b.label, b.created, b.resolved, b.open_at_end) for b in report.buckets] == [
        ("2026-09", 1, 0, 1), ("2026-10", 5, 6, 1), ("2026-11", 0, 1, 0)]
    assert (report.resolved, report.reopened, report.reopen_percent) == (7, 1, 14.3)
    assert [(t.tier, t.arrived, t.escalated) for t in report.tiers] == [(1, 7, 0)]
    assert [n for _, n in report.backlog_by_age] == [0, 0, 0, 0]


def test_escalations_per_tier_and_their_commonest_reasons(org, factory, settings, now):
    first, second = (factory.ticket(org.requester, org.service, now) for _ in range(2))
    for ticket in (first, second):
        escalate_ticket(ticket, to_group=org.level2, actor=org.local_agent, reason="Gäller servern",
                        now=now, settings=settings)
    escalate_ticket(first, to_group=org.level3, actor=org.level2_agent, reason="Behöver expert",
                    now=now, settings=settings)
    report = volume(month(2026, 3), unit="week", now=now + timedelta(days=2))
    assert [(t.tier, t.arrived, t.escalated, t.percent) for t in report.tiers] == [
        (1, 2, 2, 100.0), (2, 2, 1, 50.0), (3, 1, 0, 0.0)]
    assert report.reasons == [("Gäller servern", 2), ("Behöver expert", 1)]
    assert dict(report.backlog_by_age)["1–7 days"] == 2
    # March 2026 starts on a Sunday: weeks 1, 2–8, 9–15 (Tuesday the 10th), 16–22, 23–29, 30–31.
    assert [b.created for b in report.buckets] == [0, 0, 2, 0, 0, 0]
    assert volume(month(2026, 3), service_id=org.service.id + 1000, now=now).tiers == []
