"""Tickets through the API: the UI's access rules, its operations, ETags and problems."""

from __future__ import annotations

import base64
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from helpdesk.accounts.models import Role
from helpdesk.catalogue.models import Lifecycle
from helpdesk.tickets import attachments as attachment_store
from helpdesk.tickets import operations as ticket_operations
from helpdesk.tickets.models import Channel, Ticket, TicketEvent
from helpdesk.tickets.operations import take_ticket
from helpdesk.tiers.operations import consult_group
from tests.conftest import NOW
from tests.web.api.client import ApiClient, new_ticket
from tests.web.helpers import get, person


def test_a_requester_opens_a_ticket_that_is_routed_as_in_the_portal(apis, org, session):
    created = apis["requester"].post("/tickets", json={
        "service": "mail", "subject": "Outlook startar inte", "description": "Inget händer.",
        "impact": 1, "urgency": 2, "type": "incident"})
    assert created.status_code == 201
    body = created.json
    assert created.headers["Location"] == f"/api/v1/tickets/{body['reference']}"
    assert created.headers["ETag"] == f'"{body["version"]}"'
    assert (body["status"], body["assigned_group"], body["tier"], body["priority"]) == (
        "new", "local", 1, 2)
    ticket = session.scalars(select(Ticket).where(Ticket.reference == body["reference"])).one()
    assert ticket.channel == Channel.API
    assert [e.kind for e in ticket.events][:2] == ["created", "routed"]


@pytest.mark.parametrize("who, sees", [
    ("requester", True), ("other_requester", False), ("local_agent", True),
    ("desk_agent", False), ("level2_agent", False), ("admin", True)])
def test_who_sees_a_ticket_is_decided_as_in_the_ui(apis, who, sees):
    reference = new_ticket(apis["requester"])["reference"]
    response = apis[who].get(f"/tickets/{reference}")
    assert response.status_code == (200 if sees else 404)
    if not sees:
        assert response.mimetype == "application/problem+json"
    listed = [t["reference"] for t in apis[who].get("/tickets").json["items"]]
    assert (reference in listed) == sees


def test_a_confidential_ticket_is_hidden_from_an_administrator_outside_its_groups(apis):
    reference = new_ticket(apis["requester"], confidential=True)["reference"]
    assert apis["admin"].get(f"/tickets/{reference}").status_code == 404
    assert reference not in [t["reference"] for t in apis["admin"].get("/tickets").json["items"]]
    assert apis["local_agent"].get(f"/tickets/{reference}").status_code == 200


def test_a_consulted_group_sees_the_ticket_but_may_not_move_it(apis, org, settings):
    reference = new_ticket(apis["requester"])["reference"]
    ticket = Ticket.query.filter_by(reference=reference).one()
    consult_group(ticket, group=org.level3, actor=org.local_agent, question="Vet ni?", now=NOW)
    assert apis["level3_agent"].get(f"/tickets/{reference}").status_code == 200
    assert reference in [t["reference"] for t in apis["level3_agent"].get("/tickets").json["items"]]
    refused = apis["level3_agent"].post(f"/tickets/{reference}/events", json={"event": "take"})
    assert refused.status_code == 403
    note = apis["level3_agent"].post(f"/tickets/{reference}/messages",
                                     json={"body": "Kolla DNS.", "internal": True})
    assert note.status_code == 201
    public = apis["level3_agent"].post(f"/tickets/{reference}/messages", json={"body": "Hej!"})
    assert public.status_code == 403
    # Not 412 for an old version: no newer one would let the consulted group do it.
    stale = {"If-Match": '"1"'}
    assert apis["level3_agent"].post(f"/tickets/{reference}/events", json={"event": "take"},
                                     headers=stale).status_code == 403
    assert apis["level3_agent"].post(f"/tickets/{reference}/messages", json={"body": "Hej!"},
                                     headers=stale).status_code == 403


