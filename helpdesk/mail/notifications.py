"""Which ticket events send which mail, to whom.

| event           | mail           | to                                    | automatic |
|-----------------|----------------|---------------------------------------|-----------|
| created         | acknowledgement| the requester (not for portal tickets)| yes       |
| replied         | reply          | the requester                         | no        |
| asked_requester | question       | the requester                         | no        |
| resolved        | resolution     | the requester                         | no        |
| escalated       | escalation     | the receiving group's members + lead  | yes       |
| approval_requested | approval_request | the service's authorised approvers | yes       |
| approved, rejected | approval_decision | the requester                      | yes       |
| SLA warning and breach (``sla.effects.notify`` decides who) | sla_warning, sla_breach | yes |

Nobody is mailed about their own action. A requester who filled in the portal's
form has just read the confirmation page, so only tickets that came another way
(mail, phone, API) get an acknowledgement by mail. Internal notes are recorded as
"noted" and never mailed. Requesters get their own mails on confidential tickets
too; mails to staff about a confidential ticket leave out its subject and text.

"Automatic" follows RFC 3834: a person's reply, question or resolution relayed to
the requester is that person's mail, not auto-submitted; acknowledgements and
alerts are (``Auto-Submitted``), and an acknowledgement of a mail answers it
(``auto-replied``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext

from helpdesk.accounts.models import User
from helpdesk.config import Settings
from helpdesk.core.outbox import queue_message
from helpdesk.extensions import db
from helpdesk.mail.compose import Mail, compose, locale_for, new_message_id
from helpdesk.sla import clock_math
from helpdesk.sla.clocks import business_calendar, remaining
from helpdesk.sla.models import AlertKind, SlaClock
from helpdesk.tickets.history import Recorded, on_recorded
from helpdesk.tickets.models import Channel, Message, Ticket
from helpdesk.web.template_helpers import METRIC_LABELS, business_duration, local_time, localized

AUTO_REPLIED = "auto-replied"  # RFC 3834: an automatic answer to the mail that came in


def register_notifications() -> None:
    """Mail on the ticket events above (the app calls this once at start-up)."""
    on_recorded(_on_ticket_event, kinds=_HANDLERS)


def _on_ticket_event(event: Recorded) -> None:
    settings: Settings = current_app.config["HELPDESK"]
    for mail in _HANDLERS[event.kind](event, settings):
        queue_message(**mail.outbox_fields(), now=event.now)


# The requester ---------------------------------------------------------------------------


def _for_requester(event: Recorded) -> User | None:
    requester = event.ticket.requester
    return None if event.actor is requester else requester


@dataclass(frozen=True)
class Promise:
    """What the service's SLA promises a new ticket, in the reader's words."""

    metric: str  # first_response or resolution
    target: str  # "4 h" of working time
    due_at: datetime
    calendar: str  # the name of the calendar it is counted on

    def sentence(self, when: Callable[[datetime], str]) -> str:
        """The promise in the reader's language, the due time written by ``when``: in the
        acknowledgement mail and on the portal's confirmation alike."""
        facts = {"due": when(self.due_at), "target": self.target, "calendar": self.calendar}
        if self.metric == "first_response":
            return gettext("We aim to give you a first answer by %(due)s (within %(target)s, "
                           "counted in the service's hours: %(calendar)s).", **facts)
        return gettext("We aim to have it solved by %(due)s (within %(target)s, counted in "
                       "the service's hours: %(calendar)s).", **facts)


def promises(ticket: Ticket) -> list[Promise]:
    """The SLA targets of a new ticket at its priority, and when they fall due.

    Worked out from the policy, as its clocks will be: at "created" they are not started yet.
    """
    policy = ticket.service.sla_policy
    if policy is None:
        return []
    calendar = business_calendar(policy.calendar)
    found = []
    for metric in ("first_response", "resolution"):
        minutes = policy.target_minutes(ticket.priority, metric)
        if minutes is None:
            continue
        target_us = minutes * 60_000_000
        due = clock_math.schedule(0, ticket.created_at, target_us, policy.warning_percent,
                                  calendar).due_at
        found.append(Promise(metric, business_duration(target_us), due, policy.calendar.name))
    return found


def _acknowledge(event: Recorded, settings: Settings) -> list[Mail]:
    ticket = event.ticket
    if ticket.channel == Channel.WEB:
        return []
    answering = event.details.get("mail_message_id")  # the mail the ticket came in as, if known
    mail = compose(
        "acknowledgement", ticket=ticket, recipient=ticket.requester, settings=settings,
        subject=lambda: gettext("[%(reference)s] We have received your ticket: %(subject)s",
                                reference=ticket.reference, subject=ticket.subject),
        auto_generated=True, answering=answering,
        payload={"auto_submitted": AUTO_REPLIED} if ticket.channel == Channel.EMAIL else {},
        group=ticket.assigned_group, promises=promises(ticket),
    )
    return [mail]


def _public_message(event: Recorded) -> tuple[Message | None, str | None]:
    """The message the actor just wrote, and the latest mail that came in before it."""
    messages = [m for m in event.ticket.messages if not m.internal]
    written = next((m for m in reversed(messages)
                    if m.author is event.actor and m.created_at == event.now), None)
    earlier = messages[:messages.index(written)] if written is not None else messages
    answering = next((m.mail_message_id for m in reversed(earlier) if m.mail_message_id), None)
    return written, answering


