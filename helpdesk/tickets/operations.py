"""Every change to a ticket's state goes through one of these functions.

They are called alike by the web views, the CLI and (later) the API, mail
ingestion and the scheduler. Each one checks what the workflow allows, changes
the ticket, and records a TicketEvent. They flush; the caller commits once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from helpdesk.accounts.models import User
from helpdesk.catalogue.forms import load_named_answers
from helpdesk.catalogue.models import RequestFormAnswers, Service
from helpdesk.catalogue.queries import ON_PORTAL, UNKNOWN_SERVICE, service_to_order
from helpdesk.config import Settings
from helpdesk.core import bulk, concurrency
from helpdesk.core.errors import DomainError, StaleTicket
from helpdesk.core.i18n import N_
from helpdesk.core.labels import LIFECYCLE_LABELS, Label, label_for
from helpdesk.extensions import db
from helpdesk.sla import clocks
from helpdesk.tickets import attachments as attachment_store
from helpdesk.tickets.history import record
from helpdesk.tickets.models import Channel, Message, Ticket, TicketType
from helpdesk.tickets.priority import priority_for
from helpdesk.tickets.references import next_reference
from helpdesk.tiers.models import SupportGroup
from helpdesk.tiers.routing import RoutingDecision, route_level1
from helpdesk.tiers.routing_data import route_request_for, routing_rules
from helpdesk.workflows.definitions import AGENT, REQUESTER, SYSTEM
from helpdesk.workflows.engine import engine_for
from helpdesk.workflows.guards import GuardContext


def check_version(ticket: Ticket, expected_version: int | None) -> None:
    """Refuse a change made from a stale page, naming who changed the ticket and when."""
    if expected_version is None or ticket.version == expected_version:
        return
    raise StaleTicket(
        N_("%(name)s changed this ticket at %(time)s, after you opened it. "
           "Reload the ticket to see the change; what you typed is kept below."),
        name=ticket.updated_by.name if ticket.updated_by else Label(N_("the helpdesk")),
        time=ticket.updated_at,
    )


def guard_context(
    ticket: Ticket, actor_kind: str, now: datetime, settings: Settings,
    params: Mapping[str, Any] | None = None,
) -> GuardContext:
    return GuardContext(
        actor_kind=actor_kind,
        now=now,
        current_tier=ticket.assigned_group.tier,
        resolved_at=ticket.resolved_at,
        reopen_days=settings.reopen_days,
        params=params or {},
    )


def available_events(ticket: Ticket, actor_kind: str, now: datetime, settings: Settings) -> list[str]:
    """What the UI may offer: exactly the events the engine allows now."""
    engine = engine_for(ticket.type)
    return engine.available_events(ticket.status, guard_context(ticket, actor_kind, now, settings))


def move(
    ticket: Ticket,
    event: str,
    *,
    actor: User | None,
    actor_kind: str,
    now: datetime,
    settings: Settings,
    expected_version: int | None = None,
    params: Mapping[str, Any] | None = None,
) -> tuple[str, str]:
    """Fire ``event`` on the ticket's workflow and apply the new state.

    Returns (old status, new status). Raises before changing anything when the
    page was stale or the workflow refuses.
    """
    check_version(ticket, expected_version)
    engine = engine_for(ticket.type)
    old = ticket.status
    new = engine.fire(old, event, guard_context(ticket, actor_kind, now, settings, params))
    ticket.status = new
    touch(ticket, actor, now)
    if new != old:
        clocks.on_status_changed(ticket, old, new, now)
    return old, new


def touch(ticket: Ticket, actor: User | None, now: datetime) -> None:
    ticket.updated_at = now
    ticket.updated_by = actor


def _add_message(
    ticket: Ticket, author: User | None, body: str, *, internal: bool, now: datetime,
    uploads: Iterable[attachment_store.Upload] = (), settings: Settings,
    consultation_id: int | None = None,
) -> Message:
    message = Message(
        ticket=ticket, author=author, body=body, internal=internal, created_at=now,
        consultation_id=consultation_id,
    )
    db.session.add(message)
    _store_uploads(ticket, message, author, uploads, internal=internal, now=now, settings=settings)
    return message


def _store_uploads(
    ticket: Ticket, message: Message | None, author: User | None,
    uploads: Iterable[attachment_store.Upload], *, internal: bool, now: datetime,
    settings: Settings,
) -> None:
    for upload in uploads:
        stored = attachment_store.store(
            upload,
            root=settings.instance_dir / "attachments",
            max_bytes=settings.max_attachment_bytes,
            now=now,
        )
        stored.ticket = ticket
        stored.message = message
        stored.internal = internal
        stored.uploaded_by = author
        db.session.add(stored)
        attachment_store.forget_on_rollback(
            db.session(), attachment_store.storage_path(settings.instance_dir / "attachments",
                                                        stored.storage_key))


# Named, as a mail's quarantine reason quotes it (mail.reasons).
NOT_ORDERABLE = N_("The service %(service)s cannot be ordered now (%(lifecycle)s).")


def check_may_create(service: Service, requester: User, ticket_type: TicketType) -> None:
    """What must hold before a ticket on ``service`` is created; DomainError says why not."""
    if not service.orderable:
        raise DomainError(
            NOT_ORDERABLE,
            service=service.name, lifecycle=label_for(LIFECYCLE_LABELS, service.lifecycle.value),
        )
    if ticket_type == TicketType.SERVICE_REQUEST and not service.may_order(requester):
        raise DomainError(N_("Only the authorised orderers of %(service)s may order it."),
                          service=service.name)


def service_for_new_ticket(code: str, requester: User, ticket_type: TicketType, *,
                           find: Callable[[str], Service | None] = service_to_order) -> Service:
    """The service a ticket request names by its code, checked as ``create_ticket`` checks
    it; DomainError says why not. ``find`` looks the code up (a batch passes what it read)."""
    service = find(code)
    # A proposed service is staff's to know of: to a requester it is as if it did not exist,
    # as in the portal and GET /services, not named in a refusal.
    if service is None or (service.lifecycle not in ON_PORTAL and not requester.is_staff):
        raise DomainError(UNKNOWN_SERVICE, code=code)
    check_may_create(service, requester, ticket_type)
    return service


def checked_request(code: str, requester: User, ticket_type: TicketType,
                    answers: dict[str, Any]) -> tuple[Service, list[dict[str, Any]]]:
    """A ticket request's service, checked as ``service_for_new_ticket`` checks it, and an
    order's answers to that service's request form, by the form's field names; DomainError
    (InvalidInput for the answers) says what is wrong."""
    service = service_for_new_ticket(code, requester, ticket_type)
    ordering = ticket_type == TicketType.SERVICE_REQUEST
    return service, load_named_answers(service.request_form, ordering, answers)


def create_ticket(
    *,
    requester: User,
    service: Service,
    subject: str,
    description: str,
    impact: int,
    urgency: int,
    now: datetime,
    settings: Settings,
    ticket_type: TicketType = TicketType.INCIDENT,
    channel: Channel = Channel.WEB,
    confidential: bool = False,
    uploads: Iterable[attachment_store.Upload] = (),
    routed_by: RoutingDecision | None = None,
    origin_message_id: str | None = None,
    form_answers: list[dict[str, Any]] | None = None,
    made_at: datetime | None = None,
) -> Ticket:
    """A new ticket, routed to its level-1 group (or as ``routed_by`` decided, e.g. a mailbox's
    own group), with its clocks started; an order that needs approval waits for it instead
    (``catalogue.approvals`` starts the clocks).

    ``now`` is when the ticket was asked for: its history and clocks count from then.
    ``made_at``, when later (a request accepted for later), is its first change time, so a
    client syncing by updated_since finds it, and what its webhook says agrees with the API."""
    check_may_create(service, requester, ticket_type)
    ordering = ticket_type == TicketType.SERVICE_REQUEST
    if routed_by is None:
        decision = route_level1(route_request_for(service, requester), routing_rules())
        # Routing read the groups a service or a department names: no need to read one again.
        group = _group_named(decision.group, service.level1_group,
                             requester.org_unit.local_helpdesk if requester.org_unit else None)
    else:
        decision, group = routed_by, _group_named(routed_by.group)
    outermost = not bulk.collecting()
    # Written together: the ticket and its clocks by one flush when the block ends, its
    # history and mail by one statement each (in a group of mails, when the group ends).
    with db.session.no_autoflush, bulk.inserted_together():
        workflow_initial = engine_for(ticket_type).workflow.initial
        ticket = Ticket(
            type=ticket_type,
            subject=subject.strip(),
            description=description.strip(),
            requester=requester,
            org_unit_id=requester.org_unit_id,
            service=service,
            impact=impact,
            urgency=urgency,
            priority=priority_for(impact, urgency, settings.priority_matrix),
            status=workflow_initial,
            owner_group=group,
            assigned_group=group,
            confidential=confidential,
            channel=channel,
            created_at=now,
            updated_at=made_at or now,
            updated_by=requester,
            public_version=1,
            public_updated_at=made_at or now,
        )
        # A new ticket has none of these yet; saying so spares a query (and a flush) for each
        # when the clocks, the notifications and the history read them. Set as loaded, not as
        # changed, so the flush has no collections to look through for what to write.
        for collection in ("clocks", "messages", "attachments", "consultations", "events"):
            set_committed_value(ticket, collection, [])
        db.session.add(ticket)
        # Files sent with the form belong to the description, not to a message.
        _store_uploads(ticket, None, requester, uploads, internal=False, now=now, settings=settings)
        awaiting_approval = ordering and service.requires_approval
        started = [] if awaiting_approval else clocks.start_for_new_ticket(ticket, now)
        # Everything above read and decided; from here the ticket is written. Its number is
        # taken last, as the counter is what every creation waits its turn for (the row's
        # lock on PostgreSQL, the write lock on SQLite) until the transaction ends.
        concurrency.start_writing(db.session())
        ticket.reference = next_reference(settings.reference_prefix, now.year)
        # A ticket that came by mail keeps that mail's Message-ID, so answers thread under it.
        origin: dict[str, Any] = {"mail_message_id": origin_message_id} if origin_message_id else {}
        record(ticket, "created", actor=requester, now=now, to_status=workflow_initial,
               channel=channel.value, priority=ticket.priority, **origin)
        record(ticket, "routed", actor=None, now=now, to_group=group,
               reason=decision.reason, reason_params=_with_english_names(decision.params, service,
                                                                         requester))
        if form_answers:
            db.session.add(RequestFormAnswers(ticket=ticket, answers=form_answers))
        if awaiting_approval:
            db.session.flush()  # the approvers' mail reads the answers
            # The order waits for an approver; its clocks start when it is approved.
            move(ticket, "await_approval", actor=None, actor_kind=SYSTEM, now=now, settings=settings)
            ticket.updated_by = requester
            record(ticket, "approval_requested", actor=None, now=now, from_status=workflow_initial,
                   to_status=ticket.status)
        else:
            clocks.mark_started(started, now)
    if outermost:
        db.session.flush()  # (nothing left to write unless a listener added something)
        db.session.expire(ticket, ["events"])  # its history went in past the ORM: read it anew
    return ticket


def _group_named(code: str, *known: SupportGroup | None) -> SupportGroup:
    """The group with this code: one of ``known`` if it is among them, else from the database."""
    for group in known:
        if group is not None and group.code == code:
            return group
    return db.session.scalars(select(SupportGroup).where(SupportGroup.code == code)).one()


def _with_english_names(params: dict[str, str], service: Service,
                        requester: User) -> dict[str, str]:
    """Keep the English names beside the Swedish ones, so history reads right in both."""
    shown = dict(params)
    unit = requester.org_unit
    if "org_unit" in shown and unit is not None and unit.name_en:
        shown["org_unit_en"] = unit.name_en
    if "service" in shown and service.name_en:
        shown["service_en"] = service.name_en
    return shown


def add_reply(
    ticket: Ticket, *, actor: User, body: str, internal: bool, now: datetime, settings: Settings,
    uploads: Iterable[attachment_store.Upload] = (), consultation_id: int | None = None,
) -> Message:
    """A staff member's public reply to the requester, or an internal note."""
    if not body.strip():
        raise DomainError(N_("Write a message."))
    message = _add_message(ticket, actor, body.strip(), internal=internal, now=now,
                           uploads=uploads, settings=settings, consultation_id=consultation_id)
    touch(ticket, actor, now)
    record(ticket, "noted" if internal else "replied", actor=actor, now=now)
    if not internal:
        clocks.on_public_reply(ticket, now)
    bulk.flush()
    return message


