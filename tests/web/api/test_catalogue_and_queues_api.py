"""The catalogue, the queues' counts, the current user and the SLA explanation through the
API: each as the UI shows it to the same person."""

from __future__ import annotations

from datetime import timedelta

from helpdesk.accounts.models import Role
from helpdesk.catalogue.models import Lifecycle, Ordering
from helpdesk.extensions import db
from helpdesk.sla import admin as sla_admin
from helpdesk.tickets import operations as ops
from helpdesk.vendors.operations import hand_off_to_vendor
from helpdesk.web import edge
from tests.conftest import NOW
from tests.web.api.client import ApiClient
from tests.web.helpers import get, person


def _counts(api: ApiClient) -> dict[str, tuple[int, int]]:
    return {g["code"]: (g["active"], g["unassigned"]) for g in api.get("/groups").json}


def _overview(app, user) -> dict[str, tuple[str, str]]:
    """The queues page's table: each group's queue (by the code its link names), with its
    active and not-taken counts."""
    rows = get(person(app, user), "/agent").doc.one("tbody").find_all("tr")
    counts = {}
    for row in rows:
        code = row.one("a").attrs["href"].rsplit("/", 1)[1]
        _level, active, unassigned = (cell.text for cell in row.find_all("td")[1:])
        counts[code] = (active, unassigned)
    return counts


def test_a_confidential_ticket_counts_only_in_the_queues_of_those_who_work_in_its_group(
        app, apis, factory, org):
    factory.ticket(org.requester, org.service, confidential=True)
    factory.ticket(org.requester, org.service)
    db.session.flush()
    assert _counts(apis["local_agent"])["local"] == (2, 2)
    # An administrator outside the group: the queue page lists the ordinary ticket only,
    # and the counts, in the API and on the queues page, say so.
    assert _counts(apis["admin"])["local"] == (1, 1)
    admin_queue = apis["admin"].get("/tickets", query_string={"group": "local"}).json
    assert len(admin_queue["items"]) == 1
    assert _overview(app, org.admin)["local"] == ("1", "1")
    assert _overview(app, org.local_agent)["local"] == ("2", "2")


def test_a_lead_works_the_queues_they_lead_member_or_not(app, factory, org):
    lead = factory.user(Role.LEAD, name="Lena Lead")
    org.local.lead = lead
    ticket = factory.ticket(org.requester, org.service)
    db.session.flush()
    api = ApiClient(app, factory.api_token(lead))
    assert api.get("/me").json["groups"] == ["local"]
    assert _counts(api) == {"local": (1, 1)}
    assert _overview(app, lead) == {"local": ("1", "1")}
    assert get(person(app, lead), "/agent/queues/mine").references() == [ticket.reference]


def test_a_service_says_whether_the_caller_may_order_it(apis, factory, org):
    licences = factory.service(code="licenser")
    licences.name_en = "Software licences"
    licences.ordering = Ordering.AUTHORISED
    licences.orderers = [org.other_requester]
    db.session.flush()

    def seen_by(name: str) -> dict:
        return next(s for s in apis[name].get("/services").json if s["code"] == "licenser")

    mine = seen_by("requester")
    assert (mine["orderable"], mine["may_order"]) == (True, False)  # an incident, not an order
    assert mine["name_en"] == "Software licences"
    assert seen_by("other_requester")["may_order"] is True
    licences.lifecycle = Lifecycle.RETIRED  # no orders now, whoever asks
    db.session.flush()
    assert (seen_by("other_requester")["orderable"], seen_by("other_requester")["may_order"]) == (
        False, False)
    refused = apis["requester"].post("/tickets", json={
        "service": "licenser", "type": "service_request", "subject": "Licens",
        "description": "En licens till.", "impact": 3, "urgency": 3})
    assert refused.status_code == 422  # as may_order said


def _clock(api: ApiClient, reference: str, metric: str) -> dict:
    return next(c for c in api.get(f"/tickets/{reference}/sla").json if c["metric"] == metric)


