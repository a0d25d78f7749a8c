"""Where the time went, on both databases: a ticket through level 1, level 2, the customer
and a vendor, worked out by hand; the hand-worked October (``october.py``) with its paused,
reopened, boundary and DST tickets; filters; and the ledger rebuilt from the history."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from helpdesk.extensions import db
from helpdesk.reports.compliance import Dimension, Filters
from helpdesk.reports.models import TicketTimeSpent
from helpdesk.reports.period import month
from helpdesk.reports.time_ledger import rebuild
from helpdesk.reports.time_report import tickets_behind, where_time_went
from helpdesk.tickets.operations import (
    ask_requester,
    reopen_ticket,
    requester_reply,
    resolve_ticket,
    take_ticket,
)
from helpdesk.tiers.operations import escalate_ticket
from helpdesk.vendors.operations import hand_off_to_vendor, vendor_solved
from helpdesk.workflows.definitions import REQUESTER
from tests.integration.reports.october import HOUR, build_october, local
from tests.support import fast_password_hashing

OCTOBER = month(2026, 10)


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


def hours(row_or_ticket):
    return {column: spent / HOUR for column, spent in row_or_ticket.spent_us.items()}


@pytest.fixture
def story(sla_org, factory, settings):
    """Mon 19 Oct 09:00 to Tue 20 Oct 15:00 (office hours 08–17): level 1 has it 2 h,
    level 2 asks the customer (13:00 until Tuesday 09:00: 5 h), a vendor has it 10:00–14:00
    (4 h), level 2 works 2 + 1 + 1 = 4 h. In all 15 h, the resolution clock's time too."""
    org = sla_org.org
    vendor = factory.vendor("acme", sla_org.calendar, response=60, resolution=600)
    factory.vendor_route(org.service, vendor, 2)
    ticket = factory.ticket(org.requester, org.service, local(10, 19, 9))
    take_ticket(ticket, actor=org.local_agent, now=local(10, 19, 9), settings=settings)
    escalate_ticket(ticket, to_group=org.level2, actor=org.local_agent, reason="Servern",
                    now=local(10, 19, 11), settings=settings)
    take_ticket(ticket, actor=org.level2_agent, now=local(10, 19, 11), settings=settings)
    ask_requester(ticket, actor=org.level2_agent, question="Vilken server?", now=local(10, 19, 13),
                  settings=settings)
    requester_reply(ticket, actor=org.requester, body="Den nya.", now=local(10, 20, 9),
                    settings=settings)
    handoff = hand_off_to_vendor(ticket, vendor=vendor, actor=org.level2_agent, message="Hjälp",
                                 now=local(10, 20, 10), settings=settings)
    vendor_solved(handoff, actor=org.level2_agent, note="Bytt disk", now=local(10, 20, 14),
                  settings=settings)
    resolve_ticket(ticket, actor=org.level2_agent, note="Löst.", now=local(10, 20, 15),
                   settings=settings)
    return ticket


def test_a_ticket_through_level_1_level_2_the_customer_and_a_vendor(story, sla_org):
    org = sla_org.org
    [row] = where_time_went(Dimension.SERVICE, Filters(OCTOBER))
    assert (row.label, row.tickets) == (org.service.name_en, 1)
    assert hours(row) == {"level_1": 2.0, "level_2": 4.0, "customer": 5.0, "vendor": 4.0}
    assert row.total_us == 15 * HOUR
    resolution = next(c for c in story.clocks if c.metric == "resolution")
    # The customer's clock paused while the customer was asked: it counts the rest.
    assert resolution.elapsed_us == row.total_us - row.spent_us["customer"]

    by_group = {r.label: hours(r) for r in where_time_went(Dimension.GROUP, Filters(OCTOBER))}
    assert by_group == {org.local.name_en: {"level_1": 2.0},
                        org.level2.name_en: {"level_2": 4.0, "customer": 5.0, "vendor": 4.0}}


def test_filters_keep_the_time_of_a_tier_or_a_group(story, sla_org):
    org = sla_org.org
    [row] = where_time_went(Dimension.SERVICE, Filters(OCTOBER, tier=2))
    assert hours(row) == {"level_2": 4.0, "customer": 5.0, "vendor": 4.0}
    [row] = where_time_went(Dimension.SERVICE, Filters(OCTOBER, group_id=org.local.id))
    assert hours(row) == {"level_1": 2.0}
    assert where_time_went(Dimension.SERVICE, Filters(OCTOBER, service_id=sla_org.no_sla_service.id)) == []
    assert where_time_went(Dimension.SERVICE, Filters(month(2026, 11))) == []


