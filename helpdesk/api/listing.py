"""Ticket lists for the API: the caller's visible tickets, filtered, sorted, by cursor.

A cursor holds the sort values of the last ticket on the page (base64 JSON), so the
next page starts right after it however many tickets arrive meanwhile, and the
database reads on from the index instead of skipping an offset. It also holds a short
hash of the sort and filters it was given out for: a position in one list means nothing
in another, and read there it would silently skip or repeat tickets.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import selectinload

from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import visible_as_staff, visible_tickets
from helpdesk.api.problems import ApiProblem
from helpdesk.catalogue.models import Service
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from helpdesk.tiers.models import SupportGroup
from helpdesk.tiers.queries import STATUS_FILTERS

# sort name -> (column, ascending)
_SORTS: dict[str, tuple[Any, bool]] = {
    "sla_due": (Ticket.sla_due_at, True),
    "priority": (Ticket.priority, True),
    "created": (Ticket.created_at, True),
    "-created": (Ticket.created_at, False),
    "updated": (Ticket.updated_at, True),
    "-updated": (Ticket.updated_at, False),
}
# A requester's list by change time is by the last change they can see (schemas.
# RequestersTicketOut): an internal note must not bring a ticket to the top of it.
_REQUESTERS_SORTS = {**_SORTS, "updated": (Ticket.public_updated_at, True),
                     "-updated": (Ticket.public_updated_at, False)}


@dataclass(frozen=True)
class Page:
    items: list[Ticket]
    next_cursor: str | None
    # Of the items, the ids of those the caller sees as their requester, not as staff.
    seen_as_requester: frozenset[int] = frozenset()


# What may change between the pages of one list: everything else in the query defines it.
_PAGING = ("limit", "cursor")


_NOT_OURS = ("The cursor is not one this API gave out.", N_("Not a cursor from next_cursor."))
_OTHER_LIST = ("The cursor is from a list with another sort or other filters.",
               N_("Not a cursor from next_cursor of a list with this sort and these filters."))


def _list_key(q: dict[str, Any]) -> str:
    """The sort and filters as the query applies them (so 09:00Z and 10:00+01:00 are one
    list), hashed short: the cursor stays compact and says nothing of the filters."""
    defining = {name: value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value
                for name, value in q.items() if name not in _PAGING}
    text = json.dumps(defining, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _encode(ticket: Ticket, column: Any, key: str) -> str:
    value = getattr(ticket, column.key)
    shown = value.isoformat() if isinstance(value, datetime) else value
    text = json.dumps([key, shown, ticket.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode()


def _refused(detail: str, error: str) -> ApiProblem:
    return ApiProblem(400, detail, errors={"cursor": [error]})


def _decode(cursor: str, column: Any, key: str) -> tuple[Any, int]:
    try:
        given_key, value, last_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
            if value.tzinfo is not None:
                value = value.astimezone(UTC)  # OverflowError for a time outside the years 1-9999
        if (not isinstance(given_key, str) or not isinstance(last_id, int)
                or isinstance(last_id, bool) or abs(last_id) >= 2**31
                or isinstance(value, bool) or (isinstance(value, int) and abs(value) >= 2**31)
                or (isinstance(value, datetime) and value.tzinfo is None)):
            raise ValueError("bad cursor")
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError) as exc:
        raise _refused(*_NOT_OURS) from exc
    # Before the value's type: a priority cursor sent with sort=sla_due is another
    # list's cursor, not a forged one.
    if given_key != key:
        raise _refused(*_OTHER_LIST)
    expected = int if column is Ticket.priority else datetime
    if ((value is None and column is not Ticket.sla_due_at)
            or (value is not None and not isinstance(value, expected))):
        raise _refused(*_NOT_OURS)
    return value, last_id


def _after(column: Any, ascending: bool, value: Any, last_id: int) -> ColumnElement[bool]:
    if column is Ticket.sla_due_at:  # ascending, tickets without a due time last
        if value is None:
            return and_(column.is_(None), Ticket.id > last_id)
        return or_(column > value, and_(column == value, Ticket.id > last_id), column.is_(None))
    if ascending:
        return or_(column > value, and_(column == value, Ticket.id > last_id))
    return or_(column < value, and_(column == value, Ticket.id < last_id))


def _code_filter(model: Any, code: str) -> Any:
    return select(model.id).where(model.code == code).scalar_subquery()


def _by_sla(q: dict[str, Any]) -> bool:
    return q["sla_state"] is not None or q["sort"] == "sla_due"


def _for(user: User, q: dict[str, Any]) -> dict[str, Any]:
    """The query as this user's list reads it. Requesters see no SLA times (schemas.
    STAFF_ONLY), so they may not filter or sort by them either, nor read a due time from a
    cursor; staff's list by the SLA holds the tickets they see as staff, not their own."""
    if not user.is_staff and _by_sla(q):
        field = "sla_state" if q["sla_state"] is not None else "sort"
        raise ApiProblem(403, "Only staff filter or sort tickets by their SLA.",
                         errors={field: [N_("Only staff filter or sort by the SLA.")]})
    # Addresses are stored in lower case (User.email): any case finds the requester.
    return {**q, "sort": q["sort"] or ("sla_due" if user.is_staff else "-created"),
            "requester": q["requester"] and q["requester"].lower()}


