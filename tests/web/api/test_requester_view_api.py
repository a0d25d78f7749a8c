"""A requester's API shows a ticket as the portal does: without the SLA's internal times."""

from __future__ import annotations

import pytest

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
