"""Ticket endpoints: each one loads, checks access, calls one operation, answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request, url_for
from flask_babel import get_locale
from sqlalchemy import select

from helpdesk.accounts import permissions
from helpdesk.accounts.permissions import Access
from helpdesk.api import schemas
from helpdesk.api.auth import api_user
from helpdesk.api.blueprint import bp
from helpdesk.api.http import (
    answer,
    check_if_match,
    invalid,
    load,
    load_json,
    load_query,
    prefers_async,
)
from helpdesk.api.listing import list_tickets
from helpdesk.api.problems import BUSY, ApiProblem
from helpdesk.catalogue.forms import ANSWERED_TWICE
from helpdesk.core.errors import (
    DatabaseBusy,
    DomainError,
    InputRefused,
    InvalidInput,
    NotFound,
    TransitionRefused,
)
from helpdesk.extensions import db
from helpdesk.tickets import intake
from helpdesk.tickets import operations as ops
from helpdesk.tickets.agent_views import ACTIONS, agent_events
from helpdesk.tickets.models import Channel, Ticket, TicketType
from helpdesk.tickets.upload_policy import FileRefused
from helpdesk.web import edge
from helpdesk.workflows.definitions import REQUESTER

NO_TICKET = "No such ticket, or you may not see it."

# Made once: a schema keeps nothing between loads and dumps, and making one copies every field.
TICKET_LIST_QUERY = schemas.TicketListQuery()
TICKET_PAGE = schemas.TicketPage()
REQUESTERS_TICKET_PAGE = schemas.RequestersTicketPage()
TICKET_CREATE = schemas.TicketCreate()
TICKET_OUT = schemas.TicketOut()
STAFF_AS_REQUESTER_OUT = schemas.TicketOut(exclude=schemas.STAFF_ONLY)
REQUESTERS_TICKET_OUT = schemas.RequestersTicketOut()
TICKET_EVENT_REQUEST = schemas.TicketEventRequest()
MESSAGES_OUT = schemas.MessageOut(many=True)
REQUESTERS_MESSAGES_OUT = schemas.RequestersMessageOut(many=True)
MESSAGE_FORM = schemas.MessageForm()
MESSAGE_CREATE = schemas.MessageCreate()
MESSAGE_OUT = schemas.MessageOut()
REQUESTERS_MESSAGE_OUT = schemas.RequestersMessageOut()
INTAKE_OUT = schemas.IntakeOut()


def ticket_out(access: Access) -> schemas.TicketOut:
    """The ticket as this caller sees it: as staff, or as its requester (schemas.STAFF_ONLY);
    staff on their own ticket read its own version (http.version_seen)."""
    if access:
        return TICKET_OUT
    return STAFF_AS_REQUESTER_OUT if api_user().is_staff else REQUESTERS_TICKET_OUT


def visible_ticket(reference: str) -> tuple[Ticket, Access]:
    """The ticket and the caller's staff access; NONE means they see it as its requester."""
    user = api_user()
    ticket = db.session.scalar(select(Ticket).where(Ticket.reference == reference))
    if ticket is None:
        raise ApiProblem(404, NO_TICKET)
    access = permissions.staff_access(user, ticket)
    if access == Access.NONE and not permissions.is_requester_of(user, ticket):
        raise ApiProblem(404, NO_TICKET)
    return ticket, access


@bp.get("/tickets")
def tickets_list() -> Response:
    page = list_tickets(api_user(), load_query(TICKET_LIST_QUERY))
    return answer(TICKET_PAGE if api_user().is_staff else REQUESTERS_TICKET_PAGE, page)


@bp.post("/tickets")
def ticket_create() -> Response:
    data = load_json(TICKET_CREATE)
    data["answers"] = _answers_by_name(data["answers"])
    if prefers_async():
        return _accept_for_later(data)
    ticket_type = TicketType(data["type"])
    try:
        service, answers = ops.checked_request(data["service"], api_user(), ticket_type,
                                               data["answers"])
        ticket = ops.create_ticket(
            requester=api_user(), service=service, subject=data["subject"],
            description=data["description"], impact=data["impact"], urgency=data["urgency"],
            ticket_type=ticket_type, confidential=data["confidential"],
            channel=Channel.API, now=edge.now(), settings=edge.settings(), form_answers=answers)
    except InvalidInput as exc:
        raise _wrong_answers(exc) from exc
    except DatabaseBusy as exc:
        raise ApiProblem(503, BUSY, headers={"Retry-After": "1"}) from exc
    except DomainError as exc:
        raise _refused_service(exc) from exc
    return answer(ticket_out(permissions.staff_access(api_user(), ticket)), ticket, 201, ticket,
                  {"Location": url_for(".ticket_get", reference=ticket.reference)},
                  commit_first=True)


