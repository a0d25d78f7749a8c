"""Where a new ticket goes first: the pure level-1 routing decision."""

from __future__ import annotations

import pytest

from helpdesk.tiers.routing import (
    GROUP,
    LOCAL_HELPDESK,
    SERVICE_DESK,
    NoRoute,
    RouteRequest,
    Rule,
    needs_service_desk,
    route_level1,
)

LOCAL_REASON = ("The requester's department %(org_unit)s has a local helpdesk, "
                "and the service allows local support.")
NO_LOCAL_REASON = ("The requester's department has no local helpdesk, "
                   "so the central service desk takes it.")
DESK_REASON = "The service %(service)s is supported at level 1 by the central service desk."
GROUP_REASON = "The service %(service)s is supported at level 1 by a named group."
RULE_REASON = "Routing rule %(number)s matched."


def request(level1: str = LOCAL_HELPDESK, *, service: str = "epost",
            category: str = "Kommunikation", level1_group: str | None = None,
            org_unit: str | None = "kemi", org_unit_helpdesk: str | None = "kemi-helpdesk",
            service_desk: str | None = "servicedesk") -> RouteRequest:
    return RouteRequest(service=service, category=category, level1=level1,
                        level1_group=level1_group, org_unit=org_unit,
                        org_unit_helpdesk=org_unit_helpdesk, service_desk=service_desk)


def said(decision) -> str:
    return decision.reason % decision.params


def test_a_department_with_a_local_helpdesk_gets_its_own_helpdesk():
    decision = route_level1(request(LOCAL_HELPDESK))
    assert decision.group == "kemi-helpdesk"
    assert decision.reason == LOCAL_REASON
    assert said(decision) == ("The requester's department kemi has a local helpdesk, "
                              "and the service allows local support.")


@pytest.mark.parametrize("org_unit", ["forvaltning", None])
def test_a_department_without_a_local_helpdesk_goes_to_the_service_desk(org_unit):
    decision = route_level1(request(LOCAL_HELPDESK, org_unit=org_unit, org_unit_helpdesk=None))
    assert decision.group == "servicedesk"
    assert decision.reason == NO_LOCAL_REASON
    assert decision.params == {}


def test_a_service_desk_service_skips_the_local_helpdesk():
    decision = route_level1(request(SERVICE_DESK, service="konto"))
    assert decision.group == "servicedesk"
    assert decision.reason == DESK_REASON
    assert said(decision) == "The service konto is supported at level 1 by the central service desk."


def test_the_meeting_system_goes_to_the_board_secretaries():
    decision = route_level1(request(GROUP, service="sammantradesrum",
                                    level1_group="namndsekreterare", service_desk=None))
    assert decision.group == "namndsekreterare"
    assert decision.reason == GROUP_REASON
    assert said(decision) == ("The service sammantradesrum is supported at level 1 "
                              "by a named group.")


def test_a_named_group_service_without_its_group_has_no_route():
    with pytest.raises(NoRoute, match="sammantradesrum"):
        route_level1(request(GROUP, service="sammantradesrum", level1_group=None))


@pytest.mark.parametrize("level1", [LOCAL_HELPDESK, SERVICE_DESK])
def test_no_route_when_the_ticket_needs_a_service_desk_and_there_is_none(level1):
    with pytest.raises(NoRoute, match="no central service desk"):
        route_level1(request(level1, org_unit_helpdesk=None, service_desk=None))


@pytest.mark.parametrize(("rule", "routed"), [
    (Rule("nat-l1", service="natverk"), False),
    (Rule("nat-l1", service="epost"), True),
    (Rule("nat-l1", category="Infrastruktur"), False),
    (Rule("nat-l1", category="Kommunikation"), True),
    (Rule("nat-l1", org_unit="fysik"), False),
    (Rule("nat-l1", org_unit="kemi"), True),
    (Rule("nat-l1", service="epost", org_unit="fysik"), False),  # every criterion must hold
    (Rule("nat-l1", service="epost", category="Kommunikation", org_unit="kemi"), True),
    (Rule("nat-l1"), True),  # no criteria: matches everything
], ids=lambda v: repr(v) if isinstance(v, Rule) else str(v))
def test_a_rule_routes_by_service_category_and_org_unit(rule, routed):
    decision = route_level1(request(LOCAL_HELPDESK), [rule])
    if routed:
        assert (decision.group, decision.reason, decision.params) == (
            "nat-l1", RULE_REASON, {"number": "1"})
    else:
        assert decision.group == "kemi-helpdesk"
        assert decision.reason == LOCAL_REASON


def test_the_first_matching_rule_wins_and_is_named_by_its_position():
    rules = [
        Rule("wrong-service", service="natverk"),
        Rule("by-category", category="Kommunikation"),
        Rule("by-unit", org_unit="kemi"),
    ]
    decision = route_level1(request(LOCAL_HELPDESK), rules)
    assert decision.group == "by-category"
    assert said(decision) == "Routing rule 2 matched."


def test_a_rule_wins_over_the_services_own_route_even_without_a_service_desk():
    decision = route_level1(request(GROUP, level1_group="namndsekreterare", service_desk=None),
                            [Rule("kemi-helpdesk", org_unit="kemi")])
    assert decision.group == "kemi-helpdesk"
    assert decision.reason == RULE_REASON


def test_reasons_name_the_service_and_department_as_people_know_them():
    named = dict(service_name="E-post och kalender", org_unit_name="Institutionen för kemi")
    local = route_level1(RouteRequest(**{**vars(request(LOCAL_HELPDESK)), **named}))
    assert said(local) == ("The requester's department Institutionen för kemi has a local "
                           "helpdesk, and the service allows local support.")
    desk = route_level1(RouteRequest(**{**vars(request(SERVICE_DESK)), **named}))
    assert said(desk) == ("The service E-post och kalender is supported at level 1 "
                          "by the central service desk.")
    group = route_level1(RouteRequest(**{**vars(request(GROUP, level1_group="sekr")), **named}))
    assert said(group) == "The service E-post och kalender is supported at level 1 by a named group."


@pytest.mark.parametrize("level1", [LOCAL_HELPDESK, SERVICE_DESK, GROUP])
@pytest.mark.parametrize("helpdesk", ["kemi-helpdesk", None])
def test_the_service_desk_is_needed_exactly_where_routing_falls_to_it(level1, helpdesk):
    # The ticket form looks the service desk up only where this says routing needs it.
    unrouted = request(level1, level1_group="natverk", org_unit_helpdesk=helpdesk,
                       service_desk=None)
    if needs_service_desk(level1, helpdesk):
        with pytest.raises(NoRoute):
            route_level1(unrouted)
    else:
        assert route_level1(unrouted).group != "servicedesk"
