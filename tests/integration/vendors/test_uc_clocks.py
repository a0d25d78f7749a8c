"""A vendor's UC clock is warned of and breached by the SLA sweep like any other clock."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from helpdesk.core.outbox import OutboxMessage
from helpdesk.extensions import db
from helpdesk.sla.models import AlertKind, Metric, SlaAlert
from helpdesk.sla.sweep import sweep
from helpdesk.vendors.operations import hand_off_to_vendor, record_vendor_reply


def alerts() -> list[tuple[str, str]]:
    return [(a.clock.metric.value, a.kind.value)
            for a in db.session.scalars(select(SlaAlert).order_by(SlaAlert.id))]


def test_a_vendor_that_does_not_answer_breaches_its_uc_and_the_group_hears_of_it(
        vendor_org, now, settings):
    v = vendor_org
    handoff = hand_off_to_vendor(v.ticket, vendor=v.acme, actor=v.org.level2_agent,
                                 message="Relay?", now=now, settings=settings)
    sweep(now=now + timedelta(minutes=46), settings=settings, worker="test")
    assert alerts() == [("uc_response", "warning")]
    result = sweep(now=now + timedelta(minutes=61), settings=settings, worker="test")
    assert alerts() == [("uc_response", "warning"), ("uc_response", "breach")]
    clock = next(c for c in v.ticket.clocks if c.metric == Metric.UC_RESPONSE)
    assert result.breaches == [clock.id] and clock.state == "breached"
    assert clock.handoff == handoff and clock.group == v.org.level2
    mails = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "sla_breach")).all()
    assert [m.recipient_email for m in mails] == [v.org.level2_agent.email]
    assert "Vendor's first answer (UC)" in mails[0].subject
    breach = [e for e in v.ticket.events if e.kind == "sla_breach"]
    assert breach and breach[-1].details["metric"] == "uc_response"
    # Sweeping again changes nothing: each alert happens once.
    sweep(now=now + timedelta(minutes=90), settings=settings, worker="test")
    assert len(alerts()) == 2


def test_an_answer_in_time_stops_the_response_clock_and_the_sweep_leaves_it(
        vendor_org, now, settings):
    v = vendor_org
    handoff = hand_off_to_vendor(v.ticket, vendor=v.acme, actor=v.org.level2_agent,
                                 message="Relay?", now=now, settings=settings)
    record_vendor_reply(handoff, body="On it.", now=now + timedelta(minutes=30),
                        settings=settings, sender="support@acme.example")
    sweep(now=now + timedelta(hours=3), settings=settings, worker="test")
    assert (Metric.UC_RESPONSE.value, AlertKind.BREACH.value) not in alerts()
    resolution = next(c for c in v.ticket.clocks if c.metric == Metric.UC_RESOLUTION)
    assert resolution.state == "running"