def _refused_service(exc: DomainError) -> ApiProblem:
    """A ticket the service cannot take (unknown to the caller, retired, not theirs to
    order), said beside the field in the caller's language, as in the detail."""
    problem = ApiProblem.from_domain(422, exc)
    problem.errors = {"service": [problem.detail]}
    return problem


def _answers_by_name(answers: list[dict[str, Any]]) -> dict[str, Any]:
    by_name: dict[str, Any] = {}
    for given in answers:
        if given["name"] in by_name:
            raise _wrong_answers(InvalidInput({given["name"]: [ANSWERED_TWICE]}))
        by_name[given["name"]] = given["value"]
    return by_name


def _wrong_answers(exc: InvalidInput) -> ApiProblem:
    return invalid(InvalidInput({f"answers.{name}" if name else "answers": messages
                                 for name, messages in exc.errors.items()}))


def _accept_for_later(data: dict[str, Any]) -> Response:
    try:
        accepted = intake.accept_request(api_user(), data, now=edge.now())
    except InvalidInput as exc:
        raise _wrong_answers(exc) from exc
    except DomainError as exc:
        raise _refused_service(exc) from exc
    return answer(INTAKE_OUT, _intake_view(accepted), 202, headers={
        "Location": url_for(".intake_get", intake_id=accepted.id),
        "Preference-Applied": "respond-async", "Retry-After": "1"}, commit_first=True)


def _intake_view(accepted: intake.TicketIntake) -> dict[str, Any]:
    return {"id": accepted.id, "status": accepted.status.value,
            "accepted_at": accepted.accepted_at, "processed_at": accepted.processed_at,
            "ticket": accepted.ticket.reference if accepted.ticket else None,
            "retried_at": accepted.retries[-1].at if accepted.retries else None,
            "reason": accepted.reason_in(str(get_locale() or "en")) if accepted.reason else None}


@bp.get("/ticket-intake/<int:intake_id>")
def intake_get(intake_id: int) -> Response:
    """A request accepted for later: pending, created (with the ticket) or rejected (why)."""
    accepted = intake.intake_of(api_user(), intake_id)
    if accepted is None:
        raise ApiProblem(404, "No such ticket request, or it is not yours.")
    headers = {"Retry-After": "1"} if accepted.status == intake.IntakeStatus.PENDING else {}
    return answer(INTAKE_OUT, _intake_view(accepted), headers=headers)


@bp.get("/tickets/<reference>")
def ticket_get(reference: str) -> Response:
    ticket, access = visible_ticket(reference)
    return answer(ticket_out(access), ticket, ticket=ticket)


def _confirm(t: Ticket, d: dict[str, Any], **kw: Any) -> None:
    ops.confirm_resolution(t, **kw)


def _cancel(t: Ticket, d: dict[str, Any], **kw: Any) -> None:
    ops.cancel_ticket(t, actor_kind=REQUESTER, reason=d["reason"], **kw)


def _reopen(t: Ticket, d: dict[str, Any], **kw: Any) -> None:
    ops.reopen_ticket(t, actor_kind=REQUESTER, message=d["message"], **kw)


# What a requester may fire; agents fire the agent page's ACTIONS.
REQUESTER_ACTIONS: dict[str, Callable[..., None]] = {
    "confirm": _confirm, "cancel": _cancel, "reopen": _reopen}


def _requester_events(ticket: Ticket) -> list[str]:
    if not permissions.is_requester_of(api_user(), ticket):
        return []
    return [e for e in ops.available_events(ticket, REQUESTER, edge.now(), edge.settings())
            if e in schemas.REQUESTER_EVENTS]


def _allowed(ticket: Ticket, access: Access, mine: list[str]) -> list[str]:
    """The events this caller may fire: ``mine`` as the ticket's requester, then as staff."""
    if access == Access.NONE:
        return mine
    return mine + [e for e in agent_events(ticket, api_user(), access)
                   if e in ACTIONS and e not in mine]


