"""The catalogue's part of the organisation file: checking and writing a service's entry.

``helpdesk.org.loader`` calls these for every item of ``services:``; the route
(groups, SLA policy) is still its own business.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from helpdesk.accounts.models import User
from helpdesk.catalogue.models import (
    ORDERABLE,
    Lifecycle,
    MaintenanceWindow,
    Ordering,
    Service,
    SupportModel,
)
from helpdesk.catalogue.publication import MISSING, missing_for_publication

_TEXTS = (
    "long_description", "long_description_en", "benefit", "benefit_en", "conditions",
    "conditions_en", "information_class", "owner", "retiring_on", "requires_approval",
    "vendor_instructions", "vendor_instructions_en", "vendor_contact", "support_hours",
    "support_hours_en", "availability_hours", "availability_hours_en", "price_model",
    "price_model_en", "price_unit", "no_sla", "request_form",
)


def check_entries(services: list[dict[str, Any]], users: set[str]) -> Iterator[tuple[str, str]]:
    """(path, problem) for every service that names unknown people or skips the gate."""
    for i, item in enumerate(services):
        for key in ("orderers", "approvers"):
            for j, email in enumerate(item[key]):
                if email not in users:
                    yield f"services[{i}].{key}[{j}]", f"unknown user {email!r}"
        if Lifecycle(item["lifecycle"]) not in ORDERABLE:
            continue
        # A service in use has passed the gate; the file cannot open a back door around it.
        missing = missing_for_publication(
            level1=item["level1"], level1_group=item["level1_group"],
            level2_group=item["level2_group"], level3_groups=item["level3_groups"],
            routines=item["routines"], sla_decided=bool(item["sla_policy"]) or item["no_sla"],
            support_model=item["support_model"], vendor_instructions=item["vendor_instructions"],
        )
        if missing:
            yield (f"services[{i}]", f"{item['code']} is a service in use ({item['lifecycle']}): it "
                   "has passed the publication gate, so it needs "
                   + ", ".join(MISSING[key] for key in missing))


def load_entry(service: Service, item: dict[str, Any], user_by: Callable[[str], User]) -> None:
    for attr in _TEXTS:
        setattr(service, attr, item[attr])
    service.ordering = Ordering(item["ordering"])
    service.support_model = SupportModel(item["support_model"])
    service.orderers = [user_by(email) for email in item["orderers"]]
    service.approvers = [user_by(email) for email in item["approvers"]]
    service.routines = dict(item["routines"])
    service.maintenance_windows = [MaintenanceWindow(**window) for window in item["maintenance"]]
