"""The ticket page's vendor section: whom it may go to, and the vendor's UC beside our SLA.

The warning the agent needs: when a vendor's UC resolution falls due after the
customer's SLA resolution, the vendor's contract alone makes our promise impossible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from helpdesk.mail.authors import mail_author
from helpdesk.sla import clock_math
from helpdesk.sla.clocks import business_calendar
from helpdesk.sla.models import ClockStatus, Metric, SlaClock
from helpdesk.tickets.models import Ticket
from helpdesk.vendors.models import ServiceVendor, VendorHandoff
from helpdesk.vendors.operations import allowed_routes, handoffs

# The workflow's vendor events: offered in the vendor section, not among the other actions.
VENDOR_EVENTS = frozenset({"hand_to_vendor", "vendor_replied", "vendor_solved", "recall_handoff"})


@dataclass(frozen=True)
class RouteChoice:
    """A vendor the agent may hand to now, and when its UC resolution would fall due."""

    route: ServiceVendor
    uc_due_at: datetime | None
    after_sla: bool


@dataclass(frozen=True)
class HandoffView:
    handoff: VendorHandoff
    uc_response: SlaClock | None
    uc_resolution: SlaClock | None
    sla_resolution: SlaClock | None
    after_sla: bool  # the UC resolution falls due after the customer's resolution


@dataclass(frozen=True)
class VendorPanel:
    may_hand_over: bool
    choices: list[RouteChoice]
    handoffs: list[HandoffView]
    # Who wrote a message that came from a vendor by mail (it has no author among our users).
    senders: dict[int, str]


def sla_resolution_clock(ticket: Ticket) -> SlaClock | None:
    return next((c for c in ticket.clocks if c.metric == Metric.RESOLUTION
                 and c.status != ClockStatus.STOPPED), None)


def uc_after_sla(uc_due: datetime | None, sla: SlaClock | None) -> bool:
    return (uc_due is not None and sla is not None and sla.due_at is not None
            and uc_due > sla.due_at)


def _projected_due(route: ServiceVendor, ticket: Ticket, now: datetime) -> datetime | None:
    minutes = route.contract.target_minutes(ticket.priority, "resolution")
    if minutes is None:
        return None
    calendar = business_calendar(route.contract.calendar)
    return clock_math.schedule(0, now, minutes * 60_000_000, route.contract.warning_percent,
                               calendar).due_at


def _uc_clock(ticket: Ticket, handoff: VendorHandoff, metric: Metric) -> SlaClock | None:
    return next((c for c in ticket.clocks if c.handoff_id == handoff.id and c.metric == metric),
                None)


def vendor_panel(ticket: Ticket, events: list[str], now: datetime) -> VendorPanel:
    sla = sla_resolution_clock(ticket)
    may_hand_over = "hand_to_vendor" in events
    choices = []
    if may_hand_over:
        for route in allowed_routes(ticket):
            due = _projected_due(route, ticket, now)
            choices.append(RouteChoice(route, due, uc_after_sla(due, sla)))
    views = []
    for handoff in handoffs(ticket):
        resolution = _uc_clock(ticket, handoff, Metric.UC_RESOLUTION)
        late = (handoff.active and resolution is not None
                and resolution.status == ClockStatus.RUNNING
                and uc_after_sla(resolution.due_at, sla))
        views.append(HandoffView(handoff, _uc_clock(ticket, handoff, Metric.UC_RESPONSE),
                                 resolution, sla, late))
    senders = {mail.message_id: mail_author(view.handoff.vendor.name, mail.sender)
               for view in views for mail in view.handoff.mails if mail.incoming}
    return VendorPanel(may_hand_over and bool(choices), choices, views, senders)
