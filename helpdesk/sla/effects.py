"""What a warning or breach does, as its policy says: notify, raise priority, escalate."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale, gettext

from helpdesk.accounts.models import User
from helpdesk.config import Settings
from helpdesk.core.i18n import N_
from helpdesk.core.outbox import queue_message
from helpdesk.sla.models import AlertKind, Metric, SlaClock
from helpdesk.tickets.history import record
from helpdesk.web.template_helpers import METRIC_LABELS, local_time

NOTIFY, RAISE_PRIORITY, ESCALATE = "notify", "raise_priority", "escalate"
KNOWN_EFFECTS = frozenset({NOTIFY, RAISE_PRIORITY, ESCALATE})


def apply(clock: SlaClock, kind: AlertKind, *, now: datetime, settings: Settings) -> None:
    for effect in clock.effects.get(kind.value, []):
        if effect == NOTIFY:
            notify(clock, kind, now=now)
        elif effect == RAISE_PRIORITY:
            raise_priority(clock, now=now, settings=settings)
        elif effect == ESCALATE:
            escalate(clock, now=now, settings=settings)


def _recipients(clock: SlaClock) -> list[User]:
    """Hierarchical escalation: the person working the ticket and the group's lead."""
    ticket = clock.ticket
    group = clock.group or ticket.assigned_group
    people = [ticket.assignee, group.lead]
    unique: dict[int, User] = {p.id: p for p in people if p is not None}
    return list(unique.values())


def notify(clock: SlaClock, kind: AlertKind, *, now: datetime) -> None:
    ticket = clock.ticket
    for person in _recipients(clock):
        locale = person.locale or "sv"
        with force_locale(locale):
            what = gettext(METRIC_LABELS[clock.metric.value])
            due = local_time(clock.due_at)
            if kind == AlertKind.WARNING:
                subject = gettext("[%(reference)s] At risk: %(what)s due %(due)s",
                                  reference=ticket.reference, what=what, due=due)
            else:
                subject = gettext("[%(reference)s] Breached: %(what)s was due %(due)s",
                                  reference=ticket.reference, what=what, due=due)
            body = gettext("Ticket %(reference)s “%(subject)s” (P%(priority)s, %(group)s).",
                           reference=ticket.reference, subject=ticket.subject,
                           priority=ticket.priority, group=ticket.assigned_group.name)
        queue_message(kind=f"sla_{kind.value}", recipient_email=person.email,
                      recipient_user_id=person.id, ticket_id=ticket.id, locale=locale,
                      subject=subject, body=body, now=now,
                      payload={"clock_id": clock.id, "metric": clock.metric.value})


def raise_priority(clock: SlaClock, *, now: datetime, settings: Settings) -> None:
    from helpdesk.sla import clocks

    ticket = clock.ticket
    if ticket.priority <= 1:
        return
    old = ticket.priority
    ticket.priority = old - 1
    record(ticket, "priority_raised", actor=None, now=now, from_priority=old,
           to_priority=ticket.priority, clock_id=clock.id, metric=clock.metric.value)
    clocks.on_priority_changed(ticket, now)


def escalate(clock: SlaClock, *, now: datetime, settings: Settings) -> None:
    """Functional escalation when a group breaches its OLA: on to the service's next tier."""
    from helpdesk.tiers.operations import escalate_ticket, next_tier_group

    if clock.metric not in (Metric.OLA_TAKE, Metric.OLA_HANDLE):
        return
    ticket = clock.ticket
    if clock.group_id != ticket.assigned_group_id or ticket.status not in ("new", "open",
                                                                          "in_progress"):
        return
    target = next_tier_group(ticket)
    if target is None:
        return
    escalate_ticket(ticket, to_group=target, actor=None, now=now, settings=settings,
                    reason=N_("%(group)s did not meet its OLA (%(what)s), so the helpdesk "
                              "escalated the ticket."),
                    reason_params=_names(clock))


def _names(clock: SlaClock) -> dict[str, str]:
    """Parameters in Swedish with English beside them, as the history shows both."""
    label = METRIC_LABELS[clock.metric.value]
    with force_locale("sv"):
        swedish = gettext(label)
    group = clock.group
    return {"group": group.name if group else "", "group_en": (group.name_en or group.name)
            if group else "", "what": swedish, "what_en": label}
