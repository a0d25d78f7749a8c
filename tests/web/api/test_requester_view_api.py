"""A requester's API shows a ticket as the portal does: without the SLA's internal times,
with the files sent with it."""

from __future__ import annotations

import io

import pytest

from helpdesk.extensions import db
from helpdesk.tickets.attachments import Upload
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