def add_incoming_note(
    ticket: Ticket, *, author: User | None, body: str, now: datetime, settings: Settings,
    event: str, uploads: Iterable[attachment_store.Upload] = (), **details: Any,
) -> Message:
    """Something that arrived for the staff only (a bounce, a colleague's mail): an internal
    note that changes nothing else about the ticket."""
    message = _add_message(ticket, author, body.strip() or "-", internal=True, now=now,
                           uploads=uploads, settings=settings)
    record(ticket, event, actor=author, now=now, **details)
    bulk.flush()
    return message


def take_ticket(ticket: Ticket, *, actor: User, now: datetime, settings: Settings,
                expected_version: int | None = None) -> None:
    if actor not in ticket.assigned_group.members:
        raise DomainError(N_("Only members of %(group)s can take this ticket."),
                          group=ticket.assigned_group.name)
    old, new = move(ticket, "take", actor=actor, actor_kind=AGENT, now=now, settings=settings,
                    expected_version=expected_version)
    previous = ticket.assignee
    ticket.assignee = actor
    record(ticket, "taken", actor=actor, now=now, from_status=old, to_status=new,
           previous_assignee=previous.name if previous else None)
    clocks.on_taken(ticket, now)


def assign_ticket(ticket: Ticket, *, assignee: User, actor: User, now: datetime,
                  settings: Settings, expected_version: int | None = None) -> None:
    is_member = assignee in ticket.assigned_group.members
    old, new = move(ticket, "assign", actor=actor, actor_kind=AGENT, now=now, settings=settings,
                    expected_version=expected_version, params={"assignee_is_member": is_member})
    ticket.assignee = assignee
    record(ticket, "assigned", actor=actor, now=now, from_status=old, to_status=new,
           assignee=assignee.name)
    clocks.on_taken(ticket, now)