def test_requesters_never_see_internal_notes_or_sla_clocks(apis):
    reference = new_ticket(apis["requester"])["reference"]
    apis["local_agent"].post(f"/tickets/{reference}/messages",
                             json={"body": "Intern anteckning", "internal": True})
    apis["local_agent"].post(f"/tickets/{reference}/messages", json={"body": "Vi tittar på det."})
    bodies = [m["body"] for m in apis["requester"].get(f"/tickets/{reference}/messages").json]
    assert bodies == ["Vi tittar på det."]
    assert len(apis["local_agent"].get(f"/tickets/{reference}/messages").json) == 2
    assert apis["requester"].get(f"/tickets/{reference}/sla").status_code == 403
    assert apis["requester"].post(f"/tickets/{reference}/messages",
                                  json={"body": "x", "internal": True}).status_code == 403


def test_an_event_runs_the_workflow_operation_and_answers_with_the_ticket(apis, org):
    reference = new_ticket(apis["requester"])["reference"]
    taken = apis["local_agent"].post(f"/tickets/{reference}/events", json={"event": "take"})
    assert taken.status_code == 200
    assert (taken.json["status"], taken.json["assignee"]) == ("in_progress", org.local_agent.email)
    escalated = apis["local_agent"].post(f"/tickets/{reference}/events", json={
        "event": "escalate", "to_group": "level2", "reason": "Behöver central support."})
    assert escalated.status_code == 200
    assert (escalated.json["assigned_group"], escalated.json["tier"]) == ("level2", 2)
    event = TicketEvent.query.filter_by(kind="escalated").one()
    assert (event.reason, event.actor_id) == ("Behöver central support.", org.local_agent.id)
    # The local helpdesk keeps the customer: it still sees the ticket, but level 2 works it.
    assert apis["local_agent"].get(f"/tickets/{reference}").status_code == 200
    assert apis["local_agent"].post(f"/tickets/{reference}/events",
                                    json={"event": "take"}).status_code == 403
    assert apis["level2_agent"].post(f"/tickets/{reference}/events",
                                     json={"event": "take"}).status_code == 200


def test_an_event_the_workflow_refuses_is_409_with_the_allowed_events_or_422_without_input(apis):
    reference = new_ticket(apis["requester"])["reference"]
    refused = apis["local_agent"].post(f"/tickets/{reference}/events", json={"event": "reopen",
                                                                             "message": "Igen"})
    assert refused.status_code == 409
    assert refused.mimetype == "application/problem+json"
    assert set(refused.json["allowed_events"]) == {"take", "assign", "escalate", "resolve", "cancel"}
    # An event the workflow allows now, without what it needs: 422 naming that field.
    missing = apis["local_agent"].post(f"/tickets/{reference}/events", json={"event": "escalate",
                                                                             "to_group": "level2"})
    assert (missing.status_code, missing.json["errors"]) == (422, {"reason": ["Give a reason."]})
    unnoted = apis["local_agent"].post(f"/tickets/{reference}/events", json={"event": "resolve"})
    assert (unnoted.status_code, list(unnoted.json["errors"])) == (422, ["note"])
    assert apis["local_agent"].get(f"/tickets/{reference}").json["status"] == "new"
    nowhere = apis["local_agent"].post(f"/tickets/{reference}/events", json={
        "event": "escalate", "to_group": "finns-inte", "reason": "x"})
    assert nowhere.status_code == 422
    assert "to_group" in nowhere.json["errors"]


def test_a_lead_outside_the_group_is_not_offered_taking_what_it_may_not_take(
        app, apis, factory, org):
    lead = factory.user(Role.LEAD, name="Lisa Lead")  # leads the local helpdesk, not in it
    org.local.lead = lead
    reference = new_ticket(apis["requester"])["reference"]
    api = ApiClient(app, factory.api_token(lead))
    refused = api.post(f"/tickets/{reference}/events", json={"event": "take"})
    assert refused.status_code == 409
    assert "take" not in refused.json["allowed_events"]
    assert "assign" in refused.json["allowed_events"]  # the lead hands it to a member instead
    page = get(person(app, lead), f"/agent/tickets/{reference}")
    assert page.status == 200 and "assign" in page.text.lower()
    assert "Take the ticket" not in [b.text.strip() for b in page.doc.find_all("button")]
    member = get(person(app, org.local_agent), f"/agent/tickets/{reference}")
    assert "Take the ticket" in [b.text.strip() for b in member.doc.find_all("button")]


