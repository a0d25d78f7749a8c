"""Handing a ticket to an external vendor, hearing back, and taking it back.

Each function asks the workflow first, then changes the ticket and the handoff,
starts or stops the UC clocks and records what happened. They flush; the caller
commits once (the mail to the vendor is in the outbox, sent after the commit).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.config import Settings
from helpdesk.core.errors import DomainError
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.sla import clocks
from helpdesk.sla.models import Metric
from helpdesk.tickets import attachments as attachment_store
from helpdesk.tickets.history import record
from helpdesk.tickets.models import Message, Ticket
from helpdesk.tickets.operations import add_incoming_note, check_version, move, touch
from helpdesk.vendors import outbound
from helpdesk.vendors.models import (
    HandoffMail,
    HandoffStatus,
    ServiceVendor,
    Vendor,
    VendorHandoff,
)
from helpdesk.workflows.definitions import AGENT, SYSTEM

WAITING_FOR_VENDOR = "waiting_for_vendor"


def vendor_routes(ticket: Ticket) -> list[ServiceVendor]:
    """The vendors this ticket's service may be handed to, and from which level."""
    return list(db.session.scalars(
        select(ServiceVendor).where(ServiceVendor.service_id == ticket.service_id)
        .order_by(ServiceVendor.from_level, ServiceVendor.id)).all())


def allowed_routes(ticket: Ticket) -> list[ServiceVendor]:
    """Those the ticket may be handed to now: from the tier of the group working it."""
    busy = {h.vendor_id for h in active_handoffs(ticket)}
    return [r for r in vendor_routes(ticket)
            if r.from_level <= ticket.assigned_group.tier and r.vendor_id not in busy]


def handoffs(ticket: Ticket) -> list[VendorHandoff]:
    return list(db.session.scalars(select(VendorHandoff).where(VendorHandoff.ticket_id == ticket.id)
                                   .order_by(VendorHandoff.id)).all())


def active_handoffs(ticket: Ticket) -> list[VendorHandoff]:
    return [h for h in handoffs(ticket) if h.active]


def hand_off_to_vendor(ticket: Ticket, *, vendor: Vendor, actor: User, message: str,
                       now: datetime, settings: Settings,
                       expected_version: int | None = None) -> VendorHandoff:
    """An agent of the group working the ticket hands it to a vendor the service allows at
    that group's level; the vendor gets a mail with our tag, and the UC clocks start."""
    check_version(ticket, expected_version)
    if actor not in ticket.assigned_group.members:
        raise DomainError(N_("Only members of %(group)s can hand this ticket to a vendor."),
                          group=ticket.assigned_group.name)
    if any(h.vendor_id == vendor.id for h in active_handoffs(ticket)):
        raise DomainError(N_("The ticket is already with %(vendor)s."), vendor=vendor.name)
    route = next((r for r in allowed_routes(ticket) if r.vendor_id == vendor.id), None)
    old, new = move(ticket, "hand_to_vendor", actor=actor, actor_kind=AGENT, now=now,
                    settings=settings, params={"message": message,
                                               "vendor_allowed": route is not None})
    assert route is not None  # the workflow's vendor_allowed guard refused otherwise
    contract = route.contract
    handoff = VendorHandoff(ticket=ticket, vendor=vendor, contract=contract,
                            from_group=ticket.assigned_group, handed_by=actor, handed_at=now,
                            message=message.strip(), status=HandoffStatus.WAITING)
    db.session.add(handoff)
    note = Message(ticket=ticket, author=actor, body=message.strip(), internal=True,
                   created_at=now)
    db.session.add(note)
    db.session.add(HandoffMail(handoff=handoff, message=note, incoming=False,
                               sender=actor.email))
    db.session.flush()
    for metric, what in ((Metric.UC_RESPONSE, "response"), (Metric.UC_RESOLUTION, "resolution")):
        minutes = contract.target_minutes(ticket.priority, what)
        if minutes is not None:
            clocks.start_uc_clock(ticket, metric, handoff=handoff, calendar=contract.calendar,
                                  target_minutes=minutes, warning_percent=contract.warning_percent,
                                  group=handoff.from_group, now=now)
    handoff.mail_message_id = outbound.send_handoff(handoff, now=now, settings=settings)
    record(ticket, "handed_to_vendor", actor=actor, now=now, from_status=old, to_status=new,
           from_group=handoff.from_group, reason=handoff.message, vendor=vendor.code,
           vendor_name=vendor.name, contract=contract.code, handoff_id=handoff.id)
    db.session.flush()
    return handoff


def record_vendor_reply(
    handoff: VendorHandoff, *, body: str, now: datetime, settings: Settings,
    actor: User | None = None, sender: str = "", case_number: str | None = None,
    solved: bool = False, uploads: Iterable[attachment_store.Upload] = (),
    expected_version: int | None = None,
) -> Message:
    """What the vendor wrote, by mail (``actor`` None) or as an agent noted it from a call.

    It is kept as an internal note on the ticket (the requester does not read the
    vendor's mail), marks the vendor's first answer on the UC, and notes the
    vendor's case number the first time it is seen. A reply that reports a
    solution sends the ticket back to the group that handed it over.
    """
    ticket = handoff.ticket
    check_version(ticket, expected_version)
    if actor is None and not body.strip():
        body = "-"
    if not body.strip():
        raise DomainError(N_("Write what the vendor answered."))
    moved = None
    if handoff.active and not solved:
        moved = move(ticket, "vendor_replied", actor=actor,
                     actor_kind=AGENT if actor else SYSTEM, now=now, settings=settings)
    message = add_incoming_note(ticket, author=actor, body=body, now=now, settings=settings,
                                event="vendor_replied", uploads=uploads, vendor=handoff.vendor.code,
                                vendor_name=handoff.vendor.name, handoff_id=handoff.id,
                                sender=sender,
                                **({} if handoff.active else {"late": True}))
    db.session.add(HandoffMail(handoff=handoff, message=message, incoming=True, sender=sender))
    if moved is None:
        touch(ticket, actor, now)
    learn_case_number(handoff, case_number, now=now)
    if handoff.first_reply_at is None:
        handoff.first_reply_at = now
        clocks.stop_uc_clocks(ticket, handoff.id, now, "vendor_replied",
                              frozenset({Metric.UC_RESPONSE}))
    if solved and handoff.active:
        _close(handoff, HandoffStatus.SOLVED, actor=actor, now=now, note=body.strip())
        _back_to_group(handoff, "vendor_solved", "vendor_solved", actor=actor, now=now,
                       settings=settings, reason=body.strip())
    db.session.flush()
    return message


