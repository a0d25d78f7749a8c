"""What a warning or breach does, as its policy says: notify, raise priority, escalate."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale, gettext

from helpdesk.accounts.models import User
from helpdesk.config import Settings
from helpdesk.core.i18n import N_
from helpdesk.core.outbox import queue_message
from helpdesk.mail.notifications import sla_alerts
from helpdesk.sla.models import AlertKind, Metric, SlaClock
from helpdesk.tickets.history import record
from helpdesk.web.template_helpers import METRIC_LABELS

NOTIFY, RAISE_PRIORITY, ESCALATE = "notify", "raise_priority", "escalate"
KNOWN_EFFECTS = frozenset({NOTIFY, RAISE_PRIORITY, ESCALATE})


def apply(clock: SlaClock, kind: AlertKind, *, now: datetime, settings: Settings) -> None:
    for effect in clock.effects.get(kind.value, []):
        if effect == NOTIFY:
            notify(clock, kind, now=now, settings=settings)
        elif effect == RAISE_PRIORITY:
            raise_priority(clock, now=now, settings=settings)
        elif effect == ESCALATE:
            escalate(clock, now=now, settings=settings)


def _recipients(clock: SlaClock) -> list[User]:
    """Hierarchical escalation: the person working the ticket and the group's lead; when
    nobody has taken it and the group has no lead, its members, or nobody would hear."""
    ticket = clock.ticket
    group = clock.group or ticket.assigned_group
    people = [ticket.assignee, group.lead]
    unique: dict[int, User] = {p.id: p for p in people if p is not None}
    if not unique:
        unique = {member.id: member for member in group.members if member.active}
    return list(unique.values())


def notify(clock: SlaClock, kind: AlertKind, *, now: datetime, settings: Settings) -> None:
    """Tell the people ``_recipients`` names; the mail's words are in ``mail.notifications``."""
    for mail in sla_alerts(clock, kind, _recipients(clock), now=now, settings=settings):
        queue_message(**mail.outbox_fields(), now=now)


def raise_priority(clock: SlaClock, *, now: datetime, settings: Settings) -> None:
    from helpdesk.sla import clocks

    ticket = clock.ticket
    if ticket.priority <= 1:
        return
    old = ticket.priority
    ticket.priority = old - 1
    # A change like any other: it moves updated_since, and a stale page is told who made it.
    ticket.updated_at, ticket.updated_by = now, None
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
