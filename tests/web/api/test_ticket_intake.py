"""Tickets requested with Prefer: respond-async: accepted at once, created by the drain."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpdesk.catalogue.models import Lifecycle
from helpdesk.core.clock import utcnow
from helpdesk.core.outbox import OutboxMessage
from helpdesk.extensions import db
from helpdesk.sla.models import SlaClock
from helpdesk.tickets import intake
from helpdesk.tickets.intake import TicketIntake
from helpdesk.tickets.models import Channel, Ticket
from helpdesk.webhooks.models import WebhookDelivery
from helpdesk.webhooks.subscriptions import add_subscription
from tests.conftest import NOW
from tests.web.api.client import ApiClient, new_ticket

LATER = {"Prefer": "respond-async"}
REQUEST = {"service": "mail", "subject": "Skrivaren på plan 3", "description": "Papper fastnar.",
           "impact": 2, "urgency": 2}


@pytest.fixture
def apis(app, factory, org):
    return {name: ApiClient(app, factory.api_token(getattr(org, name))) for name in (
        "requester", "other_requester", "local_agent", "admin")}


def drain(settings, at=None):
    return intake.drain(now=lambda: at or utcnow(), settings=settings)


def tickets() -> int:
    return db.session.scalar(select(func.count(Ticket.id)))


def test_a_request_is_accepted_at_once_and_its_ticket_created_by_the_drain(apis, settings):
    accepted = apis["requester"].post("/tickets", json=REQUEST, headers=LATER)
    assert accepted.status_code == 202
    assert accepted.headers["Preference-Applied"] == "respond-async"
    body = accepted.json
    assert accepted.headers["Location"] == f"/api/v1/ticket-intake/{body['id']}"
    assert (body["status"], body["ticket"], body["reason"]) == ("pending", None, None)
    assert tickets() == 0
    pending = apis["requester"].get(f"/ticket-intake/{body['id']}")
    assert (pending.status_code, pending.json["status"]) == (200, "pending")
    assert pending.headers["Retry-After"] == "1"

    assert drain(settings) == intake.DrainResult(created=1)
    done = apis["requester"].get(f"/ticket-intake/{body['id']}").json
    assert done["status"] == "created" and done["processed_at"] is not None
    ticket = apis["requester"].get(f"/tickets/{done['ticket']}")
    assert ticket.status_code == 200
    assert (ticket.json["subject"], ticket.json["assigned_group"]) == (
        "Skrivaren på plan 3", "local")


def test_the_ticket_is_the_one_a_direct_creation_makes_with_clocks_from_acceptance(
        apis, org, sla_org, settings):
    add_subscription(name="Övervakning", url="http://127.0.0.1:9/hook", events=["ticket.created"],
                     now=NOW)
    direct = new_ticket(apis["requester"], **{k: v for k, v in REQUEST.items() if k != "service"})
    body = apis["requester"].post("/tickets", json=REQUEST, headers=LATER).json
    accepted_at = db.session.get(TicketIntake, body["id"]).accepted_at
    drain(settings, at=accepted_at + timedelta(minutes=3))  # a drain that lagged behind
    ticket = db.session.get(TicketIntake, body["id"]).ticket
    twin = db.session.scalars(select(Ticket).where(Ticket.reference == direct["reference"])).one()
    assert (ticket.assigned_group, ticket.priority, ticket.channel, ticket.requester) == (
        twin.assigned_group, twin.priority, Channel.API, org.requester)
    # The same history, and a line that says the ticket was made three minutes late.
    assert [e.kind for e in ticket.events] == [e.kind for e in twin.events] + ["made_from_request"]
    assert ticket.events[-1].at == accepted_at + timedelta(minutes=3)
    assert ticket.created_at == accepted_at
    clocks = db.session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id)).all()
    assert clocks and {c.started_at for c in clocks} == {accepted_at}
    assert sorted(c.metric for c in clocks) == sorted(c.metric for c in twin.clocks)
    acknowledged = db.session.scalars(select(OutboxMessage.subject).where(
        OutboxMessage.ticket_id == ticket.id)).all()
    assert len(acknowledged) == 1 and ticket.reference in acknowledged[0]
    assert db.session.scalar(select(func.count(WebhookDelivery.id)).where(
        WebhookDelivery.ticket_id == ticket.id, WebhookDelivery.event == "ticket.created")) == 1


def test_the_webhook_of_a_ticket_made_later_shows_it_as_the_api_does(apis, settings):
    add_subscription(name="Övervakning", url="http://127.0.0.1:9/hook", events=["ticket.created"],
                     now=NOW)
    body = apis["requester"].post("/tickets", json=REQUEST, headers=LATER).json
    accepted_at = db.session.get(TicketIntake, body["id"]).accepted_at
    drain(settings, at=accepted_at + timedelta(minutes=3))
    reference = apis["requester"].get(f"/ticket-intake/{body['id']}").json["ticket"]
    shown = apis["requester"].get(f"/tickets/{reference}").json
    [delivery] = db.session.scalars(select(WebhookDelivery)).all()
    # Asked for at the acceptance, made three minutes on: a receiver syncing by the change
    # time and a client of the API see the same ticket.
    assert delivery.payload["occurred_at"] == accepted_at.isoformat()
    assert {key: delivery.payload["ticket"][key] for key in ("created_at", "updated_at")} == {
        key: shown[key] for key in ("created_at", "updated_at")}
    assert shown["updated_at"] == (accepted_at + timedelta(minutes=3)).isoformat()


def test_only_the_sender_reads_a_request(apis):
    body = apis["requester"].post("/tickets", json=REQUEST, headers=LATER).json
    for who in ("other_requester", "local_agent", "admin"):
        hidden = apis[who].get(f"/ticket-intake/{body['id']}")
        assert hidden.status_code == 404
        assert hidden.mimetype == "application/problem+json"
    assert apis["requester"].get("/ticket-intake/999999").status_code == 404


def test_bad_requests_are_refused_at_once_and_nothing_is_stored(app, apis, org):
    api = apis["requester"]
    invalid = api.post("/tickets", json={**REQUEST, "impact": 7, "subject": " "}, headers=LATER)
    assert invalid.status_code == 422
    assert set(invalid.json["errors"]) == {"impact", "subject"}
    unknown = api.post("/tickets", json={**REQUEST, "service": "finns-inte"}, headers=LATER)
    assert unknown.status_code == 422
    assert unknown.json["errors"]["service"] == ["There is no service with the code finns-inte."]
    direct = api.post("/tickets", json={**REQUEST, "service": "finns-inte"})
    assert (direct.status_code, direct.json["errors"]) == (422, unknown.json["errors"])
    org.service.lifecycle = Lifecycle.RETIRED
    retired = api.post("/tickets", json=REQUEST, headers=LATER)
    assert retired.status_code == 422 and "service" in retired.json["errors"]
    assert db.session.scalar(select(func.count(TicketIntake.id))) == 0
    assert ApiClient(app, None).post("/tickets", json=REQUEST, headers=LATER).status_code == 401


def test_a_read_only_token_may_not_send_a_request(app, factory, org):
    reader = ApiClient(app, factory.api_token(org.requester, scope="read"))
    assert reader.post("/tickets", json=REQUEST, headers=LATER).status_code == 403
    assert db.session.scalar(select(func.count(TicketIntake.id))) == 0


@pytest.mark.parametrize("prefer, status", [
    ("respond-async", 202), ("RESPOND-ASYNC", 202), ("return=minimal, respond-async; wait=5", 202),
    ("return=representation", 201), ("respond-asynchronously", 201)])
def test_the_preference_is_read_as_rfc_7240_writes_it(apis, prefer, status):
    response = apis["requester"].post("/tickets", json=REQUEST, headers={"Prefer": prefer})
    assert response.status_code == status


def test_a_request_whose_service_closed_in_between_is_rejected_with_the_reason(
        apis, app, factory, org, settings):
    first = apis["requester"].post("/tickets", json=REQUEST, headers=LATER).json
    org.service.lifecycle = Lifecycle.RETIRED
    db.session.flush()
    assert drain(settings) == intake.DrainResult(rejected=1)
    rejected = apis["requester"].get(f"/ticket-intake/{first['id']}").json
    assert (rejected["status"], rejected["ticket"]) == ("rejected", None)
    assert org.service.name in rejected["reason"] and "cannot be ordered" in rejected["reason"]
    swedish = ApiClient(app, factory.api_token(org.requester))
    swedish.http.environ_base["HTTP_ACCEPT_LANGUAGE"] = "sv"
    org.requester.locale = None
    db.session.flush()
    assert "Det går inte att beställa" in swedish.get(f"/ticket-intake/{first['id']}").json["reason"]
    # The rejected request took no number: the next ticket follows the last one made.
    org.service.lifecycle = Lifecycle.ACTIVE
    db.session.flush()
    assert new_ticket(apis["requester"])["reference"].endswith("-000001")


def test_requests_of_several_people_become_their_own_tickets_in_order(apis, org, settings):
    ids = [apis[who].post("/tickets", json={**REQUEST, "subject": f"Ärende {n}"},
                          headers=LATER).json["id"]
           for n, who in enumerate(("requester", "other_requester", "requester"))]
    assert intake.drain(now=utcnow, settings=settings, batch=2) == intake.DrainResult(created=3)
    made = [db.session.get(TicketIntake, i).ticket for i in ids]
    assert [t.subject for t in made] == ["Ärende 0", "Ärende 1", "Ärende 2"]
    assert [t.requester for t in made] == [org.requester, org.other_requester, org.requester]
    assert [t.reference[-6:] for t in made] == ["000001", "000002", "000003"]
    assert drain(settings) == intake.DrainResult()


def test_processed_requests_are_forgotten_after_a_week(apis, settings):
    body = apis["requester"].post("/tickets", json=REQUEST, headers=LATER).json
    drain(settings)
    drain(settings, at=utcnow() + intake.KEEP_PROCESSED - timedelta(minutes=1))
    assert db.session.get(TicketIntake, body["id"]) is not None
    drain(settings, at=utcnow() + intake.KEEP_PROCESSED + timedelta(minutes=1))
    db.session.expire_all()
    assert db.session.get(TicketIntake, body["id"]) is None
    assert apis["requester"].get(f"/ticket-intake/{body['id']}").status_code == 404
    assert tickets() == 1  # the ticket itself stays, of course


def test_an_id_past_any_row_is_not_found_rather_than_an_error(apis):
    """Every ``<int:…>`` route: a number no id column holds (SQLite's driver would overflow)."""
    assert apis["requester"].get(f"/ticket-intake/{2**31}").status_code == 404
    assert apis["requester"].get("/ticket-intake/21334307653117170113576").status_code == 404
    reference = new_ticket(apis["requester"])["reference"]
    assert apis["requester"].get(f"/tickets/{reference}/attachments/{2**40}").status_code == 404
