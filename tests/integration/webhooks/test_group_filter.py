"""Subscriptions limited to some support groups, against real receivers: another
organisation's service desk gets the tickets of its own group, and no other ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpdesk.core.errors import InvalidInput
from helpdesk.tickets.operations import take_ticket
from helpdesk.tiers.operations import escalate_ticket, return_to_level_1
from helpdesk.webhooks.sender import send_due
from helpdesk.webhooks.subscriptions import add_subscription, edit_subscription
from tests.conftest import NOW
from tests.integration.webhooks.support import Receiver, running_receiver

EVENTS = ["ticket.created", "ticket.transitioned", "ticket.escalated"]


def got(receiver: Receiver) -> list[tuple[str, str, str]]:
    """(event, history kind, ticket reference) of each post, in the order they came."""
    return [(sent["event"], sent["kind"], sent["ticket"]["reference"])
            for sent in map(receiver.json, range(len(receiver.received)))]


def test_each_subscription_gets_the_tickets_of_its_groups_and_one_without_groups_every_ticket(
        factory, org, settings, receiver):
    later = NOW + timedelta(minutes=5)
    with running_receiver() as local_desk, running_receiver() as everything:
        add_subscription(name="Partner", url=receiver.url, events=EVENTS, groups=["level3"],
                         now=NOW)
        add_subscription(name="Lokal", url=local_desk.url, events=EVENTS, groups=["local"],
                         now=NOW)
        add_subscription(name="Allt", url=everything.url, events=EVENTS, now=NOW)
        elsewhere = factory.ticket(org.requester, org.service)  # routed to local
        escalate_ticket(elsewhere, to_group=org.level2, actor=org.local_agent,
                        reason="Servern", now=NOW, settings=settings)
        take_ticket(elsewhere, actor=org.level2_agent, now=NOW, settings=settings)
        theirs = factory.ticket(org.requester, org.service)
        escalate_ticket(theirs, to_group=org.level3, actor=org.local_agent,
                        reason="Leverantörens system", now=NOW, settings=settings)
        take_ticket(theirs, actor=org.level3_agent, now=NOW, settings=settings)
        return_to_level_1(theirs, actor=org.level3_agent, reason="Inte vårt", now=later,
                          settings=settings)

        assert send_due(now=later).delivered == 3 + 5 + 7

        mine, other = theirs.reference, elsewhere.reference
        # Escalated to their group, worked there and given back; not created elsewhere,
        # and not escalated to another group.
        assert got(receiver) == [("ticket.escalated", "escalated", mine),
                                 ("ticket.transitioned", "taken", mine),
                                 ("ticket.transitioned", "returned_to_level_1", mine)]
        # Created in its group, told when each ticket left it, and back by the return.
        assert got(local_desk) == [("ticket.created", "created", other),
                                   ("ticket.escalated", "escalated", other),
                                   ("ticket.created", "created", mine),
                                   ("ticket.escalated", "escalated", mine),
                                   ("ticket.transitioned", "returned_to_level_1", mine)]
        assert len(got(everything)) == 7  # as before there were groups to choose
    assert receiver.json(0)["details"]["to_group"] == "level3"
    assert receiver.json(2)["details"]["from_group"] == "level3"


def test_the_group_an_escalation_takes_a_ticket_from_is_told_where_it_went(
        factory, org, settings, receiver):
    add_subscription(name="Partner", url=receiver.url, events=["ticket.escalated"],
                     groups=["level2"], now=NOW)
    ticket = factory.ticket(org.requester, org.service)
    for group in (org.level2, org.level3):
        escalate_ticket(ticket, to_group=group, actor=org.local_agent, reason="Vidare",
                        now=NOW, settings=settings)

    assert send_due(now=NOW).delivered == 2
    assert [(sent["details"]["from_group"], sent["details"]["to_group"])
            for sent in map(receiver.json, range(2))] == [("local", "level2"),
                                                        ("level2", "level3")]


def test_a_subscription_no_longer_limited_gets_every_ticket_again(factory, org, receiver):
    subscription = add_subscription(name="Partner", url=receiver.url, events=["ticket.created"],
                                    groups=["level3"], now=NOW)
    factory.ticket(org.requester, org.service)
    edit_subscription(subscription, name="Partner", url=receiver.url,
                      events=["ticket.created"], groups=[])
    later = factory.ticket(org.requester, org.service)

    assert send_due(now=NOW).delivered == 1
    assert got(receiver) == [("ticket.created", "created", later.reference)]


def test_a_group_that_does_not_exist_is_refused_naming_the_field(org):
    with pytest.raises(InvalidInput) as refused:
        add_subscription(name="Partner", url="https://partner.example/", events=EVENTS,
                         groups=["level3", "Level3"], now=NOW)
    assert refused.value.errors == {"groups": ["Choose groups from the list."]}