@bp.post("/tickets/<reference>/events")
def ticket_event(reference: str) -> Response:
    ticket, access = visible_ticket(reference)
    data = load_json(TICKET_EVENT_REQUEST)
    event = data["event"]
    mine = _requester_events(ticket)
    # Staff open tickets of their own too: on those the requester's steps (confirming the
    # solution, say) are theirs as in the portal, whatever their staff access; the rest of
    # the workflow stays the staff member's.
    as_requester = access == Access.NONE or (event in REQUESTER_ACTIONS and event in mine)
    if not as_requester and access < Access.ADMIN:
        raise ApiProblem(403, "Only the group that works this ticket now can do this.")
    # After the 403: a newer version would not let this caller do it either (RFC 9110 13.2.1).
    check_if_match(ticket)
    action = REQUESTER_ACTIONS.get(event) if as_requester else ACTIONS.get(event)
    allowed = _allowed(ticket, access, mine)
    try:
        if action is None:
            raise TransitionRefused("This is not possible now.", allowed=allowed)
        action(ticket, {**data, "version": None}, actor=api_user(), now=edge.now(),
               settings=edge.settings())
    except InvalidInput as exc:
        db.session.rollback()
        raise invalid(exc) from exc
    except InputRefused as exc:  # the event may happen, with what it needs
        db.session.rollback()
        raise invalid(InvalidInput({exc.field: [exc.message]})) from exc
    except DomainError as exc:
        db.session.rollback()
        raise ApiProblem.from_domain(409, exc, allowed_events=allowed) from exc
    return answer(ticket_out(access), ticket, ticket=ticket, commit_first=True)


def _messages_of(ticket: Ticket, access: Access) -> list[Any]:
    return [m for m in ticket.messages if access or not m.internal]


@bp.get("/tickets/<reference>/messages")
def messages_list(reference: str) -> Response:
    ticket, access = visible_ticket(reference)
    return answer(MESSAGES_OUT if access else REQUESTERS_MESSAGES_OUT,
                  _messages_of(ticket, access), ticket=ticket)


def _message_input() -> tuple[dict[str, Any], list[Any]]:
    if request.mimetype != "multipart/form-data":
        return load_json(MESSAGE_CREATE), []
    data = load(MESSAGE_FORM, request.form.to_dict(flat=True))
    # A file under another name would be dropped without a word, and the client told 201.
    elsewhere = sorted(set(request.files) - {"attachments"})
    if elsewhere:
        raise ApiProblem(422, "Send files as attachments.",
                         errors={name: ["Unknown field: send files as attachments."]
                                 for name in elsewhere})
    try:
        return data, edge.checked_uploads("attachments")
    except FileRefused as exc:
        said = edge.error_text(exc)
        raise ApiProblem(exc.status, said, errors={"attachments": [said]}) from exc


@bp.post("/tickets/<reference>/messages")
def message_create(reference: str) -> Response:
    ticket, access = visible_ticket(reference)
    data, uploads = _message_input()
    user = api_user()
    if data["internal"] and not access:
        raise ApiProblem(403, "Only staff write internal notes.")
    # A public word on one's own ticket is the requester's, as in the portal, where staff
    # could not write one, and while the ticket waits for its requester: then it answers the
    # question and resumes the ticket. Otherwise staff who work the ticket write as staff.
    as_requester = (not data["internal"] and permissions.is_requester_of(user, ticket)
                    and (access < Access.OWNER or ticket.status == "waiting_for_customer"))
    if not data["internal"] and not as_requester and access < Access.OWNER:
        raise ApiProblem(403, "A consulted group writes internal notes only.")
    check_if_match(ticket)
    try:
        if as_requester:
            message = ops.requester_reply(ticket, actor=user, body=data["body"], now=edge.now(),
                                          settings=edge.settings(), uploads=uploads)
        else:
            message = ops.add_reply(ticket, actor=user, body=data["body"], internal=data["internal"],
                                    now=edge.now(), settings=edge.settings(), uploads=uploads)
    except DomainError as exc:
        db.session.rollback()
        raise ApiProblem.from_domain(409, exc, allowed_events=_allowed(
            ticket, access, _requester_events(ticket))) from exc
    return answer(MESSAGE_OUT if access else REQUESTERS_MESSAGE_OUT, message, 201, ticket,
                  commit_first=True)


@bp.get("/tickets/<reference>/attachments/<int:attachment_id>")
def attachment_get(reference: str, attachment_id: int) -> Response:
    try:
        found = permissions.attachment_for(api_user(), reference, attachment_id)
    except NotFound as exc:
        raise ApiProblem(404, "No such attachment, or you may not see it.") from exc
    return edge.download(found)