def test_a_requester_confirms_or_reopens_through_events(apis, org, settings):
    reference = new_ticket(apis["requester"])["reference"]
    assert apis["requester"].post(f"/tickets/{reference}/events",
                                  json={"event": "take"}).status_code == 409
    apis["local_agent"].post(f"/tickets/{reference}/events", json={"event": "take"})
    apis["local_agent"].post(f"/tickets/{reference}/events",
                             json={"event": "resolve", "note": "Omstart hjälpte."})
    reopened = apis["requester"].post(f"/tickets/{reference}/events",
                                      json={"event": "reopen", "message": "Det hände igen."})
    assert reopened.status_code == 200
    assert reopened.json["status"] == "open"


def test_etag_and_if_match_refuse_a_change_on_a_stale_version(apis, org, settings):
    reference = new_ticket(apis["requester"])["reference"]
    seen = apis["local_agent"].get(f"/tickets/{reference}")
    etag = seen.headers["ETag"]
    assert etag == f'"{seen.json["version"]}"'
    # Someone else changes the ticket in between.
    ticket = Ticket.query.filter_by(reference=reference).one()
    take_ticket(ticket, actor=org.local_agent, now=NOW, settings=settings)

    stale = apis["local_agent"].post(f"/tickets/{reference}/events", headers={"If-Match": etag},
                                     json={"event": "resolve", "note": "Klart."})
    assert stale.status_code == 412
    assert stale.mimetype == "application/problem+json"
    assert Ticket.query.filter_by(reference=reference).one().status == "in_progress"
    fresh = apis["local_agent"].get(f"/tickets/{reference}").headers["ETag"]
    assert fresh != etag
    # As a compressing proxy hands it on, weakened: the same version all the same.
    done = apis["local_agent"].post(f"/tickets/{reference}/events",
                                    headers={"If-Match": f"W/{fresh}"},
                                    json={"event": "resolve", "note": "Klart."})
    assert done.status_code == 200
    assert done.headers["ETag"] != fresh
    stale_note = apis["local_agent"].post(f"/tickets/{reference}/messages",
                                          headers={"If-Match": fresh}, json={"body": "Sent"})
    assert stale_note.status_code == 412


def test_messages_carry_attachments_that_only_the_right_people_download(apis, settings):
    reference = new_ticket(apis["requester"])["reference"]
    public = apis["local_agent"].post(
        f"/tickets/{reference}/messages", content_type="multipart/form-data",
        data={"body": "Se bifogad fil.", "internal": "false",
              "attachments": [(io.BytesIO(b"logg"), "logg.txt", "text/plain")]})
    assert public.status_code == 201
    [attachment] = public.json["attachments"]
    assert (attachment["filename"], attachment["size"]) == ("logg.txt", 4)
    internal = apis["local_agent"].post(
        f"/tickets/{reference}/messages", content_type="multipart/form-data",
        data={"body": "Internt", "internal": "true",
              "attachments": [(io.BytesIO(b"hemligt"), "intern.txt", "text/plain")]})
    [secret] = internal.json["attachments"]

    download = apis["requester"].get(f"/tickets/{reference}/attachments/{attachment['id']}")
    assert (download.status_code, download.data) == (200, b"logg")
    assert download.headers["Content-Disposition"].startswith("attachment")
    download.close()
    assert apis["requester"].get(f"/tickets/{reference}/attachments/{secret['id']}").status_code == 404
    assert apis["other_requester"].get(
        f"/tickets/{reference}/attachments/{attachment['id']}").status_code == 404


