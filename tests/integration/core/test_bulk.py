"""Rows written together: queued inside the block, inserted once at its end, in order."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from helpdesk.core.bulk import inserted_together
from helpdesk.core.outbox import OutboxMessage, queue_message
from helpdesk.extensions import db
from helpdesk.tickets.history import record
from helpdesk.tickets.models import TicketEvent


@pytest.fixture
def ticket(org, factory, now):
    return factory.ticket(org.requester, org.service, now)


def kinds(ticket) -> list[str]:
    return list(db.session.scalars(select(TicketEvent.kind).where(
        TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)))


def test_history_recorded_inside_is_written_at_the_end_in_order(ticket, org, now):
    before = kinds(ticket)
    with inserted_together():
        record(ticket, "note_one", actor=org.local_agent, now=now, reason="first")
        record(ticket, "note_two", actor=None, now=now)
        queue_message(kind="test", recipient_email="a@example.org", subject="s", body="b",
                      now=now, ticket_id=ticket.id)
        assert kinds(ticket) == before  # nothing is written before the block ends
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert kinds(ticket) == [*before, "note_one", "note_two"]
    written = db.session.scalars(select(TicketEvent).where(
        TicketEvent.kind == "note_one")).one()
    assert (written.actor, written.reason, written.at) == (org.local_agent, "first", now)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_a_block_inside_another_leaves_the_writing_to_the_outer_one(ticket, now):
    before = kinds(ticket)
    with inserted_together():
        with inserted_together():
            record(ticket, "inner", actor=None, now=now)
        assert kinds(ticket) == before
        record(ticket, "outer", actor=None, now=now)
    assert kinds(ticket) == [*before, "inner", "outer"]


def test_a_block_that_fails_writes_nothing_and_later_history_goes_in_as_usual(ticket, now):
    before = kinds(ticket)
    with pytest.raises(RuntimeError), inserted_together():
        record(ticket, "lost", actor=None, now=now)
        raise RuntimeError("the sweep failed half-way")
    record(ticket, "after", actor=None, now=now)
    db.session.flush()
    assert kinds(ticket) == [*before, "after"]


def test_a_new_ticket_inside_a_block_is_written_by_one_flush_with_its_history_and_clocks(
        sla_org, now, settings):
    from sqlalchemy import event

    from helpdesk.sla.models import SlaClock
    from helpdesk.tickets.operations import create_ticket

    org = sla_org.org
    flushes = []

    def counted(session, context, instances):
        flushes.append(1)

    event.listen(db.session(), "before_flush", counted)
    try:
        # As the mail ingest works: without autoflush, so the first ticket waits for the block.
        with db.session.no_autoflush, inserted_together():
            first = create_ticket(requester=org.requester, service=org.service, subject="Ett",
                                  description="-", impact=3, urgency=2, now=now, settings=settings)
            second = create_ticket(requester=org.requester, service=org.service, subject="Två",
                                   description="-", impact=3, urgency=2, now=now, settings=settings)
            assert (first.id, second.id) == (None, None)  # promised, not yet written
        assert len(flushes) == 1
    finally:
        event.remove(db.session(), "before_flush", counted)
    for ticket in (first, second):
        assert kinds(ticket)[:2] == ["created", "routed"]
        clock_ids = {c.id for c in db.session.scalars(select(SlaClock).where(
            SlaClock.ticket_id == ticket.id))}
        started = db.session.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "sla_clock_started")).all()
        # Each clock's history names that clock by the id it got when the block ended.
        assert clock_ids and {e.details["clock_id"] for e in started} == clock_ids