def test_the_tickets_behind_a_row(story, sla_org):
    [found] = tickets_behind(Dimension.GROUP, Filters(OCTOBER), key=sla_org.org.level2.id)
    assert (found.reference, hours(found)) == (story.reference, {"level_2": 4.0, "customer": 5.0,
                                                                 "vendor": 4.0})
    assert tickets_behind(Dimension.GROUP, Filters(OCTOBER), key=sla_org.org.desk.id) == []


def test_october_by_hand_paused_reopened_the_boundaries_and_dst(sla_org, factory, settings):
    tickets = build_october(sla_org, factory, settings)
    [row] = where_time_went(Dimension.SERVICE, Filters(OCTOBER))
    # Resolved in October: paused (1 + 2 h, and 9 h with the customer), late (10 h), reopened
    # (2 + 24 h: the resolved days between are nobody's), from_september (1 + 2 h, all in
    # October's report), dst (1 + 2 h across the change). into_november was resolved at
    # 00:30 on 1 November, local time: November's.
    assert row.tickets == 5
    assert hours(row) == {"level_1": 3 + 10 + 26 + 3 + 3, "customer": 9.0}
    [november] = where_time_went(Dimension.SERVICE, Filters(month(2026, 11)))
    assert (november.tickets, hours(november)) == (1, {"level_1": 1.0})
    behind = {t.reference: hours(t) for t in tickets_behind(Dimension.SERVICE, Filters(OCTOBER),
                                                             key=None)}
    assert behind[tickets.reopened.reference] == {"level_1": 26.0}
    assert behind[tickets.dst.reference] == {"level_1": 3.0}
    assert tickets.into_november.reference not in behind


def test_a_reopening_takes_the_ticket_out_until_it_is_resolved_again(story, sla_org, settings):
    org = sla_org.org
    reopen_ticket(story, actor=org.requester, actor_kind=REQUESTER, message="Igen.",
                  now=local(10, 21, 8), settings=settings)
    assert where_time_went(Dimension.SERVICE, Filters(OCTOBER)) == []
    take_ticket(story, actor=org.local_agent, now=local(10, 21, 9), settings=settings)
    resolve_ticket(story, actor=org.local_agent, note="Nu.", now=local(10, 21, 10), settings=settings)
    [row] = where_time_went(Dimension.SERVICE, Filters(OCTOBER))
    # Back with the local helpdesk (it keeps the customer) for 2 h; the resolved night is nobody's.
    assert hours(row) == {"level_1": 4.0, "level_2": 4.0, "customer": 5.0, "vendor": 4.0}


def test_the_ledger_rebuilt_from_the_history_is_the_one_written_live(story, sla_org, factory,
                                                                     settings):
    build_october(sla_org, factory, settings)

    def ledger():
        return sorted(db.session.execute(select(
            TicketTimeSpent.ticket_id, TicketTimeSpent.group_id, TicketTimeSpent.tier,
            TicketTimeSpent.holder, TicketTimeSpent.business_us,
            TicketTimeSpent.resolved_at)).all())

    live = ledger()
    assert len(live) == 11  # story: 4 rows; October: 6 resolved tickets, one with two holders
    assert rebuild() == 7
    assert ledger() == live


def test_the_rebuild_command_writes_what_a_resolution_wrote(app, story):
    from helpdesk.cli import main as helpdesk_cli

    db.session.execute(delete(TicketTimeSpent))
    assert where_time_went(Dimension.SERVICE, Filters(OCTOBER)) == []
    result = app.test_cli_runner().invoke(helpdesk_cli, ["reports", "rebuild-time-spent"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Wrote where the time went for 1 resolved tickets."
    [row] = where_time_went(Dimension.SERVICE, Filters(OCTOBER))
    assert row.total_us == 15 * HOUR


def test_a_resolution_inside_a_bulk_block_sees_the_blocks_own_history(sla_org, factory, settings):
    from helpdesk.core.bulk import inserted_together

    org = sla_org.org
    ticket = factory.ticket(org.requester, org.service, local(10, 19, 9))
    with inserted_together():  # as a group of mails or the SLA sweep writes
        escalate_ticket(ticket, to_group=org.level2, actor=org.local_agent, reason="Servern",
                        now=local(10, 19, 10), settings=settings)
        take_ticket(ticket, actor=org.level2_agent, now=local(10, 19, 10), settings=settings)
        resolve_ticket(ticket, actor=org.level2_agent, note="Löst.", now=local(10, 19, 13),
                       settings=settings)
    [row] = where_time_went(Dimension.SERVICE, Filters(OCTOBER))
    assert hours(row) == {"level_1": 1.0, "level_2": 3.0}