def test_uploads_too_large_or_of_the_wrong_type_are_refused(apis, settings, monkeypatch):
    reference = new_ticket(apis["requester"])["reference"]
    monkeypatch.setattr(settings, "max_attachment_bytes", 10)
    big = apis["requester"].post(
        f"/tickets/{reference}/messages", content_type="multipart/form-data",
        data={"body": "Stor", "attachments": [(io.BytesIO(b"x" * 11), "stor.txt", "text/plain")]})
    assert big.status_code == 413
    program = apis["requester"].post(
        f"/tickets/{reference}/messages", content_type="multipart/form-data",
        data={"body": "Program", "attachments": [
            (io.BytesIO(b"MZ"), "setup.exe", "application/x-msdownload")]})
    assert program.status_code == 415
    assert "setup.exe" in program.json["detail"]
    for name in ("setup.exe", "run.BAT", "page.html", "tool.ps1"):  # sent as plain text
        disguised = apis["requester"].post(
            f"/tickets/{reference}/messages", content_type="multipart/form-data",
            data={"body": "Program", "attachments": [(io.BytesIO(b"MZ"), name, "text/plain")]})
        assert disguised.status_code == 415, name
    assert apis["requester"].get(f"/tickets/{reference}/messages").json == []
    taken = apis["requester"].post(
        f"/tickets/{reference}/messages", content_type="multipart/form-data",
        data={"body": "Logg", "attachments": [
            (io.BytesIO(b"rad 1"), "install.log", "text/plain"),
            (io.BytesIO(b"%PDF"), "rapport\u202efdp.exe.pdf", "application/pdf")]})
    assert taken.status_code == 201
    assert [a["filename"] for a in taken.json["attachments"]] == [
        "install.log", "rapportfdp.exe.pdf"]  # no mark that shows the name backwards


def test_a_file_is_judged_by_its_name_whatever_type_the_client_declares(apis):
    reference = new_ticket(apis["requester"])["reference"]

    def send(name: str, declared: str | None) -> Any:
        part = (io.BytesIO(b"%PDF-1.7"), name) if declared is None else (
            io.BytesIO(b"%PDF-1.7"), name, declared)
        return apis["requester"].post(f"/tickets/{reference}/messages",
                                      content_type="multipart/form-data",
                                      data={"body": "Fil", "attachments": [part]})

    # curl -F attachments=@rapport.pdf sends octet-stream; a part may declare no type at all.
    for declared in ("application/octet-stream", None, "text/plain"):
        taken = send("rapport.pdf", declared)
        assert taken.status_code == 201, (declared, taken.json)
        assert taken.json["attachments"][0]["content_type"] == "application/pdf"
    assert send("dmesg", "application/octet-stream").json["attachments"][0][
        "content_type"] == "text/plain"
    # Endings a desktop runs, unknown to Python's table of types, declared as harmless.
    for name in ("Faktura.xll", "genväg.url", "paket.msix", "sök.library-ms", "disk.vhdx"):
        refused = send(name, "application/zip")
        assert refused.status_code == 415, name
        assert refused.json["detail"].startswith(f"Files ending in .{name.rpartition('.')[2]}")
        assert ".pdf" in refused.json["detail"]  # what is taken, said with the refusal


def test_an_empty_file_field_is_no_file_and_an_empty_file_is_one(apis):
    reference = new_ticket(apis["requester"])["reference"]
    # What a browser sends for a file input left empty: no name, no content.
    blank = apis["requester"].post(
        f"/tickets/{reference}/messages", content_type="multipart/form-data",
        data={"body": "Utan fil", "attachments": [(io.BytesIO(b""), "")]})
    assert (blank.status_code, blank.json["attachments"]) == (201, [])
    empty = apis["requester"].post(
        f"/tickets/{reference}/messages", content_type="multipart/form-data",
        data={"body": "Tom logg", "attachments": [(io.BytesIO(b""), "tom.log")]})
    assert [(a["filename"], a["size"]) for a in empty.json["attachments"]] == [("tom.log", 0)]