def ask_requester(ticket: Ticket, *, actor: User, question: str, now: datetime,
                  settings: Settings, expected_version: int | None = None) -> None:
    old, new = move(ticket, "ask_requester", actor=actor, actor_kind=AGENT, now=now,
                    settings=settings, expected_version=expected_version,
                    params={"message": question})
    _add_message(ticket, actor, question.strip(), internal=False, now=now, settings=settings)
    record(ticket, "asked_requester", actor=actor, now=now, from_status=old, to_status=new)
    clocks.on_public_reply(ticket, now)


def requester_reply(
    ticket: Ticket, *, actor: User, body: str, now: datetime, settings: Settings,
    uploads: Iterable[attachment_store.Upload] = (),
) -> Message:
    """The requester writes on their ticket: an answer, a reopening, or more detail.

    What it does to the ticket depends on where the ticket is: a ticket waiting
    for them goes back to work; a resolved or closed one reopens if the window
    allows (else the workflow refuses with the reason).
    """
    params = {"message": body}
    event = None
    if ticket.status == "waiting_for_customer":
        event = "requester_replied"
    elif ticket.status in ("resolved", "closed"):
        event = "reopen"
    if event:
        old, new = move(ticket, event, actor=actor, actor_kind=REQUESTER, now=now,
                        settings=settings, params=params)
    elif not body.strip():
        raise DomainError(N_("Write a message."))
    elif ticket.status == "cancelled":
        raise DomainError(N_("This ticket was cancelled; please submit a new ticket."))
    message = _add_message(ticket, actor, body.strip(), internal=False, now=now,
                           uploads=uploads, settings=settings)
    if event == "reopen":
        _reopen_effects(ticket, actor, now, old, new)
    elif event:
        record(ticket, "requester_replied", actor=actor, now=now, from_status=old, to_status=new)
    else:
        touch(ticket, actor, now)
        record(ticket, "requester_replied", actor=actor, now=now)
    bulk.flush()
    return message