def _relay(kind: str, subject: Callable[[Ticket], str]) -> Callable[[Recorded, Settings], list[Mail]]:
    """A person's reply, question or resolution, passed on to the requester in their name."""

    def handler(event: Recorded, settings: Settings) -> list[Mail]:
        requester = _for_requester(event)
        if requester is None:
            return []
        ticket = event.ticket
        message, answering = _public_message(event)
        text = message.body if message is not None else (event.reason or "")
        resolved = ticket.resolved_at or event.now
        return [compose(
            kind, ticket=ticket, recipient=requester, settings=settings,
            subject=lambda: subject(ticket), auto_generated=False, answering=answering,
            author=event.actor, text=text, group=ticket.assigned_group,
            reopen_until=resolved + timedelta(days=settings.reopen_days),
        )]

    return handler


_reply = _relay("reply", lambda t: gettext("[%(reference)s] Reply about your ticket: %(subject)s",
                                           reference=t.reference, subject=t.subject))
_question = _relay("question", lambda t: gettext(
    "[%(reference)s] Question about your ticket: %(subject)s", reference=t.reference,
    subject=t.subject))
_resolution = _relay("resolution", lambda t: gettext("[%(reference)s] Resolved: %(subject)s",
                                                     reference=t.reference, subject=t.subject))


# The staff -------------------------------------------------------------------------------


def _escalation(event: Recorded, settings: Settings) -> list[Mail]:
    """The group a ticket was escalated to hears of it: its members and its lead."""
    ticket, group = event.ticket, event.to_group
    if group is None:
        return []
    people = [*group.members, *([group.lead] if group.lead else [])]
    unique = {p.id: p for p in people
              if p.active and (event.actor is None or p.id != event.actor.id)}
    params = event.details.get("reason_params")

    def subject() -> str:
        if ticket.confidential:
            return gettext("[%(reference)s] Escalated to %(group)s (a confidential ticket)",
                           reference=ticket.reference, group=localized(group, "name"))
        return gettext("[%(reference)s] Escalated to %(group)s: %(subject)s",
                       reference=ticket.reference, group=localized(group, "name"),
                       subject=ticket.subject)

    return [compose(
        "escalation", ticket=ticket, recipient=person, settings=settings, subject=subject,
        auto_generated=True, actor=event.actor, from_group=event.from_group, group=group,
        reason=event.reason, reason_params=params,
    ) for person in unique.values()]


def _approval_request(event: Recorded, settings: Settings) -> list[Mail]:
    """An order that needs approval: each authorised approver of its service is asked, and
    may answer by replying (``catalogue.approvals.decide_by_mail``)."""
    from helpdesk.catalogue.models import RequestFormAnswers

    ticket = event.ticket
    stored = db.session.get(RequestFormAnswers, ticket.id)
    answers = stored.answers if stored is not None else []

    def subject() -> str:
        return gettext("[%(reference)s] Approval needed: %(service)s",
                       reference=ticket.reference, service=localized(ticket.service, "name"))

    return [compose("approval_request", ticket=ticket, recipient=person, settings=settings,
                    subject=subject, auto_generated=True, answers=answers)
            for person in ticket.service.approvers if person.active]


def _approval_decision(event: Recorded, settings: Settings) -> list[Mail]:
    """The requester hears whether their order was approved (and is now handled) or not."""
    requester = _for_requester(event)
    if requester is None or event.actor is None:
        return []
    ticket, approved = event.ticket, event.kind == "approved"

    def subject() -> str:
        if approved:
            return gettext("[%(reference)s] Your order is approved: %(subject)s",
                           reference=ticket.reference, subject=ticket.subject)
        return gettext("[%(reference)s] Your order is rejected: %(subject)s",
                       reference=ticket.reference, subject=ticket.subject)

    return [compose("approval_decision", ticket=ticket, recipient=requester, settings=settings,
                    subject=subject, auto_generated=True, approved=approved,
                    approver=event.actor, reason=event.reason)]


def sla_alerts(clock: SlaClock, kind: AlertKind, people: list[User], *, now: datetime,
               settings: Settings) -> list[Mail]:
    """A warning or breach of ``clock`` to the people ``sla.effects.notify`` chose.

    The alert's words do not depend on who reads it, only in which language: a sweep
    that meets a hundred clocks renders each once per language, not once per person.
    """
    rendered: dict[str, Mail] = {}
    mails = []
    for person in people:
        locale = locale_for(person, settings)
        if locale not in rendered:
            rendered[locale] = _sla_alert(clock, kind, person, now=now, settings=settings)
        first = rendered[locale]
        mails.append(first if first.recipient is person else replace(
            first, recipient=person, message_id=new_message_id(settings.mail.domain,
                                                               clock.ticket.reference)))
    return mails


def _sla_alert(clock: SlaClock, kind: AlertKind, person: User, *, now: datetime,
               settings: Settings) -> Mail:
    ticket = clock.ticket
    what = METRIC_LABELS[clock.metric.value]

    def subject() -> str:
        if kind == AlertKind.WARNING:
            return gettext("[%(reference)s] At risk: %(what)s due %(due)s",
                           reference=ticket.reference, what=gettext(what),
                           due=local_time(clock.due_at))
        return gettext("[%(reference)s] Breached: %(what)s was due %(due)s",
                       reference=ticket.reference, what=gettext(what), due=local_time(clock.due_at))

    return compose(f"sla_{kind.value}", ticket=ticket, recipient=person, settings=settings,
                   subject=subject, auto_generated=True, clock=clock, what=what,
                   left=business_duration(remaining(clock, now)),
                   payload={"clock_id": clock.id, "metric": clock.metric.value})


_HANDLERS: dict[str, Callable[[Recorded, Settings], list[Mail]]] = {
    "created": _acknowledge,
    "replied": _reply,
    "asked_requester": _question,
    "resolved": _resolution,
    "escalated": _escalation,
    "approval_requested": _approval_request,
    "approved": _approval_decision,
    "rejected": _approval_decision,
}
