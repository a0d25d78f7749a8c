"""Where a new ticket goes first (pure: plain values in, a decision out).

Order of precedence, and why:
1. An explicit routing rule of the organisation (service / category / org unit),
   because an administrator wrote it for exactly this case.
2. The service's level-1 choice: a named group (e.g. the board secretaries for
   the meeting system), or the requester's own local helpdesk where the
   department has one and the service allows it, or the central service desk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from helpdesk.core.errors import DomainError
from helpdesk.core.i18n import N_

LOCAL_HELPDESK = "local_helpdesk"
SERVICE_DESK = "service_desk"
GROUP = "group"


@dataclass(frozen=True)
class Rule:
    group: str
    service: str | None = None
    category: str | None = None
    org_unit: str | None = None

    def matches(self, service: str, category: str, org_unit: str | None) -> bool:
        return (
            (self.service is None or self.service == service)
            and (self.category is None or self.category == category)
            and (self.org_unit is None or self.org_unit == org_unit)
        )


@dataclass(frozen=True)
class RouteRequest:
    service: str
    category: str
    level1: str  # LOCAL_HELPDESK, SERVICE_DESK or GROUP
    level1_group: str | None
    org_unit: str | None
    org_unit_helpdesk: str | None
    service_desk: str | None
    # What people read in the routing reason (codes are for matching only).
    service_name: str = ""
    org_unit_name: str = ""


@dataclass(frozen=True)
class RoutingDecision:
    group: str
    reason: str  # an N_-marked template; parameters below
    params: dict[str, str]


class NoRoute(DomainError):
    """The organisation has no group to receive this ticket."""


# Named, as a mail's quarantine reason quotes them (mail.reasons).
NO_LEVEL1_GROUP = N_("The service %(service)s has no level-1 group; please tell the helpdesk "
                     "administrator.")
NO_SERVICE_DESK = N_("No support group can receive this ticket: the organisation has no central "
                     "service desk. Please tell the helpdesk administrator.")


def needs_service_desk(level1: str, org_unit_helpdesk: str | None) -> bool:
    """Whether a ticket no rule matches goes to the central service desk (so the caller must
    name it in the RouteRequest): not when the service names a group, nor when it allows
    local support and the requester's department has a local helpdesk."""
    return level1 != GROUP and not (level1 == LOCAL_HELPDESK and org_unit_helpdesk)


def route_level1(request: RouteRequest, rules: Sequence[Rule] = ()) -> RoutingDecision:
    for number, rule in enumerate(rules, start=1):
        if rule.matches(request.service, request.category, request.org_unit):
            return RoutingDecision(
                rule.group, N_("Routing rule %(number)s matched."), {"number": str(number)}
            )
    if request.level1 == GROUP:
        if not request.level1_group:
            raise NoRoute(NO_LEVEL1_GROUP, service=request.service_name or request.service)
        return RoutingDecision(
            request.level1_group,
            N_("The service %(service)s is supported at level 1 by a named group."),
            {"service": request.service_name or request.service},
        )
    if request.level1 == LOCAL_HELPDESK and request.org_unit_helpdesk:
        return RoutingDecision(
            request.org_unit_helpdesk,
            N_("The requester's department %(org_unit)s has a local helpdesk, "
               "and the service allows local support."),
            {"org_unit": request.org_unit_name or request.org_unit or ""},
        )
    if not request.service_desk:
        raise NoRoute(NO_SERVICE_DESK)
    if request.level1 == LOCAL_HELPDESK:
        return RoutingDecision(
            request.service_desk,
            N_("The requester's department has no local helpdesk, "
               "so the central service desk takes it."),
            {},
        )
    return RoutingDecision(
        request.service_desk,
        N_("The service %(service)s is supported at level 1 by the central service desk."),
        {"service": request.service_name or request.service},
    )