def _reopen_effects(ticket: Ticket, actor: User | None, now: datetime, old: str, new: str) -> None:
    # A reopened ticket goes back to the group that keeps the customer, unassigned. The
    # history comes last: what listens to it (a webhook's payload) sees the reopened ticket.
    resolved_by = ticket.assigned_group
    ticket.assigned_group = ticket.owner_group
    ticket.resolved_at = None
    ticket.closed_at = None
    ticket.assignee = None
    clocks.on_group_changed(ticket, ticket.owner_group, now)
    record(ticket, "reopened", actor=actor, now=now, from_status=old, to_status=new,
           from_group=resolved_by, to_group=ticket.owner_group)


def reopen_ticket(ticket: Ticket, *, actor: User, actor_kind: str, message: str, now: datetime,
                  settings: Settings, expected_version: int | None = None) -> None:
    """Reopen a resolved or closed ticket within the window, saying why (publicly)."""
    old, new = move(ticket, "reopen", actor=actor, actor_kind=actor_kind, now=now,
                    settings=settings, expected_version=expected_version,
                    params={"message": message})
    _add_message(ticket, actor, message.strip(), internal=False, now=now, settings=settings)
    _reopen_effects(ticket, actor, now, old, new)


def resolve_ticket(ticket: Ticket, *, actor: User, note: str, now: datetime, settings: Settings,
                   expected_version: int | None = None) -> None:
    old, new = move(ticket, "resolve", actor=actor, actor_kind=AGENT, now=now, settings=settings,
                    expected_version=expected_version, params={"note": note})
    ticket.resolution = note.strip()
    ticket.resolved_at = now
    _add_message(ticket, actor, note.strip(), internal=False, now=now, settings=settings)
    record(ticket, "resolved", actor=actor, now=now, from_status=old, to_status=new,
           reason=note.strip())
    # The resolution note is the agent's public word to the requester, too.
    clocks.on_public_reply(ticket, now)


