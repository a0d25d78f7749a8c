"""The one gate into the support organisation, and a service's later lifecycle.

A proposed service is published (to pilot or active) only when its support
route, its written routines and its SLA decision are in place: "nålsögat" of
the reference material. The organisation file passes through the same check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from helpdesk.catalogue.models import (
    ROUTINE_LEVELS,
    Level1Choice,
    Lifecycle,
    Service,
    SupportModel,
)
from helpdesk.core.errors import DomainError
from helpdesk.core.i18n import N_
from helpdesk.sla.models import SlaPolicy

# What the gate can find missing, in the words the administrator reads.
MISSING = {
    "level1_group": N_("the named level-1 group"),
    "routine_level1": N_("the level-1 routine"),
    "routine_level2": N_("the level-2 routine"),
    "routine_level3": N_("the level-3 routine"),
    "sla": N_("the SLA decision (a policy, or no SLA)"),
    "vendor_instructions": N_("the instructions for going to the vendor"),
}

# Lifecycle moves after publication; publishing itself is ``publish``.
MOVES: dict[Lifecycle, frozenset[Lifecycle]] = {
    Lifecycle.PILOT: frozenset({Lifecycle.ACTIVE, Lifecycle.RETIRING, Lifecycle.RETIRED}),
    Lifecycle.ACTIVE: frozenset({Lifecycle.RETIRING, Lifecycle.RETIRED}),
    Lifecycle.RETIRING: frozenset({Lifecycle.ACTIVE, Lifecycle.RETIRED}),
    Lifecycle.RETIRED: frozenset(),
    Lifecycle.PROPOSED: frozenset(),
}


def missing_for_publication(
    *, level1: str, level1_group: object, level2_group: object, level3_groups: Iterable[object],
    routines: Mapping[str, str] | None, sla_decided: bool, support_model: str,
    vendor_instructions: str,
) -> list[str]:
    """The keys of ``MISSING`` that keep a service out of the catalogue (pure)."""
    routines = routines or {}
    missing = []
    if level1 == Level1Choice.GROUP.value and not level1_group:
        missing.append("level1_group")
    # A small organisation may have one level only; each level the route has needs its routine.
    levels = ["level1", *(["level2"] if level2_group else []),
              *(["level3"] if list(level3_groups) else [])]
    missing += [f"routine_{level}" for level in levels if not (routines.get(level) or "").strip()]
    if not sla_decided:
        missing.append("sla")
    if support_model == SupportModel.VENDOR_DIRECT.value and not vendor_instructions.strip():
        missing.append("vendor_instructions")
    return missing


def gate_problems(service: Service) -> list[str]:
    return missing_for_publication(
        level1=service.level1.value, level1_group=service.level1_group,
        level2_group=service.level2_group, level3_groups=service.level3_groups,
        routines=service.routines, sla_decided=service.sla_policy is not None or service.no_sla,
        support_model=service.support_model.value, vendor_instructions=service.vendor_instructions,
    )


class NotPublishable(DomainError):
    """The gate refused; ``missing`` names each thing to fill in."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(N_("The service cannot be published yet. Fill in what is missing."))
        self.missing = missing


def publish(service: Service, *, to: Lifecycle = Lifecycle.ACTIVE) -> None:
    """Open a proposed service for orders (as a pilot or active), through the gate."""
    if service.lifecycle != Lifecycle.PROPOSED:
        raise DomainError(N_("Only a proposed service is published."))
    if to not in (Lifecycle.PILOT, Lifecycle.ACTIVE):
        raise DomainError(N_("A service is published as a pilot or as active."))
    missing = gate_problems(service)
    if missing:
        raise NotPublishable(missing)
    service.lifecycle = to


def write_routines_and_sla(service: Service, *, routines: Mapping[str, str],
                           sla_policy: SlaPolicy | None, no_sla: bool) -> None:
    """What the gate asks for besides the route, written from the administration page."""
    service.routines = {level: (routines.get(level) or "").strip() for level in ROUTINE_LEVELS}
    service.sla_policy = sla_policy
    service.no_sla = no_sla and sla_policy is None


def change_lifecycle(service: Service, to: Lifecycle, *, retiring_on: date | None = None) -> None:
    """A published service moves on: active, being retired by a date, retired."""
    if to not in MOVES[service.lifecycle]:
        raise DomainError(N_("A service cannot go from this stage of its life to that one."))
    if to == Lifecycle.RETIRING and retiring_on is None:
        raise DomainError(N_("Give the date by which the service is retired."))
    service.lifecycle = to
    if to == Lifecycle.RETIRING:
        service.retiring_on = retiring_on
    elif to == Lifecycle.ACTIVE:
        service.retiring_on = None  # the retirement was called off