def write_to_vendor(handoff: VendorHandoff, *, actor: User, body: str, now: datetime,
                    settings: Settings, expected_version: int | None = None) -> Message:
    """A further message to the vendor on an open handoff (a question, more detail), mailed
    in the handoff's thread; kept on the ticket as an internal note."""
    ticket = handoff.ticket
    check_version(ticket, expected_version)
    if not handoff.active:
        raise DomainError(N_("This handoff is no longer open."))
    if not body.strip():
        raise DomainError(N_("Write a message."))
    message = Message(ticket=ticket, author=actor, body=body.strip(), internal=True,
                      created_at=now)
    db.session.add(message)
    db.session.add(HandoffMail(handoff=handoff, message=message, incoming=False,
                               sender=actor.email))
    touch(ticket, actor, now)
    answering = next((m.message.mail_message_id for m in reversed(handoff.mails)
                      if m.incoming and m.message.mail_message_id), handoff.mail_message_id)
    outbound.send_message(handoff, body.strip(), actor, answering=answering, now=now,
                          settings=settings)
    record(ticket, "written_to_vendor", actor=actor, now=now, vendor=handoff.vendor.code,
           vendor_name=handoff.vendor.name, handoff_id=handoff.id)
    db.session.flush()
    return message


def learn_case_number(handoff: VendorHandoff, case_number: str | None, *, now: datetime) -> None:
    """The vendor's own case number, the first time it is seen (later ones are not taken)."""
    if not case_number or handoff.case_number:
        return
    handoff.case_number = case_number[:100]
    record(handoff.ticket, "vendor_case_number", actor=None, now=now, vendor=handoff.vendor.code,
           vendor_name=handoff.vendor.name, handoff_id=handoff.id,
           case_number=handoff.case_number)


def vendor_solved(handoff: VendorHandoff, *, actor: User | None, note: str, now: datetime,
                  settings: Settings, expected_version: int | None = None) -> None:
    """The vendor reports a solution (told by phone, say, and noted by an agent)."""
    check_version(handoff.ticket, expected_version)
    if not handoff.active:
        raise DomainError(N_("This handoff is no longer open."))
    if not note.strip():
        raise DomainError(N_("Write what the vendor did."))
    record_vendor_reply(handoff, body=note, now=now, settings=settings, actor=actor,
                        sender=actor.email if actor else "", solved=True)


def recall_handoff(handoff: VendorHandoff, *, actor: User, reason: str, now: datetime,
                   settings: Settings, expected_version: int | None = None) -> None:
    """The group takes the ticket back from the vendor; the vendor is told so by mail."""
    check_version(handoff.ticket, expected_version)
    if not handoff.active:
        raise DomainError(N_("This handoff is no longer open."))
    if not reason.strip():
        raise DomainError(N_("Give a reason."))
    _close(handoff, HandoffStatus.RECALLED, actor=actor, now=now, note=reason.strip())
    _back_to_group(handoff, "recall_handoff", "handoff_recalled", actor=actor, now=now,
                   settings=settings, reason=reason.strip())
    outbound.send_recall(handoff, now=now, settings=settings)
    db.session.flush()


def _close(handoff: VendorHandoff, status: HandoffStatus, *, actor: User | None, now: datetime,
           note: str) -> None:
    handoff.status = status
    handoff.closed_at = now
    handoff.closed_by = actor
    handoff.outcome_note = note
    clocks.stop_uc_clocks(handoff.ticket, handoff.id, now, status_reason(status))


def status_reason(status: HandoffStatus) -> str:
    return {HandoffStatus.SOLVED: "vendor_solved",
            HandoffStatus.RECALLED: "handoff_recalled"}.get(status, status.value)


def _back_to_group(handoff: VendorHandoff, event: str, kind: str, *, actor: User | None,
                   now: datetime, settings: Settings, reason: str) -> None:
    """Back to the group that handed over, once no other vendor still holds the ticket."""
    ticket = handoff.ticket
    still_out = [h for h in active_handoffs(ticket) if h.id != handoff.id]
    old = new = ticket.status
    if not still_out and ticket.status == WAITING_FOR_VENDOR:
        old, new = move(ticket, event, actor=actor, actor_kind=AGENT if actor else SYSTEM,
                        now=now, settings=settings, params={"reason": reason})
    else:
        touch(ticket, actor, now)
    from_group = ticket.assigned_group
    if new != WAITING_FOR_VENDOR and from_group.id != handoff.from_group_id:
        ticket.assigned_group = handoff.from_group
        ticket.assignee = None
        clocks.on_group_changed(ticket, handoff.from_group, now)
    record(ticket, kind, actor=actor, now=now, from_status=old, to_status=new,
           from_group=from_group, to_group=handoff.from_group, reason=reason,
           vendor=handoff.vendor.code, vendor_name=handoff.vendor.name, handoff_id=handoff.id,
           still_with=[h.vendor.code for h in still_out])
