"""The ticket lifecycle through HTTP, as requesters and agents use it (both backends)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from helpdesk.cli import main as helpdesk_cli
from helpdesk.tickets.models import Ticket, TicketEvent
from helpdesk.tickets.operations import ask_requester, resolve_ticket, take_ticket
from helpdesk.tiers.models import Consultation, ConsultationStatus
from helpdesk.web.template_helpers import HISTORY_LABELS, STATUS_LABELS
from tests.conftest import first
from tests.web.helpers import REFERENCE, Page, PersonClient, get, person, post

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def submit(client: PersonClient, service_code: str, **fields: object) -> Page:
    data = {"subject": "Kan inte skicka e-post", "description": "Allt fastnar i utkorgen.",
            "impact": "2", "urgency": "2", "type": "incident"}
    data.update({k: v for k, v in fields.items() if v is not None})
    return post(client, f"/portal/services/{service_code}", data, follow=True,
                content_type="multipart/form-data")


def act(client: PersonClient, reference: str, event: str, **fields: str) -> Page:
    """Open the agent ticket page, then press the action with what the person typed."""
    version = get(client, f"/agent/tickets/{reference}").version()
    return post(client, f"/agent/tickets/{reference}/actions/{event}",
                {"version": version, **fields}, follow=True)


def write(client: PersonClient, reference: str, body: str, internal: bool) -> Page:
    version = get(client, f"/agent/tickets/{reference}").version()
    return post(client, f"/agent/tickets/{reference}/messages",
                {"body": body, "internal": "true" if internal else "false", "version": version},
                follow=True)


def ticket_by(reference: str) -> Ticket:
    ticket = first(Ticket, reference=reference)
    assert ticket is not None
    return ticket


def local_minute(at: datetime) -> str:
    return at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def assert_history_complete(page: Page, ticket: Ticket) -> None:
    """Every recorded event is on the page: what, when, who, status and group moves, why."""
    items = page.history()
    events = list(ticket.events)
    assert len(items) == len(events)
    for item, event in zip(items, events, strict=True):
        assert HISTORY_LABELS[event.kind] in item
        assert local_minute(event.at) in item
        assert (event.actor.name if event.actor else "the helpdesk") in item
        if event.from_status or event.to_status:
            frm = STATUS_LABELS[event.from_status] if event.from_status else "–"
            assert f"Status: {frm} → {STATUS_LABELS[event.to_status]}" in item
        if event.from_group or event.to_group:
            frm = event.from_group.name_en if event.from_group else "–"
            to = event.to_group.name_en if event.to_group else "–"
            assert f"Group: {frm} → {to}" in item
        if event.reason and event.kind != "routed":
            assert f"Why: {event.reason}" in item
        if event.kind == "routed":
            assert "Why: The requester's department" in item


# --- submitting -----------------------------------------------------------------------------


def test_requester_submits_with_attachment_and_finds_it_in_my_tickets(app, org):
    anna = person(app, org.requester)
    form = get(anna, f"/portal/services/{org.service.code}")
    assert form.status == 200
    assert form.checked("impact") == "3" and form.checked("urgency") == "3"

    page = submit(anna, org.service.code, subject="Utkorgen är full", impact="1", urgency="2",
                  attachments=(io.BytesIO(b"screenshot"), "skärmbild.png"))

    assert page.status == 200
    (flash,) = page.flashes
    reference = REFERENCE.search(flash).group()
    assert flash.endswith(" This service has no agreed response times, so we give no date; we "
                          "handle your ticket as soon as we can, in order of priority.")
    assert flash.startswith(f"Thank you. Your ticket {reference} is registered")
    ticket = ticket_by(reference)
    assert (ticket.impact, ticket.urgency, ticket.priority) == (1, 2, 2)
    assert ticket.assigned_group == org.local and ticket.status == "new"
    assert "P2" in page.text and "Utkorgen är full" in page.text
    assert page.doc.find("a", href=f"/tickets/{reference}/attachments/{ticket.attachments[0].id}")

    mine = get(anna, "/portal/tickets")
    assert mine.references() == [reference]
    assert "Utkorgen är full" in mine.text and "New" in mine.text


def test_confirmation_names_the_group_in_the_readers_language(app, org):
    page = submit(person(app, org.requester), org.service.code)
    assert f"in the queue of {org.local.name_en}." in page.flashes[0]


def test_bad_portal_input_is_refused_with_named_fields_and_keeps_what_was_typed(app, org, session):
    anna = person(app, org.requester)
    page = post(anna, f"/portal/services/{org.service.code}",
                {"subject": "", "description": "Skrivaren <b>piper</b> hela tiden.",
                 "impact": "9", "urgency": "1", "type": "service_request"})

    assert page.status == 422
    summary = page.doc.one("div", class_="error-summary")
    assert [a.text for a in summary.find_all("a")] == ["Subject", "Impact"]
    assert page.doc.one(id="subject-error").text == "This field is required."
    assert page.doc.one(id="impact-error").text == "Choose one of the options."
    assert page.doc.one(id="subject").attrs.get("aria-invalid") == "true"
    assert page.field_value("description") == "Skrivaren <b>piper</b> hela tiden."
    assert "<b>piper</b>" not in page.html  # kept, and escaped
    assert page.checked("urgency") == "1" and page.checked("type") == "service_request"
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_error_summary_links_lead_to_the_fields(app, org):
    page = post(person(app, org.requester), f"/portal/services/{org.service.code}",
                {"subject": "", "description": "x", "impact": "9", "urgency": "2"})
    for link in page.doc.one("div", class_="error-summary").find_all("a"):
        assert page.doc.find(id=link.attrs["href"].removeprefix("#")), link.attrs["href"]


def test_routing_reason_names_the_department_in_the_readers_language(app, org):
    page = submit(person(app, org.requester), org.service.code)
    routed = next(item for item in page.history() if item.startswith("Routed"))
    assert f"department {org.with_helpdesk.name_en} has a local helpdesk" in routed


# --- the queue ------------------------------------------------------------------------------


def test_queue_sorts_and_filters(app, org, factory, settings, now):
    older_p1 = factory.ticket(org.requester, org.service, now=now - timedelta(days=2),
                              impact=1, urgency=1, subject="Hela institutionen saknar e-post")
    newer_p4 = factory.ticket(org.requester, org.service, now=now - timedelta(days=1),
                              impact=3, urgency=3, subject="Fel typsnitt i signaturen")
    newest_p3 = factory.ticket(org.requester, org.service, now=now, impact=2, urgency=2,
                               subject="Kalendern visar fel tid")
    take_ticket(newest_p3, actor=org.local_agent, now=now, settings=settings)
    ask_requester(newest_p3, actor=org.local_agent, question="Vilken klient?", now=now,
                  settings=settings)
    lars = person(app, org.local_agent)
    queue = f"/agent/queues/{org.local.code}"

    by_priority = get(lars, queue)
    assert by_priority.references() == [older_p1.reference, newest_p3.reference,
                                         newer_p4.reference]
    assert get(lars, queue, query_string={"sort": "newest"}).references() == [
        newest_p3.reference, newer_p4.reference, older_p1.reference]
    assert get(lars, queue, query_string={"sort": "oldest"}).references() == [
        older_p1.reference, newer_p4.reference, newest_p3.reference]
    assert get(lars, queue, query_string={"status": "waiting"}).references() == [newest_p3.reference]
    assert get(lars, queue, query_string={"status": "unassigned", "sort": "newest"}).references() == [
        newer_p4.reference, older_p1.reference]
    assert get(lars, queue, query_string={"priority": "4"}).references() == [newer_p4.reference]
    only_p1 = get(lars, queue, query_string={"priority": "1", "sort": "newest"})
    assert only_p1.references() == [older_p1.reference]
    assert only_p1.doc.one("option", value="1", selected="").text == "P1"
    assert "No tickets match." in get(lars, queue, query_string={"status": "resolved"}).text


# --- the whole story ------------------------------------------------------------------------


def test_lifecycle_from_portal_through_three_levels_to_confirmation(app, org, factory):
    anna = person(app, org.requester)
    lars = person(app, org.local_agent)
    olof = person(app, org.level2_agent)
    other = person(app, org.other3_agent)
    eva = person(app, org.level3_agent)

    page = submit(anna, org.service.code, subject="Kan inte skicka e-post", impact="2", urgency="1")
    reference = REFERENCE.search(page.flashes[0]).group()
    assert reference in get(lars, f"/agent/queues/{org.local.code}").references()
    ticket_url, portal_url = f"/agent/tickets/{reference}", f"/portal/tickets/{reference}"

    # Level 1 takes it, writes for staff and for the requester, then asks.
    page = act(lars, reference, "take")
    assert page.flashes == ["Done: Take."] and f"Handled by {org.local_agent.name}" in page.text
    write(lars, reference, "Intern: kontrollera kvoten på servern.", internal=True)
    write(lars, reference, "Vi tittar på det nu.", internal=False)
    portal = get(anna, portal_url)
    assert "Vi tittar på det nu." in portal.text
    assert "kontrollera kvoten" not in portal.html

    page = act(lars, reference, "ask_requester", message="Vilken e-postklient använder du?")
    assert "Status Waiting for requester" in page.text
    portal = get(anna, portal_url)
    assert "The helpdesk is waiting for your answer." in portal.text
    assert "Vilken e-postklient använder du?" in portal.text
    page = post(anna, f"{portal_url}/reply", {"body": "Outlook på Windows."}, follow=True)
    assert page.flashes == ["Your message is added to the ticket."]
    assert ticket_by(reference).status == "in_progress"

    # Up to level 2, which borrows competence from another group before going further.
    page = act(lars, reference, "escalate", to_group=org.level2.code,
               reason="Gäller servern, inte klienten.")
    assert ticket_by(reference).assigned_group == org.level2
    act(olof, reference, "take")
    page = post(olof, f"{ticket_url}/consultations",
                {"group": org.other3.code, "question": "Ser ni något i spamfiltret?"}, follow=True)
    assert page.flashes == [f"{org.other3.name} is consulted."]

    overview = get(other, "/agent")
    assert reference in overview.text and "Ser ni något i spamfiltret?" in overview.text
    consulted = get(other, ticket_url)
    assert consulted.status == 200 and "Your group is consulted" in consulted.text
    assert not consulted.doc.find("section", class_="actions")
    # A consulted group writes internal notes only, whatever the form says.
    write(other, reference, "Spamfiltret stoppar inget från er.", internal=False)
    consultation = first(Consultation, group_id=org.other3.id)
    page = post(other, f"/agent/consultations/{consultation.id}/answer",
                {"answer": "Nej, filtret är rent."}, follow=True)
    assert page.flashes == ["Your answer is on the ticket."]
    post(olof, f"/agent/consultations/{consultation.id}/close", follow=True)
    assert first(Consultation, id=consultation.id).status == ConsultationStatus.CLOSED
    assert get(other, ticket_url).status == 404  # the borrowed competence is returned

    # Level 2 escalates to level 3 and loses the ticket from its view.
    response = olof.post(f"{ticket_url}/actions/escalate",
                         data={"version": ticket_by(reference).version, "to_group": org.level3.code,
                               "reason": "Kräver ändring i serverns konfiguration."})
    assert response.status_code == 302 and response.headers["Location"] == "/agent"
    assert get(olof, ticket_url).status == 404

    act(eva, reference, "take")
    page = act(eva, reference, "resolve", note="Kvoten höjdes; posten går iväg igen.")
    assert "Status Resolved" in page.text

    # The requester sees every public step and the solution, and nothing internal.
    portal = get(anna, portal_url)
    solution = portal.doc.one("section", aria_labelledby="resolution-heading").text
    assert solution == "Solution Kvoten höjdes; posten går iväg igen."
    for public in ("Vi tittar på det nu.", "Vilken e-postklient använder du?",
                   "Outlook på Windows.", "Kvoten höjdes; posten går iväg igen."):
        assert public in portal.text
    for internal in ("kontrollera kvoten", "Spamfiltret", "filtret är rent", "spamfiltret"):
        assert internal not in portal.html
    assert "Confirm the solution" in portal.buttons()

    # Not solved after all: replying reopens it, back with level 1 that keeps the customer.
    page = post(anna, f"{portal_url}/reply", {"body": "Det hände igen i morse."}, follow=True)
    ticket = ticket_by(reference)
    assert (ticket.status, ticket.assigned_group, ticket.assignee) == ("open", org.local, None)
    act(lars, reference, "take")
    act(lars, reference, "resolve", note="Ny profil skapad i Outlook.")
    page = post(anna, f"{portal_url}/confirm", follow=True)
    assert page.flashes == ["Thank you for confirming. The ticket is closed."]
    assert ticket_by(reference).status == "closed"
    assert "Confirm the solution" not in page.buttons()

    closed = get(lars, ticket_url)
    assert "Resolve" not in closed.buttons() and "Escalate" not in closed.buttons()
    assert_history_complete(closed, ticket_by(reference))
    kinds = [e.kind for e in ticket_by(reference).events]
    assert kinds == ["created", "routed", "taken", "noted", "replied", "asked_requester",
                     "requester_replied", "escalated", "taken", "consulted", "noted", "noted",
                     "consultation_answered", "consultation_closed", "escalated", "taken",
                     "resolved", "reopened", "taken", "resolved", "confirmed"]


def test_level3_returns_the_ticket_to_level_1_with_a_reason(app, org, factory, settings, now):
    ticket = factory.ticket(org.requester, org.service)
    lars, eva = person(app, org.local_agent), person(app, org.level3_agent)
    act(lars, ticket.reference, "escalate", to_group=org.level3.code, reason="Expertfråga.")

    page = act(eva, ticket.reference, "return_to_level_1",
               reason="Inget serverfel; användarens lösenord har gått ut.")

    assert page.flashes == ["Done: Return to level 1."]
    assert (ticket.status, ticket.assigned_group, ticket.assignee) == ("open", org.local, None)
    back = get(lars, f"/agent/tickets/{ticket.reference}")
    assert "Return to level 1" not in back.buttons()
    assert back.history()[-1].startswith("Returned to level 1")
    assert_history_complete(back, ticket)


# --- what the page offers, and what it refuses ----------------------------------------------


def test_pages_offer_only_what_the_workflow_allows(app, org, factory):
    ticket = factory.ticket(org.requester, org.service)
    lars, eva = person(app, org.local_agent), person(app, org.level3_agent)
    url = f"/agent/tickets/{ticket.reference}"

    at_level_1 = get(lars, url).buttons()
    assert {"Take the ticket", "Escalate", "Resolve"} <= set(at_level_1)
    assert "Return to level 1" not in at_level_1
    assert "Confirm the solution" not in get(person(app, org.requester),
                                             f"/portal/tickets/{ticket.reference}").buttons()

    act(lars, ticket.reference, "escalate", to_group=org.level3.code, reason="Expertfråga.")
    at_level_3 = get(eva, url).buttons()
    assert "Return to level 1" in at_level_3 and "Escalate" not in at_level_3


def test_owner_group_agent_is_not_offered_take_on_an_escalated_ticket(app, org, factory):
    # Taking needs membership of the group that works the ticket now.
    ticket = factory.ticket(org.requester, org.service)
    lars = person(app, org.local_agent)
    act(lars, ticket.reference, "escalate", to_group=org.level2.code, reason="Nivå 2.")
    page = get(lars, f"/agent/tickets/{ticket.reference}")
    assert page.status == 200 and "Take the ticket" not in page.buttons()


def test_refused_resolve_shows_the_reason_and_changes_nothing(app, org, factory, session):
    ticket = factory.ticket(org.requester, org.service)
    session.commit()  # a refused post rolls back: keep the arranged rows out of its reach
    lars = person(app, org.local_agent)
    act(lars, ticket.reference, "take")
    version, events = ticket.version, len(ticket.events)

    page = act(lars, ticket.reference, "resolve", note="   ")

    assert page.status == 409
    assert page.flashes == ["A ticket is resolved with a resolution note saying what was done."]
    session.expire_all()
    assert (ticket.version, ticket.status, len(ticket.events)) == (version, "in_progress", events)
    assert ticket.resolved_at is None


def test_reopening_after_the_window_is_refused_with_the_reason(app, org, factory, settings,
                                                                 session):
    resolved_at = datetime.now(UTC) - timedelta(days=settings.reopen_days + 1)
    ticket = factory.ticket(org.requester, org.service, now=resolved_at - timedelta(hours=1))
    take_ticket(ticket, actor=org.local_agent, now=resolved_at, settings=settings)
    resolve_ticket(ticket, actor=org.local_agent, note="Klart.", now=resolved_at, settings=settings)
    session.commit()  # a refused post rolls back: keep the arranged rows out of its reach
    anna = person(app, org.requester)
    url = f"/portal/tickets/{ticket.reference}"
    assert "Reopen" not in get(anna, url).buttons()

    page = post(anna, f"{url}/reply", {"body": "Det krånglar igen."})

    assert page.status == 409
    assert page.flashes == [
        "The time for reopening this ticket has passed; please submit a new ticket."]
    session.expire_all()
    assert ticket.status == "resolved"
    assert not any(m.body == "Det krånglar igen." for m in ticket.messages)


def test_second_agent_on_a_stale_page_is_refused_and_keeps_the_text(app, org, factory, session):
    ticket = factory.ticket(org.requester, org.service)
    first_agent = org.local_agent
    # In both groups, so she may still resolve it after it moved to level 2.
    second_agent = factory.agent(org.local, org.level2)
    lars, lisa = person(app, first_agent), person(app, second_agent)
    act(lars, ticket.reference, "take")
    url = f"/agent/tickets/{ticket.reference}"
    seen_by_lars, seen_by_lisa = get(lars, url).version(), get(lisa, url).version()
    assert seen_by_lars == seen_by_lisa

    post(lars, f"{url}/actions/escalate", {"version": seen_by_lars, "to_group": org.level2.code,
                                          "reason": "Servern."})
    typed = "Jag startade om tjänsten,\nnu fungerar det."
    page = post(lisa, f"{url}/actions/resolve", {"version": seen_by_lisa, "note": typed})

    assert page.status == 409
    (flash,) = page.flashes
    assert re.fullmatch(rf"{first_agent.name} changed this ticket at \d{{4}}-\d\d-\d\d \d\d:\d\d, "
                        r"after you opened it\. Reload the ticket .*", flash), flash
    assert page.field_value("resolve-note") == typed
    session.expire_all()
    assert (ticket.status, ticket.assigned_group, ticket.resolved_at) == ("open", org.level2, None)
    assert [e.kind for e in ticket.events][-1] == "escalated"

    # A public reply written on the stale page is refused the same way and kept too.
    page = post(lisa, f"{url}/messages", {"version": seen_by_lisa, "internal": "false",
                                         "body": "Nu ska det fungera."})
    assert page.status == 409 and page.field_value("message-body") == "Nu ska det fungera."
    assert page.checked("internal") == "false"  # still a reply: Save again must not hide it
    assert not any(m.body == "Nu ska det fungera." for m in ticket.messages)


def test_a_note_with_a_program_attached_is_refused_with_the_text_kept(app, org, factory, session):
    ticket = factory.ticket(org.requester, org.service)
    session.commit()  # the refusal rolls back: keep the arranged rows out of its reach
    lars = person(app, org.local_agent)
    page = post(lars, f"/agent/tickets/{ticket.reference}/messages",
                {"version": ticket.version, "internal": "true", "body": "Kör detta.",
                 "attachments": [(io.BytesIO(b"MZ"), "fix.exe")]},
                content_type="multipart/form-data")
    assert page.status == 415
    assert page.flashes[0].startswith("Files ending in .exe are not taken (fix.exe).")
    assert page.field_value("message-body") == "Kör detta."
    assert [m.body for m in ticket.messages] == []
    # The field says beforehand what it takes.
    hint = page.doc.one("p", id="attachments-hint").text
    assert "Up to 10 MB a file" in hint and ".pdf" in hint


# --- auto-close from the command line -------------------------------------------------------


def test_autoclose_command_closes_tickets_resolved_long_enough_ago(
    app: Flask, org, factory, settings, session, monkeypatch
):
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)  # FlaskGroup sets it; restore after
    now = datetime.now(UTC)
    days = settings.autoclose_days

    def resolved(days_ago: float) -> Ticket:
        at = now - timedelta(days=days_ago)
        ticket = factory.ticket(org.requester, org.service, now=at - timedelta(hours=1))
        take_ticket(ticket, actor=org.local_agent, now=at, settings=settings)
        resolve_ticket(ticket, actor=org.local_agent, note="Klart.", now=at, settings=settings)
        return ticket

    old, recent = resolved(days + 1), resolved(days - 1)
    session.flush()

    result = app.test_cli_runner().invoke(
        helpdesk_cli, ["tickets", "autoclose"], obj=ScriptInfo(create_app=lambda: app)
    )

    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Closed 1 resolved tickets: {old.reference}"
    session.expire_all()
    assert (old.status, recent.status) == ("closed", "resolved")
    closing = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == old.id)
                              .order_by(TicketEvent.id.desc())).first()
    assert (closing.kind, closing.actor, closing.to_status) == ("auto_closed", None, "closed")
    assert old.closed_at is not None and recent.closed_at is None


def test_description_with_an_attachment_is_shown_once(app, org):
    anna = person(app, org.requester)
    page = submit(anna, org.service.code, description="Utkorgen växer för varje timme.",
                  attachments=(io.BytesIO(b"png"), "bild.png"))
    conversation = page.doc.one("section", aria_labelledby="messages-heading")
    assert conversation.text.count("Utkorgen växer för varje timme.") == 1


def test_agent_reopens_a_resolved_ticket_from_the_page(app, org, factory, settings, session):
    now = datetime.now(UTC)  # the page offers reopening only within the window from today
    ticket = factory.ticket(org.requester, org.service, now=now)
    take_ticket(ticket, actor=org.local_agent, now=now, settings=settings)
    resolve_ticket(ticket, actor=org.local_agent, note="Klart.", now=now, settings=settings)
    session.commit()  # a refused post rolls back: keep the arranged rows out of its reach
    lars = person(app, org.local_agent)
    page = get(lars, f"/agent/tickets/{ticket.reference}")
    actions = page.doc.one("section", class_="actions")
    assert [s.text for s in actions.find_all("summary")] == ["Reopen"]
    form = actions.one("form")
    reopen = {t.attrs["name"]: "Användaren hörde av sig: samma fel igen."
              for t in form.find_all("textarea")}

    response = lars.post(form.attrs["action"], data={"version": page.version(), **reopen})

    assert response.status_code == 302
    session.expire_all()
    assert (ticket.status, ticket.resolved_at) == ("open", None)
    assert ticket.events[-1].kind == "reopened"


def test_an_action_refused_for_bad_input_says_why(app, org, factory, session):
    ticket = factory.ticket(org.requester, org.service)
    session.commit()  # a refused post rolls back: keep the arranged rows out of its reach
    lars = person(app, org.local_agent)
    version = get(lars, f"/agent/tickets/{ticket.reference}").version()

    page = post(lars, f"/agent/tickets/{ticket.reference}/actions/assign", {"version": version})

    assert page.status == 422
    assert "Choose an agent." in page.text