def test_a_file_sent_under_another_field_is_refused_not_dropped(apis):
    reference = new_ticket(apis["requester"])["reference"]
    response = apis["requester"].post(
        f"/tickets/{reference}/messages", content_type="multipart/form-data",
        data={"body": "Se fakturan.", "file": (io.BytesIO(b"%PDF"), "faktura.pdf")})
    assert response.status_code == 422
    assert response.json["errors"] == {"file": ["Unknown field: send files as attachments."]}
    assert apis["requester"].get(f"/tickets/{reference}/messages").json == []


def test_a_file_that_cannot_be_written_whole_leaves_no_part_behind(apis, settings, app,
                                                                    monkeypatch):
    reference = new_ticket(apis["requester"])["reference"]
    stored_before = set(Path(settings.instance_dir).rglob("*"))

    def disk_full_after_128_kib(name: str, size: int, max_bytes: int) -> None:
        if size > 128 * 1024:  # checked after each chunk is read, before it is written
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(attachment_store, "check_size", disk_full_after_128_kib)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # answer as in production
    failed = apis["requester"].post(
        f"/tickets/{reference}/messages", content_type="multipart/form-data",
        data={"body": "Loggen", "attachments": [
            (io.BytesIO(b"kort"), "forsta.txt"), (io.BytesIO(b"x" * 300_000), "lang.log")]})
    assert failed.status_code == 500
    new_files = {p for p in set(Path(settings.instance_dir).rglob("*")) - stored_before
                 if p.is_file() and "attachments" in p.parts}
    assert new_files == set()


def test_a_request_that_fails_half_way_leaves_no_file_behind(apis, settings, monkeypatch, app):
    reference = new_ticket(apis["requester"])["reference"]
    stored_before = set(Path(settings.instance_dir).rglob("*"))

    def broken(*_args, **_kwargs):
        raise RuntimeError("the database went away after the file was written")

    monkeypatch.setattr(ticket_operations, "touch", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # answer as in production
    failed = apis["local_agent"].post(
        f"/tickets/{reference}/messages", content_type="multipart/form-data",
        data={"body": "Hej", "attachments": [(io.BytesIO(b"data"), "a.txt", "text/plain")]})
    assert failed.status_code == 500
    new_files = {p for p in set(Path(settings.instance_dir).rglob("*")) - stored_before
                 if p.is_file() and "attachments" in p.parts}
    assert new_files == set()


def test_bad_bodies_get_problems_naming_the_fields(apis):
    api = apis["requester"]
    assert api.post("/tickets", data="{", content_type="application/json").status_code == 400
    assert api.post("/tickets", data="service=mail",
                    content_type="application/x-www-form-urlencoded").status_code == 415
    invalid = api.post("/tickets", json={"service": "mail", "subject": " ", "impact": "2",
                                         "urgency": 9, "extra": 1})
    assert invalid.status_code == 422
    assert invalid.mimetype == "application/problem+json"
    assert set(invalid.json["errors"]) == {"subject", "description", "impact", "urgency", "extra"}
    unknown = api.post("/tickets", json={"service": "finns-inte", "subject": "x",
                                         "description": "y", "impact": 2, "urgency": 2})
    assert unknown.status_code == 422
    assert "service" in unknown.json["errors"]
    assert api.get("/tickets?limit=0").status_code == 400
    twice = api.get("/tickets?limit=1&limit=500&sort=created")
    assert (twice.status_code, twice.json["errors"]) == (400, {"limit": ["Given more than once."]})
    assert api.get("/tickets?cursor=bm90LWEtY3Vyc29y").status_code == 400
    assert api.get("/nothing-here").json["status"] == 404


def test_bodies_and_queries_a_parser_chokes_on_are_refused_not_failed(apis):
    api = apis["requester"]
    nested = api.post("/tickets", data="[" * 50_000, content_type="application/json")
    assert (nested.status_code, nested.json["detail"]) == (400, "The body is not valid JSON.")
    null = api.post("/tickets", data="null", content_type="application/json")
    assert (null.status_code, null.json["detail"]) == (422, "The body must be a JSON object.")
    for moment in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):  # not a UTC time
        answer = api.get("/tickets", query_string={"updated_since": moment})
        assert answer.status_code == 400
        assert answer.json["errors"] == {"updated_since": ["Give a time between the years 1 and 9999."]}
        cursor = base64.urlsafe_b64encode(json.dumps([moment, 1]).encode()).decode()
        assert api.get("/tickets", query_string={"sort": "created", "cursor": cursor}
                       ).status_code == 400


