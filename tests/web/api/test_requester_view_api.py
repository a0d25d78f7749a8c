"""A requester's API shows a ticket as the portal does: without the SLA's internal times,
with the files sent with it."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk.catalogue.models import Lifecycle
from helpdesk.core.clock import utcnow
from helpdesk.extensions import db
from helpdesk.tickets.attachments import Upload
from helpdesk.tickets.models import Ticket
from helpdesk.tiers.operations import consult_group
from tests.web.api.client import new_ticket


def test_requesters_get_no_sla_due_time_or_state_and_staff_do(apis, sla_org):
    requester, desk = apis["requester"], apis["local_agent"]
    created = new_ticket(requester)
    reference = created["reference"]

    listed = requester.get("/tickets").json["items"]
    for shown in (created, requester.get(f"/tickets/{reference}").json, *listed):
        assert "sla_due_at" not in shown and "sla_state" not in shown
    staff_view = desk.get(f"/tickets/{reference}").json
    assert staff_view["sla_state"] == "ok" and staff_view["sla_due_at"] is not None
    assert {"sla_state", "sla_due_at"} <= desk.get("/tickets").json["items"][0].keys()


@pytest.mark.parametrize("query", [{"sla_state": "breached"}, {"sort": "sla_due"}])
def test_requesters_may_not_filter_or_sort_by_the_sla_and_list_newest_first(apis, query):
    requester = apis["requester"]
    first, second = (new_ticket(requester)["reference"] for _ in range(2))
    refused = requester.get("/tickets", query_string=query)
    assert refused.status_code == 403
    assert set(refused.json["errors"]) == set(query)
    assert [t["reference"] for t in requester.get("/tickets").json["items"]] == [second, first]
    assert apis["local_agent"].get("/tickets", query_string=query).status_code == 200


def test_files_sent_with_the_ticket_are_listed_and_downloaded_by_who_may_see_it(
        apis, factory, org):
    ticket = factory.ticket(org.requester, org.service, uploads=[
        Upload("skärmbild.png", "image/png", io.BytesIO(b"\x89PNG bild"))])
    db.session.flush()
    shown = apis["requester"].get(f"/tickets/{ticket.reference}").json["attachments"]
    assert [(a["filename"], a["content_type"]) for a in shown] == [("skärmbild.png", "image/png")]
    download = f"/tickets/{ticket.reference}/attachments/{shown[0]['id']}"
    assert apis["local_agent"].get("/tickets").json["items"][0]["attachments"] == shown
    for who in ("requester", "local_agent"):
        with apis[who].get(download) as response:
            assert response.data == b"\x89PNG bild"
    assert apis["other_requester"].get(download).status_code == 404


def test_requesters_read_staff_by_name_as_in_the_portal_not_by_address(apis, org):
    requester, desk = apis["requester"], apis["local_agent"]
    reference = new_ticket(requester)["reference"]
    desk.post(f"/tickets/{reference}/events", json={"event": "take"})
    desk.post(f"/tickets/{reference}/messages", json={"body": "Vi tittar.", "internal": False})
    requester.post(f"/tickets/{reference}/messages", json={"body": "Tack!"})

    shown = requester.get(f"/tickets/{reference}").json
    assert "assignee" not in shown and shown["assignee_name"] == org.local_agent.name
    assert "assignee" not in requester.get("/tickets").json["items"][0]
    messages = requester.get(f"/tickets/{reference}/messages").json
    assert [(m["author"], m["author_name"]) for m in messages] == [
        (None, org.local_agent.name), (org.requester.email, org.requester.name)]
    # Staff read addresses, to tell colleagues apart.
    assert desk.get(f"/tickets/{reference}").json["assignee"] == org.local_agent.email
    assert desk.get(f"/tickets/{reference}/messages").json[0]["author"] == org.local_agent.email


def test_a_service_the_portal_does_not_show_is_unknown_to_a_requester(apis, factory):
    secret = factory.service(lifecycle=Lifecycle.PROPOSED, code="hemlig-fusion")
    body = {"service": "hemlig-fusion", "subject": "Fråga", "description": "Hur går det?",
            "impact": 2, "urgency": 2}
    for headers in ({}, {"Prefer": "respond-async"}):
        refused = apis["requester"].post("/tickets", json=body, headers=headers)
        assert refused.status_code == 422
        assert refused.json["errors"]["service"] == [
            "There is no service with the code hemlig-fusion."]
    # Staff know of it, and are told why not.
    staff = apis["local_agent"].post("/tickets", json=body).json
    assert secret.name in staff["errors"]["service"][0]


def test_staff_work_the_requester_cannot_see_moves_neither_their_etag_nor_change_time(
        apis, org):
    requester, desk = apis["requester"], apis["local_agent"]
    reference = new_ticket(requester)["reference"]
    desk.post(f"/tickets/{reference}/events", json={"event": "take"})
    seen = requester.get(f"/tickets/{reference}")
    staff_seen = desk.get(f"/tickets/{reference}").json
    ticket = db.session.scalars(select(Ticket).where(Ticket.reference == reference)).one()

    desk.post(f"/tickets/{reference}/messages", json={"body": "Kollar servern.", "internal": True})
    consult_group(ticket, group=org.level2, actor=org.local_agent, question="Vet ni?",
                  now=utcnow())
    db.session.flush()

    again = requester.get(f"/tickets/{reference}")
    assert again.headers["ETag"] == seen.headers["ETag"]
    assert (again.json["version"], again.json["updated_at"]) == (
        seen.json["version"], seen.json["updated_at"])
    assert requester.get("/tickets", query_string={
        "updated_since": seen.json["updated_at"]}).json["items"] == [again.json]
    later = {"updated_since": (ticket.updated_at - timedelta(microseconds=1)).isoformat()}
    assert requester.get("/tickets", query_string=later).json["items"] == []
    # A reply written on the page as it was is taken: nothing it could see had changed.
    reply = requester.post(f"/tickets/{reference}/messages", json={"body": "Tack."},
                           headers={"If-Match": seen.headers["ETag"]})
    assert reply.status_code == 201
    assert reply.headers["ETag"] != seen.headers["ETag"]
    # Staff's version follows every change, their own notes too.
    assert desk.get(f"/tickets/{reference}").json["version"] > staff_seen["version"] + 1


def test_a_change_the_requester_can_see_makes_their_stale_etag_412(apis):
    requester, desk = apis["requester"], apis["local_agent"]
    reference = new_ticket(requester)["reference"]
    seen = requester.get(f"/tickets/{reference}")
    desk.post(f"/tickets/{reference}/events", json={"event": "take"})
    desk.post(f"/tickets/{reference}/messages", json={"body": "Vi tittar.", "internal": False})
    stale = requester.post(f"/tickets/{reference}/messages", json={"body": "Hallå?"},
                           headers={"If-Match": seen.headers["ETag"]})
    assert stale.status_code == 412
    now_at = requester.get(f"/tickets/{reference}")
    assert stale.headers["ETag"] == now_at.headers["ETag"]
    assert now_at.json["updated_at"] > seen.json["updated_at"]
    assert [t["reference"] for t in requester.get(
        "/tickets", query_string={"sort": "-updated"}).json["items"]] == [reference]