def test_the_explanation_adds_up_after_the_office_hours_change(app, apis, factory, org, sla_org,
                                                              monkeypatch):
    ticket = factory.ticket(org.requester, org.service, now=NOW)  # Tue 10 Mar, 10:00
    db.session.flush()
    afternoons = {"name": sla_org.calendar.name, "timezone": "Europe/Stockholm",
                  "weekly_hours": {d: [["13:00", "17:00"]] for d in ("mon", "tue", "wed", "thu",
                                                                     "fri")},
                  "holidays": {"country": "SE", "categories": ["public", "de_facto"]},
                  "extra_closed_days": {}, "extra_open_days": {}, "shortened_close": None}
    assert sla_admin.apply_calendar(sla_org.calendar, afternoons, NOW + timedelta(hours=2)) > 0
    db.session.flush()
    monkeypatch.setattr(edge, "now", lambda: NOW + timedelta(hours=4))  # 14:00

    clock = _clock(apis["local_agent"], ticket.reference, "resolution")
    assert clock["counted_seconds"] == 3 * 3600  # 10–12 on the old hours, 13–14 on the new
    assert sum(line["business_seconds"] for line in clock["lines"]) == 3 * 3600
    assert [(line["kind"], line["business_seconds"]) for line in clock["lines"]] == [
        ("started", 0), ("counted_then", 2 * 3600), ("recomputed", 0), ("counted", 3600)]
    page = get(person(app, org.local_agent),
               f"/agent/tickets/{ticket.reference}")
    assert "2 h counted on the calendar in force then (changed since)" in page.text


def test_a_clock_met_while_waiting_for_the_requester_ends_with_its_stop(apis, factory, org,
                                                                       sla_org, settings):
    ticket = factory.ticket(org.requester, org.service, now=NOW)
    ops.take_ticket(ticket, actor=org.local_agent, now=NOW + timedelta(minutes=10),
                    settings=settings)
    ops.ask_requester(ticket, actor=org.local_agent, question="Vilken skrivare?",
                      now=NOW + timedelta(minutes=20), settings=settings)
    ops.resolve_ticket(ticket, actor=org.local_agent, note="Löst.",
                       now=NOW + timedelta(minutes=30), settings=settings)
    db.session.flush()
    for metric in ("first_response", "resolution"):
        clock = _clock(apis["local_agent"], ticket.reference, metric)
        assert (clock["status"], clock["state"], clock["breached_at"]) == ("stopped", "met", None)
        assert clock["calendar"] == sla_org.calendar.name
        assert clock["lines"][-1]["kind"] == "stopped", metric
        assert all(line["end"] is not None for line in clock["lines"] if line["kind"] == "paused")


def test_a_vendor_contracts_clocks_name_the_vendor(apis, vendor_org, now, settings):
    v = vendor_org
    hand_off_to_vendor(v.ticket, vendor=v.acme, actor=v.org.level2_agent,
                       message="Titta på reläet.", now=now, settings=settings)
    db.session.flush()
    clocks = apis["level2_agent"].get(f"/tickets/{v.ticket.reference}/sla").json
    contract = {c["metric"]: c["vendor"] for c in clocks if c["vendor"] is not None}
    assert contract == {"uc_response": "acme", "uc_resolution": "acme"}
    assert {c["vendor"] for c in clocks if c["metric"] == "resolution"} == {None}


def test_a_query_parameter_the_endpoint_does_not_read_is_refused_not_ignored(app, apis):
    for path in ("/services?lifecycle=active", "/groups?group=local", "/me?fields=email"):
        refused = apis["local_agent"].get(path)
        assert (refused.status_code, refused.content_type) == (400, "application/problem+json")
        name = path.split("?")[1].split("=")[0]
        assert refused.json["errors"] == {name: ["There is no such query parameter here."]}
    assert apis["local_agent"].get("/services").status_code == 200
    # Who may ask is settled first: without a token it is 401, whatever the query.
    assert ApiClient(app, None).get("/services?x=1").status_code == 401