def list_tickets(user: User, q: dict[str, Any]) -> Page:
    q = _for(user, q)
    query = select(Ticket).where(visible_as_staff(user) if _by_sla(q) else visible_tickets(user))
    if q["group"]:
        query = query.where(Ticket.assigned_group_id == _code_filter(SupportGroup, q["group"]))
    if q["tier"]:
        query = query.where(Ticket.assigned_group_id.in_(
            select(SupportGroup.id).where(SupportGroup.tier == q["tier"])))
    if q["status"]:
        states = STATUS_FILTERS.get(q["status"], {q["status"]})
        query = query.where(Ticket.status.in_(sorted(states)))
    if q["priority"]:
        query = query.where(Ticket.priority == q["priority"])
    if q["service"]:
        query = query.where(Ticket.service_id == _code_filter(Service, q["service"]))
    if q["requester"]:
        query = query.where(Ticket.requester_id == select(User.id).where(
            User.email == q["requester"]).scalar_subquery())
    if q["sla_state"]:
        query = query.where(Ticket.sla_state.is_(None) if q["sla_state"] == "none"
                            else Ticket.sla_state == q["sla_state"])
    changed_at = Ticket.updated_at if user.is_staff else Ticket.public_updated_at
    if q["updated_since"]:
        query = query.where(changed_at >= q["updated_since"])
    column, ascending = (_SORTS if user.is_staff else _REQUESTERS_SORTS)[q["sort"]]
    key = _list_key(q)
    if q["cursor"]:
        query = query.where(_after(column, ascending, *_decode(q["cursor"], column, key)))
    if column is Ticket.sla_due_at:
        order = (column.asc().nulls_last(), Ticket.id.asc())
    else:
        order = (column.asc(), Ticket.id.asc()) if ascending else (column.desc(), Ticket.id.desc())
    query = query.order_by(*order).limit(q["limit"] + 1).options(
        selectinload(Ticket.service), selectinload(Ticket.assignee), selectinload(Ticket.requester),
        selectinload(Ticket.owner_group), selectinload(Ticket.assigned_group),
        selectinload(Ticket.attachments))
    rows = list(db.session.scalars(query))
    more = len(rows) > q["limit"]
    items = rows[: q["limit"]]
    # A list by the SLA holds only what the caller sees as staff (requesters get none).
    seen_as_requester = frozenset() if _by_sla(q) else _seen_as_requester(user, items)
    return Page(items, _encode(items[-1], column, key) if more and items else None,
                seen_as_requester)


def _seen_as_requester(user: User, items: list[Ticket]) -> frozenset[int]:
    own = [ticket.id for ticket in items if ticket.requester_id == user.id]
    if not own or not user.is_staff:
        return frozenset(own)
    as_staff = db.session.scalars(select(Ticket.id).where(Ticket.id.in_(own),
                                                          visible_as_staff(user)))
    return frozenset(own) - set(as_staff)
