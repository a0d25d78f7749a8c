"""The administrator's ticket intake page: who may look, what waits and what was rejected,
a warning when nothing drains, and a rejected request tried again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpdesk.catalogue.models import Lifecycle
from helpdesk.core.clock import utcnow
from helpdesk.extensions import db
from helpdesk.tickets import intake
from helpdesk.tickets.intake import IntakeRetry, IntakeStatus, TicketIntake
from tests.support import fast_password_hashing
from tests.web.api.client import ApiClient
from tests.web.helpers import get, person, plain, post

PAGE = "/admin/ticket-intake"
LATER = {"Prefer": "respond-async"}


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture
def send(app, factory, org):
    """Send a ticket request for later as the requester; its id."""
    api = ApiClient(app, factory.api_token(org.requester))

    def send(subject: str) -> int:
        response = api.post("/tickets", headers=LATER, json={
            "service": org.service.code, "subject": subject, "description": "Det krånglar.",
            "impact": 2, "urgency": 2})
        assert response.status_code == 202, response.json
        return int(response.json["id"])

    return send


def rejected_by_a_retired_service(org, settings, send) -> int:
    intake_id = send("Skrivaren på plan 3")
    org.service.lifecycle = Lifecycle.RETIRED
    db.session.flush()
    assert intake.drain(now=utcnow, settings=settings) == intake.DrainResult(rejected=1)
    return intake_id


@pytest.mark.parametrize("who", ["requester", "local_agent", "level2_agent"])
def test_nobody_but_an_administrator_finds_the_intake(app, org, settings, send, who):
    intake_id = rejected_by_a_retired_service(org, settings, send)
    client = person(app, getattr(org, who))
    assert get(client, PAGE).status == 404
    assert post(client, f"{PAGE}/{intake_id}/retry").status == 404
    assert db.session.get(TicketIntake, intake_id).status == IntakeStatus.REJECTED


def test_the_administrator_sees_what_was_rejected_and_why_and_what_waits(app, org, settings, send):
    rejected_by_a_retired_service(org, settings, send)
    org.service.lifecycle = Lifecycle.ACTIVE
    db.session.flush()
    send("Skärmen flimrar")
    admin = person(app, org.admin)
    assert get(admin, "/portal/tickets").doc.find("a", href=PAGE).text == "Ticket intake"

    page = get(admin, PAGE)
    assert page.status == 200 and page.doc.one("h1").text == "Ticket intake"
    facts = plain(page.doc.one("dl").text)
    assert facts == "Waiting requests 1 Made into tickets 0 Rejected requests 1"
    rejected_table, waiting_table = page.doc.find_all("table")
    row = plain(rejected_table.one("tbody").text)
    assert org.requester.email in row and "Skrivaren på plan 3" in row
    assert "cannot be ordered" in row
    assert "Skärmen flimrar" in plain(waiting_table.one("tbody").text)
    assert page.doc.find(role="alert") is None  # the request is seconds old


def test_a_rejected_request_tried_again_becomes_a_ticket(app, org, settings, send):
    intake_id = rejected_by_a_retired_service(org, settings, send)
    accepted_at = db.session.get(TicketIntake, intake_id).accepted_at
    org.service.lifecycle = Lifecycle.ACTIVE  # the cause mended
    db.session.flush()
    admin = person(app, org.admin)

    again = post(admin, f"{PAGE}/{intake_id}/retry", follow=True)
    assert again.flashes == [
        f"Request {intake_id} is waiting again; the ticket is made within seconds."]
    assert "No request was rejected." in again.text
    assert intake.drain(now=utcnow, settings=settings) == intake.DrainResult(created=1)
    made = db.session.get(TicketIntake, intake_id)
    assert made.status == IntakeStatus.CREATED and made.reason is None
    assert made.ticket.subject == "Skrivaren på plan 3"
    assert made.ticket.created_at == accepted_at  # the requester has waited since then


def test_a_retry_is_kept_with_the_rejection_it_gave_up(app, factory, org, settings, send):
    intake_id = rejected_by_a_retired_service(org, settings, send)
    given_up = db.session.get(TicketIntake, intake_id).reason
    admin = person(app, org.admin)
    post(admin, f"{PAGE}/{intake_id}/retry")

    waiting_table = get(admin, PAGE).doc.find_all("table")[-1]
    assert waiting_table.find_all("th", scope="col")[-1].text == "Tried again"
    cell = plain(waiting_table.one("tbody").find_all("td")[-1].text)
    assert f"by {org.admin.name}, after the rejection: " in cell and "cannot be ordered" in cell
    # The requester reads through the API that somebody tried again, not who.
    seen = ApiClient(app, factory.api_token(org.requester)).get(f"/ticket-intake/{intake_id}").json
    assert seen["status"] == "pending" and seen["retried_at"] is not None
    assert org.admin.email not in str(seen)

    # Still retired: rejected again, and the page shows the earlier attempt beside the new reason.
    assert intake.drain(now=utcnow, settings=settings) == intake.DrainResult(rejected=1)
    row = get(admin, PAGE).doc.find_all("table")[0].one("tbody")
    assert f"by {org.admin.name}, after the rejection: " in plain(row.text)
    retries = db.session.query(IntakeRetry).filter_by(intake_id=intake_id).all()
    assert [(r.by_id, r.reason) for r in retries] == [(org.admin.id, given_up)]


def test_a_ticket_made_long_after_its_request_says_so_in_its_history(app, org, settings, send):
    intake_id = send("Skrivaren på plan 3")
    two_hours_ago = utcnow() - timedelta(hours=2)
    db.session.get(TicketIntake, intake_id).accepted_at = two_hours_ago
    org.service.lifecycle = Lifecycle.RETIRED
    db.session.flush()
    assert intake.drain(now=utcnow, settings=settings) == intake.DrainResult(rejected=1)
    org.service.lifecycle = Lifecycle.ACTIVE
    db.session.flush()
    post(person(app, org.admin), f"{PAGE}/{intake_id}/retry")
    assert intake.drain(now=utcnow, settings=settings) == intake.DrainResult(created=1)
    ticket = db.session.get(TicketIntake, intake_id).ticket
    assert ticket.created_at == two_hours_ago

    for reader, pages in ((org.requester, "/portal"), (org.local_agent, "/agent")):
        timeline = get(person(app, reader), f"{pages}/tickets/{ticket.reference}").doc.one(
            "ol", **{"class": "timeline"})
        lines = [plain(item.text) for item in timeline.find_all("li")]
        late = [line for line in lines if line.startswith("Made a ticket from a request accepted earlier")]
        assert len(late) == 1, lines
        assert f"– {org.admin.name} " in late[0]  # the retry made it
        assert f"request {intake_id} and accepted at " in late[0]
        assert "its SLA clocks count from then. It had been rejected, and was tried again." in late[0]
        assert lines[0].startswith("Ticket created")


def test_a_request_a_stopped_drain_left_waiting_is_made_late_by_the_helpdesk(app, org, settings, send):
    intake_id = send("Skärmen flimrar")
    db.session.get(TicketIntake, intake_id).accepted_at = utcnow() - timedelta(minutes=5)
    db.session.flush()
    assert intake.drain(now=utcnow, settings=settings) == intake.DrainResult(created=1)
    ticket = db.session.get(TicketIntake, intake_id).ticket
    late = [event for event in ticket.events if event.kind == "made_from_request"]
    assert [(event.actor, event.details["retried"]) for event in late] == [(None, False)]
    timeline = plain(get(person(app, org.requester), f"/portal/tickets/{ticket.reference}").doc.one(
        "ol", **{"class": "timeline"}).text)
    assert "Made a ticket from a request accepted earlier – " in timeline
    assert "tried again" not in timeline


def test_a_request_made_a_ticket_at_once_adds_nothing_to_its_history(app, org, settings, send):
    intake_id = send("Skärmen flimrar")
    assert intake.drain(now=utcnow, settings=settings) == intake.DrainResult(created=1)
    kinds = [event.kind for event in db.session.get(TicketIntake, intake_id).ticket.events]
    assert "made_from_request" not in kinds and "created" in kinds


def test_a_request_never_retried_says_so(app, org, send):
    send("Skärmen flimrar")
    waiting_table = get(person(app, org.admin), PAGE).doc.find_all("table")[-1]
    assert plain(waiting_table.one("tbody").find_all("td")[-1].text) == "No"


def test_a_forgotten_request_takes_its_retries_along(app, org, settings, send):
    intake_id = rejected_by_a_retired_service(org, settings, send)
    post(person(app, org.admin), f"{PAGE}/{intake_id}/retry")
    org.service.lifecycle = Lifecycle.ACTIVE
    db.session.flush()
    assert intake.drain(now=utcnow, settings=settings) == intake.DrainResult(created=1)
    later = utcnow() + intake.KEEP_PROCESSED + timedelta(minutes=1)
    intake.drain(now=lambda: later, settings=settings)
    db.session.expire_all()
    assert db.session.get(TicketIntake, intake_id) is None
    assert db.session.query(IntakeRetry).count() == 0


def test_only_a_rejected_request_is_tried_again(app, org, send):
    waiting = send("Skärmen flimrar")
    admin = person(app, org.admin)
    refused = post(admin, f"{PAGE}/{waiting}/retry", follow=True)
    assert refused.flashes == ["Only a rejected request can be tried again."]
    assert db.session.get(TicketIntake, waiting).status == IntakeStatus.PENDING
    assert post(admin, f"{PAGE}/{waiting + 1000}/retry").status == 404


def test_a_request_left_waiting_warns_that_nothing_drains(app, org, send):
    waiting = db.session.get(TicketIntake, send("Skärmen flimrar"))
    waiting.accepted_at = utcnow() - timedelta(minutes=5)
    db.session.flush()
    alert = get(person(app, org.admin), PAGE).doc.one(role="alert")
    assert "no scheduler or intake worker seems to be running" in plain(alert.text)
    assert "helpdesk tickets intake --every 1" in alert.text


def test_the_intake_page_in_swedish(app, org, settings, send):
    rejected_by_a_retired_service(org, settings, send)
    org.admin.locale = "sv"
    db.session.flush()
    page = get(person(app, org.admin), PAGE)
    assert page.lang == "sv" and page.doc.one("h1").text == "Ärendeintag"
    assert "Det går inte att beställa" in plain(page.doc.find_all("table")[0].text)
    assert "Försök igen Skrivaren på plan 3" in page.buttons()
    assert page.doc.find_all("table")[0].find_all("th", scope="col")[-2].text == "Försökt igen"
