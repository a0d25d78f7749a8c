"""A small October 2026 (Europe/Stockholm) whose report figures are worked out by hand.

The calendar is Mon–Fri 08–17 local; P3 targets are 4 h (first response) and 24 h
(resolution). Summer time ends on Sunday 25 October. Business hours per ticket:

- paused: Mon 5 10:00 asks the requester (pauses), answer Tue 6 10:00, solved 12:00.
  First response 1 h; resolution 1 + 2 = 3 h.
- late: created Thu 1 09:00, first reply Fri 2 09:00, solved 10:00.
  First response 8 + 1 = 9 h (breached); resolution 10 h.
- reopened: created Mon 12 08:00, solved 10:00, reopened Wed 14 08:00, solved Fri 16 14:00.
  First response 2 h; resolution 2 + 9 + 9 + 6 = 26 h (breached).
- from_september: created Wed 30 Sep 16:00, reply 16:30 (a September first response),
  solved Thu 1 Oct 10:00: resolution 1 + 2 = 3 h.
- into_november: created Fri 30 Oct 16:00, reply 16:30 (0.5 h), solved Sun 1 Nov 00:30
  local time, still 31 October in UTC: a November resolution of 1 h.
- dst: created Fri 23 16:00 CEST, reply Mon 26 09:00 CET (1 + 1 = 2 h), solved 10:00 (3 h).

October's first responses: 0.5, 1, 2, 2, 9 h (one breach): median (rank 3) 2 h, 90th
percentile (rank 5) 9 h. Resolutions: 3, 3, 3, 10, 26 h (one breach): median 3 h, p90 26 h.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from helpdesk.config import Settings
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.operations import (
    add_reply,
    ask_requester,
    reopen_ticket,
    requester_reply,
    resolve_ticket,
    take_ticket,
)
from helpdesk.workflows.definitions import REQUESTER

STOCKHOLM = ZoneInfo("Europe/Stockholm")
HOUR = 3_600_000_000


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=STOCKHOLM).astimezone(UTC)


@dataclass
class October:
    paused: Ticket
    late: Ticket
    reopened: Ticket
    from_september: Ticket
    into_november: Ticket
    dst: Ticket


def build_october(sla_org, factory, settings: Settings) -> October:
    org = sla_org.org
    agent, requester = org.local_agent, org.requester

    def new(month: int, day: int, hour: int, minute: int = 0) -> Ticket:
        at = local(month, day, hour, minute)
        ticket = factory.ticket(requester, org.service, at)
        take_ticket(ticket, actor=agent, now=at, settings=settings)
        return ticket

    def reply(ticket: Ticket, at: datetime) -> None:
        add_reply(ticket, actor=agent, body="Vi tittar på det.", internal=False, now=at,
                  settings=settings)

    def solve(ticket: Ticket, at: datetime) -> None:
        resolve_ticket(ticket, actor=agent, note="Löst.", now=at, settings=settings)

    paused = new(10, 5, 9)
    ask_requester(paused, actor=agent, question="Vilken skrivare?", now=local(10, 5, 10),
                  settings=settings)
    requester_reply(paused, actor=requester, body="Plan 2.", now=local(10, 6, 10), settings=settings)
    solve(paused, local(10, 6, 12))

    late = new(10, 1, 9)
    reply(late, local(10, 2, 9))
    solve(late, local(10, 2, 10))

    reopened = new(10, 12, 8)
    solve(reopened, local(10, 12, 10))
    reopen_ticket(reopened, actor=requester, actor_kind=REQUESTER, message="Det hände igen.",
                  now=local(10, 14, 8), settings=settings)
    take_ticket(reopened, actor=agent, now=local(10, 14, 8), settings=settings)
    solve(reopened, local(10, 16, 14))

    from_september = new(9, 30, 16)
    reply(from_september, local(9, 30, 16, 30))
    solve(from_september, local(10, 1, 10))

    into_november = new(10, 30, 16)
    reply(into_november, local(10, 30, 16, 30))
    solve(into_november, local(11, 1, 0, 30))

    dst = new(10, 23, 16)
    reply(dst, local(10, 26, 9))
    solve(dst, local(10, 26, 10))
    return October(paused, late, reopened, from_september, into_november, dst)
