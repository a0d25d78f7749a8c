"""A small October 2026 (Europe/Stockholm) whose report figures are worked out by hand,
and (``build_march_olas``, at the end) two tickets at level 2 in March for the OLA figures.

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
from typing import Any
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
from helpdesk.tiers.operations import escalate_ticket, return_to_level_1
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


def build_march_olas(sla_org: Any, factory: Any, settings: Settings) -> tuple[Ticket, Ticket]:
    """Two tickets escalated to level 2 (OLA: taken within 1 h, passed on within 8 h) on
    Tuesday 10 March 2026 at 11:00. Quick: taken after 40 min, given back to level 1 after
    2 h 20 more. Slow: taken after 2 h (the OLA breached), answered at 13:30 (its first
    response, 4 h 30 after 09:00: the SLA's 4 h breached), and still with level 2, its
    handling not decided.

    March's OLA figures for level 2: taking 40 min and 2 h (one breach): median 40 min,
    90th percentile 2 h; handling 2 h 20 (one clock)."""
    org = sla_org.org
    quick, slow = (factory.ticket(org.requester, org.service, local(3, 10, 9)) for _ in range(2))
    for ticket in (quick, slow):
        take_ticket(ticket, actor=org.local_agent, now=local(3, 10, 9, 30), settings=settings)
        escalate_ticket(ticket, to_group=org.level2, actor=org.local_agent, reason="Servern",
                        now=local(3, 10, 11), settings=settings)
    take_ticket(quick, actor=org.level2_agent, now=local(3, 10, 11, 40), settings=settings)
    return_to_level_1(quick, actor=org.level2_agent, reason="Klientfel", now=local(3, 10, 14),
                      settings=settings)
    take_ticket(slow, actor=org.level2_agent, now=local(3, 10, 13), settings=settings)
    add_reply(slow, actor=org.level2_agent, body="Vi tittar på servern.", internal=False,
              now=local(3, 10, 13, 30), settings=settings)
    return quick, slow