def test_lists_filter_sort_and_page_by_cursor(apis, factory, org, settings):
    for n in range(5):
        factory.ticket(org.requester, org.service, now=NOW.replace(minute=n), impact=1 + n % 3,
                       urgency=2, subject=f"Ärende {n}")
    api = apis["local_agent"]
    seen, cursor = [], None
    while True:
        page = api.get("/tickets", query_string={"sort": "-created", "limit": 2,
                                                 **({"cursor": cursor} if cursor else {})}).json
        seen += [t["subject"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Ärende {n}" for n in (4, 3, 2, 1, 0)]
    urgent = api.get("/tickets", query_string={"priority": 2}).json["items"]
    assert 0 < len(urgent) < 5 and all(t["priority"] == 2 for t in urgent)
    by_priority = [t["priority"] for t in api.get("/tickets?sort=priority").json["items"]]
    assert by_priority == sorted(by_priority)
    assert api.get("/tickets", query_string={"group": "desk"}).json["items"] == []
    assert len(api.get("/tickets", query_string={"group": "local", "status": "unassigned",
                                                 "requester": org.requester.email,
                                                 "updated_since": "2026-03-10T09:03:00Z"}
                       ).json["items"]) == 2


def test_the_queue_by_sla_due_pages_soonest_first_and_tickets_without_a_due_time_last(
        apis, factory, org, session):
    due_in_hours = [3, None, 1, None, 2]
    for n, hours in enumerate(due_in_hours):
        ticket = factory.ticket(org.requester, org.service, now=NOW.replace(minute=n),
                                subject=f"Ärende {n}")
        ticket.sla_due_at = None if hours is None else NOW + timedelta(hours=hours)
    session.flush()
    seen, cursor = [], None
    while True:
        page = apis["local_agent"].get("/tickets", query_string={
            "group": "local", "status": "active", "sort": "sla_due", "limit": 2,
            **({"cursor": cursor} if cursor else {})}).json
        seen += [t["subject"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Ärende {n}" for n in (2, 4, 0, 1, 3)]


OTHER_LIST = "Not a cursor from next_cursor of a list with this sort and these filters."
SORTS = ["sla_due", "priority", "created", "-created", "updated", "-updated"]


def _all_pages(api, **query):
    seen, cursor, cursors = [], None, []
    while True:
        page = api.get("/tickets", query_string={**query, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.json
        seen += [t["subject"] for t in page.json["items"]]
        cursor = page.json["next_cursor"]
        if cursor is None:
            return seen, cursors
        cursors.append(cursor)


@pytest.mark.parametrize("sort", SORTS)
def test_a_cursor_goes_on_only_with_the_sort_and_filters_it_was_given_for(
        apis, factory, org, session, sort):
    for n in range(5):
        ticket = factory.ticket(org.requester, org.service, now=NOW.replace(minute=n),
                                impact=1 + n % 2, urgency=2, subject=f"Ärende {n}")
        ticket.sla_due_at = None if n % 2 else NOW + timedelta(hours=n)
    session.flush()
    api = apis["local_agent"]
    filters = {"status": "active", "updated_since": "2026-03-10T09:00:00Z"}
    seen, cursors = _all_pages(api, sort=sort, limit=2, **filters)
    assert sorted(seen) == [f"Ärende {n}" for n in range(5)]  # each ticket once, as before
    cursor = cursors[0]
    # The same list: another page size, the same moment written in another time zone.
    assert api.get("/tickets", query_string={"sort": sort, "limit": 3, "cursor": cursor,
                                             "status": "active",
                                             "updated_since": "2026-03-10T10:00:00+01:00"}
                   ).status_code == 200
    others = [{"sort": other, **filters} for other in SORTS if other != sort] + [
        {"sort": sort, **filters, "status": "unassigned"},
        {"sort": sort, "status": "active"},
        {"sort": sort, **filters, "requester": org.requester.email},
        {"sort": sort, **filters, "priority": 2}]
    for query in others:
        refused = api.get("/tickets", query_string={**query, "limit": 2, "cursor": cursor})
        assert refused.status_code == 400, query
        assert refused.mimetype == "application/problem+json"
        assert refused.json["errors"] == {"cursor": [OTHER_LIST]}


def test_the_requester_filter_finds_an_address_in_any_case(apis, factory, org):
    for n in range(3):
        factory.ticket(org.requester, org.service, now=NOW.replace(minute=n), subject=f"Anna {n}")
    factory.ticket(org.other_requester, org.service, subject="Någon annans")
    api = apis["local_agent"]
    shouted = org.requester.email.upper()
    assert shouted != org.requester.email
    seen, cursors = _all_pages(api, sort="created", limit=2, requester=shouted)
    assert seen == ["Anna 0", "Anna 1", "Anna 2"]
    # One list however the address is written: its cursor goes on in lower case.
    rest = api.get("/tickets", query_string={"sort": "created", "cursor": cursors[0],
                                             "requester": org.requester.email}).json
    assert [t["subject"] for t in rest["items"]] == ["Anna 2"]


def test_a_refused_cursor_says_why_in_the_callers_language(apis, factory, org, session):
    for n in range(3):
        factory.ticket(org.requester, org.service, now=NOW.replace(minute=n))
    api = apis["local_agent"]
    cursor = api.get("/tickets", query_string={"sort": "created", "limit": 1}).json["next_cursor"]
    org.local_agent.locale = "sv"
    session.flush()
    other = api.get("/tickets", query_string={"sort": "-created", "cursor": cursor})
    assert other.status_code == 400
    assert other.json["errors"] == {"cursor": [
        "Ingen markör från next_cursor i en lista med den här sorteringen och de här filtren."]}
    # Its own list's key, but a time before the year 1 in UTC: refused, not a server error.
    key, _value, last_id = json.loads(base64.urlsafe_b64decode(cursor))
    forged = base64.urlsafe_b64encode(
        json.dumps([key, "0001-01-01T00:00:00+01:00", last_id]).encode()).decode()
    refused = api.get("/tickets", query_string={"sort": "created", "cursor": forged})
    assert refused.status_code == 400
    assert refused.json["errors"] == {"cursor": ["Ingen markör från next_cursor."]}


@pytest.mark.parametrize("prefer", [{}, {"Prefer": "respond-async"}])
def test_a_refused_service_is_named_beside_the_field_in_the_callers_language(
        apis, org, session, prefer):
    org.requester.locale = "sv"
    session.flush()
    refused = apis["requester"].post("/tickets", headers=prefer, json={
        "service": "finns-inte", "subject": "Skrivaren", "description": "Den skriver inte.",
        "impact": 2, "urgency": 2})
    assert refused.status_code == 422
    said = "Det finns ingen tjänst med koden finns-inte."
    assert (refused.json["detail"], refused.json["errors"]) == (said, {"service": [said]})


def test_a_query_parameter_given_twice_is_named_in_the_callers_language(apis, org, session):
    org.local_agent.locale = "sv"
    session.flush()
    twice = apis["local_agent"].get("/tickets?limit=1&limit=500")
    assert twice.status_code == 400
    assert twice.json["errors"] == {"limit": ["Angiven mer än en gång."]}


def test_the_closed_view_lists_cancelled_tickets_and_a_wrong_status_names_each_choice_once(
        apis, factory, org, settings):
    open_one = factory.ticket(org.requester, org.service)
    cancelled = factory.ticket(org.requester, org.service)
    ticket_operations.cancel_ticket(cancelled, actor=org.requester, actor_kind="requester",
                                    reason="Löst av sig själv", now=NOW, settings=settings)
    api = apis["local_agent"]
    listed = api.get("/tickets", query_string={"status": "closed", "sort": "created"}).json
    assert [t["reference"] for t in listed["items"]] == [cancelled.reference]
    assert open_one.reference not in {t["reference"] for t in listed["items"]}

    wrong = api.get("/tickets", query_string={"status": "stängd"})
    assert wrong.status_code == 400
    [said] = wrong.json["errors"]["status"]
    choices = said.split(": ", 1)[1].rstrip(".").split(", ")
    assert "closed" in choices and len(choices) == len(set(choices))


def test_queue_counts_services_and_sla_explanation(apis, factory, org, sla_org):
    reference = new_ticket(apis["requester"])["reference"]
    groups = apis["local_agent"].get("/groups").json
    assert [(g["code"], g["active"], g["unassigned"]) for g in groups] == [("local", 1, 1)]
    assert apis["requester"].get("/groups").status_code == 403
    services = apis["requester"].get("/services").json
    assert {"code": "mail", "name": org.service.name, "name_en": org.service.name_en,
            "description": "", "description_en": None, "lifecycle": "active",
            "orderable": True, "may_order": True} in services
    proposed = factory.service(lifecycle=Lifecycle.PROPOSED, code="ai-assistent")
    assert proposed.code not in {s["code"] for s in apis["requester"].get("/services").json}
    assert proposed.code in {s["code"] for s in apis["local_agent"].get("/services").json}
    clocks = apis["local_agent"].get(f"/tickets/{reference}/sla").json
    assert {c["metric"] for c in clocks} == {"first_response", "resolution"}
    assert all(c["lines"][0]["kind"] == "started" for c in clocks)


def test_a_download_answers_ranges_and_every_error_under_the_api_is_a_problem(apis):
    reference = new_ticket(apis["requester"])["reference"]
    sent = apis["requester"].post(
        f"/tickets/{reference}/messages", content_type="multipart/form-data",
        data={"body": "Logg", "attachments": [(io.BytesIO(b"rad 1\nrad 2\n"), "install.log")]})
    url = f"/tickets/{reference}/attachments/{sent.json['attachments'][0]['id']}"
    with apis["requester"].get(url, headers={"Range": "bytes=0-4"}) as part:
        assert (part.status_code, part.data) == (206, b"rad 1")
        # A file to save, never a page of ours, as in the portal.
        assert part.headers["Content-Security-Policy"] == "sandbox"
        assert part.headers["X-Content-Type-Options"] == "nosniff"
    with apis["requester"].get(url, headers={"Range": "bytes=500-600"}) as beyond:
        assert beyond.status_code == 416
        assert beyond.content_type == "application/problem+json"
    assert beyond.json["status"] == 416
    for path in ("/api", "/api/"):
        unknown = apis["requester"].http.get(path)
        assert (unknown.status_code, unknown.content_type) == (404, "application/problem+json")
    # Outside the API, werkzeug's and the UI's own pages as before.
    assert apis["requester"].http.get("/no-such-page").content_type.startswith("text/html")


def test_the_openapi_document_says_what_a_download_and_an_upload_may_answer(apis):
    document = apis["requester"].http.get("/api/v1/openapi.json")
    assert document.status_code == 200
    download = document.json["paths"]["/tickets/{reference}/attachments/{attachment_id}"]["get"]
    assert {"200", "206", "304", "404", "416"} <= set(download["responses"])
    form = document.json["components"]["schemas"]["MessageForm"]["properties"]["attachments"]
    assert ".pdf" in form["description"] and "415" in form["description"]
    upload = document.json["paths"]["/tickets/{reference}/messages"]["post"]
    # No declared type is asked of a file: its name decides.
    assert "encoding" not in upload["requestBody"]["content"]["multipart/form-data"]
