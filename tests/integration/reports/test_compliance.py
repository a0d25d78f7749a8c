"""The compliance report against the hand-worked October in ``october.py``, on both databases."""

from __future__ import annotations

import pytest

from helpdesk.reports.compliance import Dimension, Filters, compliance, tickets_behind
from helpdesk.reports.period import month
from helpdesk.sla.models import Metric
from tests.integration.reports.october import HOUR, build_march_olas, build_october
from tests.support import fast_password_hashing

OCTOBER = month(2026, 10)


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture
def october(sla_org, factory, settings):
    return build_october(sla_org, factory, settings)


def figures(rows):
    return {(r.label, r.metric): (r.count, r.breached, r.median_us / HOUR, r.p90_us / HOUR)
            for r in rows}


def test_compliance_per_service_counts_what_stopped_in_the_local_month(october, sla_org):
    rows = compliance(Dimension.SERVICE, Filters(OCTOBER))
    name = sla_org.org.service.name_en
    assert figures(rows) == {
        (name, Metric.FIRST_RESPONSE): (5, 1, 2.0, 9.0),
        (name, Metric.RESOLUTION): (5, 1, 3.0, 26.0),
    }
    assert [r.met_percent for r in rows] == [80.0, 80.0]


def test_the_same_figures_per_priority_tier_and_group(october, sla_org):
    expected = {Metric.FIRST_RESPONSE: (5, 1, 2.0, 9.0), Metric.RESOLUTION: (5, 1, 3.0, 26.0)}
    assert figures(compliance(Dimension.PRIORITY, Filters(OCTOBER))) == {
        ("P3", m): v for m, v in expected.items()}
    assert figures(compliance(Dimension.TIER, Filters(OCTOBER))) == {
        ("1", m): v for m, v in expected.items()}
    local = sla_org.org.local
    assert figures(compliance(Dimension.GROUP, Filters(OCTOBER, group_id=local.id))) == {
        (local.name_en, m): v for m, v in expected.items()}
    assert compliance(Dimension.GROUP, Filters(OCTOBER, tier=2)) == []


def test_percentiles_are_nearest_ranks_on_a_larger_month(sla_org, factory, settings):
    from datetime import timedelta

    from helpdesk.tickets.operations import resolve_ticket, take_ticket
    from tests.integration.reports.october import local

    org = sla_org.org
    # Seventy tickets solved in 1, 2, … 70 minutes: the median is rank 35 (35 · 100 ≥ 70 · 50)
    # and the 90th percentile rank 63, on both databases' ways of ranking.
    for minutes in range(1, 71):
        ticket = factory.ticket(org.requester, org.service, local(10, 7, 9))
        take_ticket(ticket, actor=org.local_agent, now=local(10, 7, 9), settings=settings)
        resolve_ticket(ticket, actor=org.local_agent, note="Löst.",
                       now=local(10, 7, 9) + timedelta(minutes=minutes), settings=settings)
    [row] = [r for r in compliance(Dimension.SERVICE, Filters(OCTOBER)) if r.metric == Metric.RESOLUTION]
    assert (row.count, row.median_us, row.p90_us) == (70, 35 * HOUR // 60, 63 * HOUR // 60)


def test_september_and_november_hold_the_boundary_tickets(october, sla_org):
    september = figures(compliance(Dimension.PRIORITY, Filters(month(2026, 9))))
    november = figures(compliance(Dimension.PRIORITY, Filters(month(2026, 11))))
    assert september == {("P3", Metric.FIRST_RESPONSE): (1, 0, 0.5, 0.5)}
    # Solved at 00:30 on 1 November in Stockholm, 23:30 on 31 October in UTC.
    assert november == {("P3", Metric.RESOLUTION): (1, 0, 1.0, 1.0)}


def test_every_figure_lists_the_tickets_behind_it(october, sla_org):
    service = sla_org.org.service.id
    breached = tickets_behind(Dimension.SERVICE, Filters(OCTOBER), key=service,
                              metric=Metric.RESOLUTION, outcome="breached")
    assert [t.reference for t in breached] == [october.reopened.reference]
    assert breached[0].elapsed_us == 26 * HOUR
    met = tickets_behind(Dimension.SERVICE, Filters(OCTOBER), key=service,
                         metric=Metric.FIRST_RESPONSE, outcome="met")
    assert {t.reference for t in met} == {october.paused.reference, october.reopened.reference,
                                          october.into_november.reference, october.dst.reference}
    everything = tickets_behind(Dimension.PRIORITY, Filters(OCTOBER), key=3, metric=None,
                                outcome="all")
    assert len(everything) == 10


def test_vendors_are_measured_on_their_underpinning_contracts(vendor_org, settings):
    from helpdesk.vendors.operations import hand_off_to_vendor, record_vendor_reply, vendor_solved
    from tests.integration.reports.october import local

    org = vendor_org.org
    # Tuesday 10 March 10:00 (the fixture's now): handed to Acme; answer 10:30; solved
    # Wednesday 10:00, 7 + 2 = 9 business hours later.
    handoff = hand_off_to_vendor(vendor_org.ticket, vendor=vendor_org.acme, actor=org.level2_agent,
                                 message="Kan ni titta?", now=local(3, 10, 10), settings=settings)
    record_vendor_reply(handoff, body="Vi tittar.", now=local(3, 10, 10, 30), settings=settings)
    vendor_solved(handoff, actor=org.level2_agent, note="Omstartad.", now=local(3, 11, 10),
                  settings=settings)
    rows = compliance(Dimension.VENDOR, Filters(month(2026, 3)))
    assert figures(rows) == {("Acme AB", Metric.UC_RESPONSE): (1, 0, 0.5, 0.5),
                             ("Acme AB", Metric.UC_RESOLUTION): (1, 0, 9.0, 9.0)}


def test_groups_and_tiers_are_also_measured_on_their_olas(sla_org, factory, settings):
    _quick, slow = build_march_olas(sla_org, factory, settings)
    level2 = sla_org.org.level2

    march = Filters(month(2026, 3))
    ola = {Metric.OLA_TAKE: (2, 1, 40 / 60, 2.0), Metric.OLA_HANDLE: (1, 0, 140 / 60, 140 / 60)}
    by_group = compliance(Dimension.GROUP, march)
    assert {k: v for k, v in figures(by_group).items() if k[1] in ola} == {
        (level2.name_en, m): v for m, v in ola.items()}
    by_tier = figures(compliance(Dimension.TIER, march))
    assert {k: v for k, v in by_tier.items() if k[1] in ola} == {("2", m): v for m, v in ola.items()}
    # A group's rows: the customer's promises first, then its own.
    assert [r.metric for r in by_group if r.label == level2.name_en] == [
        Metric.FIRST_RESPONSE, Metric.OLA_TAKE, Metric.OLA_HANDLE]
    # A service is measured on the customer's promises alone.
    assert {r.metric for r in compliance(Dimension.SERVICE, march)} <= {
        Metric.FIRST_RESPONSE, Metric.RESOLUTION}
    late = tickets_behind(Dimension.GROUP, march, key=level2.id, metric=Metric.OLA_TAKE,
                          outcome="breached")
    assert [t.reference for t in late] == [slow.reference]
