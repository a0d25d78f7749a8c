"""Staff open tickets of their own: on those they are the requester, as in the portal,
and staff for the rest of the workflow."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket, TicketEvent
from tests.web.api.client import new_ticket


def kinds(reference: str) -> list[str]:
    ticket = db.session.scalars(select(Ticket).where(Ticket.reference == reference)).one()
    return list(db.session.scalars(select(TicketEvent.kind).where(
        TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)))


def test_an_administrators_answer_on_their_own_ticket_resumes_it_and_they_confirm_it(apis):
    admin, desk = apis["admin"], apis["desk_agent"]
    reference = new_ticket(admin)["reference"]  # routed to the service desk
    desk.post(f"/tickets/{reference}/events", json={"event": "take"})
    desk.post(f"/tickets/{reference}/events",
              json={"event": "ask_requester", "message": "Vilken dator?"})

    answered = admin.post(f"/tickets/{reference}/messages", json={"body": "Min laptop."})

    assert answered.status_code == 201
    assert admin.get(f"/tickets/{reference}").json["status"] == "in_progress"
    assert kinds(reference)[-1] == "requester_replied"  # not a staff reply to oneself
    desk.post(f"/tickets/{reference}/events", json={"event": "resolve", "note": "Klart."})
    confirmed = admin.post(f"/tickets/{reference}/events", json={"event": "confirm"})
    assert confirmed.status_code == 200, confirmed.json
    assert confirmed.json["status"] == "closed"


def test_an_agent_stays_staff_on_their_own_ticket_for_the_rest(apis):
    desk = apis["desk_agent"]
    reference = new_ticket(apis["admin"])["reference"]
    own = new_ticket(desk)["reference"]
    assert desk.post(f"/tickets/{own}/messages",
                     json={"body": "Kolla loggen.", "internal": True}).status_code == 201
    taken = desk.post(f"/tickets/{own}/events", json={"event": "take"})
    assert taken.status_code == 200, taken.json
    refused = desk.post(f"/tickets/{own}/events", json={"event": "confirm"})
    assert refused.status_code == 409
    assert {"confirm"}.isdisjoint(refused.json["allowed_events"])
    assert "resolve" in refused.json["allowed_events"]
    # Someone else's ticket: the same agent's public word is staff's.
    desk.post(f"/tickets/{reference}/events", json={"event": "take"})
    desk.post(f"/tickets/{reference}/messages", json={"body": "Jag tittar på det."})
    assert kinds(reference)[-1] == "replied"


def test_an_agent_working_their_own_ticket_writes_on_it_as_staff_once_it_is_resolved(apis):
    desk = apis["desk_agent"]
    own = new_ticket(desk)["reference"]
    desk.post(f"/tickets/{own}/events", json={"event": "take"})
    desk.post(f"/tickets/{own}/events", json={"event": "resolve", "note": "Klart."})

    after = desk.post(f"/tickets/{own}/messages", json={"body": "PS: loggen bifogad."})

    assert after.status_code == 201
    shown = desk.get(f"/tickets/{own}").json
    assert shown["status"] == "resolved" and shown["assignee"] is not None
    assert kinds(own)[-1] == "replied"  # not reopened by its own worker's afterword


def test_staff_see_their_own_ticket_outside_their_groups_as_its_requester(apis, sla_org):
    expert = apis["level3_agent"]
    own = new_ticket(expert)["reference"]  # routed to the service desk: not theirs to work

    newest = expert.get("/tickets", query_string={"sort": "-created"}).json["items"]
    [listed] = [t for t in newest if t["reference"] == own]
    for shown in (expert.get(f"/tickets/{own}").json, listed):
        assert "sla_due_at" not in shown and "sla_state" not in shown
    # A list by the SLA is a work queue: their own ticket is not in it.
    by_due = expert.get("/tickets", query_string={"sort": "sla_due"}).json["items"]
    assert own not in [t["reference"] for t in by_due]
    assert apis["desk_agent"].get(f"/tickets/{own}").json["sla_state"] == "ok"
