"""The one gate into the catalogue, and a service's life after it (both backends)."""

from __future__ import annotations

from datetime import date

import pytest

from helpdesk.catalogue.models import Level1Choice, Lifecycle
from helpdesk.catalogue.publication import NotPublishable, change_lifecycle, publish
from helpdesk.core.errors import DomainError
from helpdesk.tickets.models import TicketType


@pytest.fixture
def proposed(factory, org):
    return factory.service(Level1Choice.GROUP, level2=org.level2, level3=(org.level3,),
                           lifecycle=Lifecycle.PROPOSED)


def test_a_proposed_service_is_refused_naming_everything_missing(proposed):
    with pytest.raises(NotPublishable) as refused:
        publish(proposed)
    assert refused.value.missing == ["level1_group", "routine_level1", "routine_level2",
                                     "routine_level3", "sla"]
    assert proposed.lifecycle == Lifecycle.PROPOSED


def test_a_complete_service_is_published_and_can_then_be_ordered(proposed, org, factory):
    proposed.level1_group = org.desk
    proposed.routines = {"level1": "Ask.", "level2": "Check.", "level3": "Fix."}
    proposed.sla_policy = factory.sla_policy(factory.calendar())
    publish(proposed, to=Lifecycle.PILOT)
    assert proposed.lifecycle == Lifecycle.PILOT
    ticket = factory.ticket(org.requester, proposed)
    assert ticket.assigned_group == org.desk


def test_a_proposed_service_cannot_be_ordered(proposed, org, factory):
    with pytest.raises(DomainError):
        factory.ticket(org.requester, proposed)


def test_no_sla_is_a_decision_too(proposed, org):
    proposed.level1_group = org.desk
    proposed.routines = {"level1": "Ask.", "level2": "Check.", "level3": "Fix."}
    proposed.no_sla = True
    publish(proposed)
    assert proposed.lifecycle == Lifecycle.ACTIVE


def test_retiring_needs_a_date_and_retired_services_keep_their_tickets(factory, org):
    service = factory.catalogue_service(org.level2)
    earlier = factory.ticket(org.requester, service)
    with pytest.raises(DomainError, match="date"):
        change_lifecycle(service, Lifecycle.RETIRING)
    change_lifecycle(service, Lifecycle.RETIRING, retiring_on=date(2026, 12, 31))
    assert service.orderable and service.retiring_on == date(2026, 12, 31)
    change_lifecycle(service, Lifecycle.RETIRED)
    with pytest.raises(DomainError, match="cannot be ordered"):
        factory.ticket(org.requester, service)
    assert earlier.service is service and earlier.status == "new"
    with pytest.raises(DomainError):
        change_lifecycle(service, Lifecycle.ACTIVE)  # retired stays retired


def test_publishing_is_only_for_proposed_services(factory, org):
    service = factory.catalogue_service(org.level2)
    with pytest.raises(DomainError, match="Only a proposed service"):
        publish(service)


def test_only_authorised_orderers_may_order_but_anyone_may_report_a_problem(factory, org):
    from helpdesk.catalogue.models import Ordering

    service = factory.catalogue_service(org.level2, ordering=Ordering.AUTHORISED,
                                        orderers=[org.other_requester])
    with pytest.raises(DomainError, match="authorised orderers"):
        factory.ticket(org.requester, service, ticket_type=TicketType.SERVICE_REQUEST)
    assert factory.ticket(org.other_requester, service,
                          ticket_type=TicketType.SERVICE_REQUEST).status == "new"
    assert factory.ticket(org.requester, service).status == "new"
