"""Which ticket history rows become which webhook event, and queueing their deliveries.

| webhook event            | history kinds                                             |
|--------------------------|-----------------------------------------------------------|
| ticket.created           | created                                                   |
| ticket.transitioned      | a workflow step: taken, assigned, asked_requester, …      |
| ticket.escalated         | escalated                                                 |
| ticket.handed_to_vendor  | handed_to_vendor                                          |
| ticket.sla_warning       | sla_warning                                               |
| ticket.sla_breach        | sla_breach                                                |

A delivery row is written in the transaction of the change, so a change that is
rolled back posts nothing; the scheduler sends it after the commit.

A subscription limited to some groups gets an event only for a ticket of one of them:
the group the event sends it to (``to_group``: the group an escalation goes to, the
level-1 group a return or a reopening brings it back to), else the group it is assigned
to after the change (the one it was routed to when created, the one working it at a
workflow step, the one that handed it to a vendor, the one it is with when an SLA or OLA
is warned of or breached); and the group the event takes it from (``from_group``: the
group an escalation or a return leaves, the one that had resolved a reopened ticket), so
that a group that had a ticket hears that it has gone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from helpdesk.api.schemas import WebhookTicket
from helpdesk.core.bulk import read_once
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.sla.clocks import sla_summary
from helpdesk.tickets.history import Recorded, on_recorded
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription

if TYPE_CHECKING:
    from helpdesk.tiers.models import SupportGroup

# The workflow's steps as the operations record them (each one fired an engine event).
TRANSITION_KINDS = frozenset({
    "taken", "assigned", "asked_requester", "requester_replied", "returned_to_level_1",
    "resolved", "confirmed", "cancelled", "reopened", "auto_closed",
    "approval_requested", "approved", "rejected",
})

EVENTS: dict[str, frozenset[str]] = {
    "ticket.created": frozenset({"created"}),
    "ticket.transitioned": TRANSITION_KINDS,
    "ticket.escalated": frozenset({"escalated"}),
    "ticket.handed_to_vendor": frozenset({"handed_to_vendor"}),
    "ticket.sla_warning": frozenset({"sla_warning"}),
    "ticket.sla_breach": frozenset({"sla_breach"}),
}
EVENT_LABELS = {
    "ticket.created": N_("Ticket created"),
    "ticket.transitioned": N_("Ticket moved in its workflow"),
    "ticket.escalated": N_("Ticket escalated"),
    "ticket.handed_to_vendor": N_("Ticket handed to a vendor"),
    "ticket.sla_warning": N_("SLA warning"),
    "ticket.sla_breach": N_("SLA breach"),
}
_EVENT_OF_KIND = {kind: event for event, kinds in EVENTS.items() for kind in kinds}
_WEBHOOK_TICKET = WebhookTicket()  # made once: a schema keeps nothing between dumps


def register_webhooks() -> None:
    """Queue deliveries for the kinds above (the app calls this once at start-up)."""
    on_recorded(_on_ticket_event, kinds=_EVENT_OF_KIND)


def payload(event: str, recorded: Recorded) -> dict[str, Any]:
    details: dict[str, Any] = {
        key: value for key, value in recorded.details.items()
        if isinstance(value, str | int | float | bool) or value is None
    }
    if recorded.from_group is not None:
        details["from_group"] = recorded.from_group.code
    if recorded.to_group is not None:
        details["to_group"] = recorded.to_group.code
    if recorded.reason and not recorded.ticket.confidential:
        details["reason"] = recorded.reason
    ticket = _WEBHOOK_TICKET.dump(recorded.ticket)
    # From the clocks: the ticket's stored summary may not have caught up with this very
    # event yet (an SLA breach is recorded before the sweep writes "breached").
    due, ticket["sla_state"] = sla_summary(recorded.ticket)
    ticket["sla_due_at"] = due.isoformat() if due else None
    return {
        "event": event,
        "kind": recorded.kind,
        "occurred_at": recorded.now.isoformat(),
        "actor": recorded.actor.email if recorded.actor is not None else None,
        "ticket": ticket,
        "details": details,
    }


def ticket_groups(recorded: Recorded) -> frozenset[str]:
    """The codes of the groups a subscription's groups are compared with (see above)."""
    to: SupportGroup = (recorded.to_group if recorded.to_group is not None
                        else recorded.ticket.assigned_group)
    if recorded.from_group is None:
        return frozenset({to.code})
    return frozenset({to.code, recorded.from_group.code})


def _active_subscriptions() -> list[tuple[int, list[str], list[str]]]:
    """Each active subscription's id, events and groups: all a delivery needs, read without
    objects.

    Held FOR KEY SHARE on PostgreSQL until the change commits, as a delivery's foreign key
    would hold it from its INSERT anyway: an administrator deleting one meanwhile waits
    for the change, and its delivery goes with the subscription (ON DELETE CASCADE);
    one deleted first is waited for and then not read, instead of the INSERT failing on
    the key. Stopping or editing one is not held up. (SQLite locks no rows: it has one
    writer at a time.)"""
    return [(row.id, row.events, row.group_codes) for row in db.session.execute(
        select(WebhookSubscription.id, WebhookSubscription.events,
               WebhookSubscription.group_codes)
        .where(WebhookSubscription.active.is_(True)).order_by(WebhookSubscription.id)
        .with_for_update(read=True, key_share=True))]


def _on_ticket_event(recorded: Recorded) -> None:
    event = _EVENT_OF_KIND[recorded.kind]
    if event == "ticket.transitioned" and recorded.to_status is None:
        return  # a requester's word on a ticket that waited for none: no step was taken
    # Bulk work (the SLA sweep, a group of mails) records hundreds of events: the
    # subscriptions are read once for the whole block, not once for each event.
    chosen = [(ident, groups) for ident, events, groups
              in read_once("webhook_subscriptions", _active_subscriptions) if event in events]
    groups_of_ticket = (ticket_groups(recorded) if any(groups for _, groups in chosen)
                        else frozenset())
    subscribed = [ident for ident, groups in chosen
                  if not groups or not groups_of_ticket.isdisjoint(groups)]
    if not subscribed:
        return
    body = payload(event, recorded)
    for subscription_id in subscribed:
        db.session.add(WebhookDelivery(
            subscription_id=subscription_id, ticket=recorded.ticket, event=event, payload=body,
            created_at=recorded.now, attempts=0, next_attempt_at=recorded.now))