def confirm_resolution(ticket: Ticket, *, actor: User, now: datetime, settings: Settings) -> None:
    old, new = move(ticket, "confirm", actor=actor, actor_kind=REQUESTER, now=now,
                    settings=settings)
    ticket.closed_at = now
    record(ticket, "confirmed", actor=actor, now=now, from_status=old, to_status=new)


def cancel_ticket(ticket: Ticket, *, actor: User, actor_kind: str, reason: str, now: datetime,
                  settings: Settings, expected_version: int | None = None) -> None:
    old, new = move(ticket, "cancel", actor=actor, actor_kind=actor_kind, now=now,
                    settings=settings, expected_version=expected_version,
                    params={"reason": reason})
    ticket.closed_at = now
    record(ticket, "cancelled", actor=actor, now=now, from_status=old, to_status=new,
           reason=reason.strip())


def change_priority(ticket: Ticket, *, impact: int, urgency: int, actor: User | None,
                    reason: str, now: datetime, settings: Settings,
                    expected_version: int | None = None) -> None:
    """New impact and urgency; the SLA targets follow the new priority from now on."""
    check_version(ticket, expected_version)
    if not reason.strip():
        raise DomainError(N_("Give a reason."))
    old = ticket.priority
    ticket.impact, ticket.urgency = impact, urgency
    ticket.priority = priority_for(impact, urgency, settings.priority_matrix)
    touch(ticket, actor, now)
    record(ticket, "priority_changed", actor=actor, now=now, reason=reason.strip(),
           from_priority=old, to_priority=ticket.priority)
    if ticket.priority != old:
        clocks.on_priority_changed(ticket, now)


def auto_close_resolved(*, now: datetime, settings: Settings) -> list[str]:
    """Close tickets resolved ``autoclose_days`` or more ago; returns their references."""
    cutoff = now - timedelta(days=settings.autoclose_days)
    due = db.session.scalars(
        select(Ticket).where(Ticket.status == "resolved", Ticket.resolved_at <= cutoff)
        .order_by(Ticket.id)
    ).all()
    for ticket in due:
        old, new = move(ticket, "auto_close", actor=None, actor_kind=SYSTEM, now=now,
                        settings=settings)
        ticket.closed_at = now
        record(ticket, "auto_closed", actor=None, now=now, from_status=old, to_status=new,
               days=settings.autoclose_days)
    db.session.flush()
    return [t.reference for t in due]
