"""The catalogue in the portal, its forms, approvals and the administrator's gate (HTTP)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from helpdesk.catalogue.models import Lifecycle, MaintenanceWindow, SupportModel
from helpdesk.core.clock import utcnow
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from tests.conftest import first
from tests.web.helpers import get, person, post

FORM = [
    {"name": "software", "label": "Programvara", "label_en": "Software", "type": "text",
     "required": True},
    {"name": "licences", "label": "Antal", "label_en": "Licences", "type": "number",
     "required": True},
]
ORDER = {"subject": "MATLAB", "description": "For the lab course.", "impact": "3",
         "urgency": "3", "type": "service_request"}


@pytest.fixture
def approver(factory):
    return factory.user(name="Gunilla Prefekt")


@pytest.fixture
def catalogue(factory, org, sla_org, approver, session):
    now = utcnow()  # the portal shows the windows still to come, by the wall clock
    software = factory.catalogue_service(
        org.level2, category="Arbetsplats", requires_approval=True, approvers=[approver],
        request_form=FORM, sla_policy=sla_org.policy, no_sla=False,
        long_description="Licensed software for staff.", support_hours="Office hours.")
    software.name_en = "Software order"
    software.maintenance_windows = [
        MaintenanceWindow(starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=3, hours=2),
                          description="Uppgradering", description_en="Licence server upgrade"),
        MaintenanceWindow(starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=2),
                          description="Förra veckan", description_en="Last week's window")]
    phones = factory.catalogue_service(
        org.level2, category="Kommunikation", support_model=SupportModel.VENDOR_DIRECT,
        vendor_instructions="Call the operator.", vendor_contact="Operatören AB, 020-12 34 56")
    phones.name_en = "Mobile phones"
    fax = factory.catalogue_service(org.level2, category="Kommunikation",
                                    lifecycle=Lifecycle.RETIRING, retiring_on=date(2026, 12, 31))
    fax.name_en = "Fax"
    idea = factory.service(lifecycle=Lifecycle.PROPOSED, code="idea")
    session.commit()  # a refusal rolls back: keep the arranged rows out of its reach
    return {"software": software, "phones": phones, "fax": fax, "idea": idea}


def test_the_catalogue_is_grouped_and_searchable_without_javascript(app, org, catalogue):
    client = person(app, org.requester)
    page = get(client, "/portal")
    headings = [h.text for h in page.doc.find_all("h2")]
    assert headings.index("Arbetsplats") < headings.index("Kommunikation")
    assert "Mobile phones" in page.text and "until 2026-12-31" in page.text
    assert catalogue["idea"].name_en not in page.text  # proposed: not in the catalogue
    found = get(client, "/portal?q=MOBILE")
    assert "1 service matches" in found.text
    assert "Mobile phones" in found.text and "Software order" not in found.text
    assert "No service matches" in get(client, "/portal?q=zzz%25").text


def test_a_service_page_tells_hours_sla_maintenance_and_the_form(app, org, catalogue):
    page = get(person(app, org.requester), f"/portal/services/{catalogue['software'].code}")
    assert page.status == 200
    text = page.text
    assert "Licensed software for staff." in text and "Office hours." in text
    assert "First response within" in text and "30 min" in text  # P1 of the standard policy
    assert "Licence server upgrade" in text and "Last week's window" not in text
    assert page.doc.one(id="form_software") is not None
    assert "approved by an authorised approver" in text


def test_vendor_direct_and_retiring_pages_say_so(app, org, catalogue):
    client = person(app, org.requester)
    phones = get(client, f"/portal/services/{catalogue['phones'].code}").text
    assert "Call the operator." in phones and "Operatören AB, 020-12 34 56" in phones
    fax = get(client, f"/portal/services/{catalogue['fax'].code}").text
    assert "ends on 2026-12-31" in fax


def test_a_proposed_service_has_no_page(app, org, catalogue):
    assert get(person(app, org.requester), "/portal/services/idea").status == 404


def test_bad_form_input_keeps_what_was_typed_and_names_the_field(app, org, catalogue):
    code = catalogue["software"].code
    page = post(person(app, org.requester), f"/portal/services/{code}",
                {**ORDER, "form_software": "MATLAB R2026a", "form_licences": "three"},
                content_type="multipart/form-data")
    assert page.status == 422
    summary = page.doc.one("div", class_="error-summary")
    assert "Licences" in summary.text and "Software" not in summary.text
    assert page.field_value("form_licences") == "three"
    assert page.field_value("form_software") == "MATLAB R2026a"
    assert page.field_value("subject") == "MATLAB"
    assert "Write a whole number." in page.text
    assert first(Ticket, subject="MATLAB") is None


def test_an_order_waits_for_approval_and_its_answers_are_shown_to_agents(
        app, org, catalogue, approver):
    code = catalogue["software"].code
    page = post(person(app, org.requester), f"/portal/services/{code}",
                {**ORDER, "form_software": "MATLAB", "form_licences": "3"},
                content_type="multipart/form-data", follow=True)
    assert "waits for approval" in page.flashes[0]
    ticket = first(Ticket, subject="MATLAB")
    assert ticket.status == "awaiting_approval"
    agent_page = get(person(app, org.local_agent), f"/agent/tickets/{ticket.reference}")
    answers = agent_page.doc.one("section", aria_labelledby="answers-heading").text
    assert "Software" in answers and "MATLAB" in answers and "3" in answers
    assert "waits for approval" in agent_page.text
    # The queue: the service's SLA starts at the approval; it is not a service without one.
    queue = get(person(app, org.local_agent), f"/agent/queues/{ticket.assigned_group.code}")
    row = next(r for r in queue.doc.one("tbody").find_all("tr") if ticket.reference in r.text)
    assert "Starts when approved" in row.text and "No SLA" not in row.text


def order(app, org, catalogue) -> Ticket:
    post(person(app, org.requester), f"/portal/services/{catalogue['software'].code}",
         {**ORDER, "form_software": "MATLAB", "form_licences": "3"},
         content_type="multipart/form-data")
    return first(Ticket, subject="MATLAB")


def test_the_approver_approves_from_the_portal(app, org, catalogue, approver):
    ticket = order(app, org, catalogue)
    client = person(app, approver)
    listed = get(client, "/portal/approvals")
    assert ticket.reference in listed.text
    assert "Approvals" in [a.text for a in listed.doc.one("nav").find_all("a")]
    page = post(client, f"/portal/approvals/{ticket.reference}", {"decision": "approve"},
                follow=True)
    assert "You approved" in page.flashes[0]
    assert ticket.status == "new" and ticket.clocks
    assert "No orders are waiting for your approval." in page.text


def test_the_approver_rejects_with_a_reason_and_the_requester_reads_it(
        app, org, catalogue, approver):
    ticket = order(app, org, catalogue)
    client = person(app, approver)
    refused = post(client, f"/portal/approvals/{ticket.reference}", {"decision": "reject"})
    assert refused.status == 422 and "Give a reason." in refused.text
    post(client, f"/portal/approvals/{ticket.reference}",
         {"decision": "reject", "reason": "Use the campus licence"})
    assert ticket.status == "rejected"
    mine = get(person(app, org.requester), f"/portal/tickets/{ticket.reference}").text
    assert "Rejected" in mine and "Use the campus licence" in mine


def test_nobody_else_finds_the_approval_page(app, org, catalogue):
    ticket = order(app, org, catalogue)
    for someone in (org.requester, org.local_agent, org.admin):
        client = person(app, someone)
        assert get(client, f"/portal/approvals/{ticket.reference}").status == 404
        assert post(client, f"/portal/approvals/{ticket.reference}",
                    {"decision": "approve"}).status == 404
    assert ticket.status == "awaiting_approval"


def test_the_administrator_publishes_through_the_gate(app, org, catalogue):
    client = person(app, org.admin)
    idea = catalogue["idea"]
    refused = post(client, "/admin/catalogue/idea", {"to": "active"})
    assert refused.status == 422
    missing = refused.doc.one("div", class_="error-summary").text
    assert "the level-1 routine" in missing and "the SLA decision" in missing
    assert idea.lifecycle == Lifecycle.PROPOSED
    idea.routines, idea.no_sla = {"level1": "Answer."}, True
    db.session.commit()
    page = post(client, "/admin/catalogue/idea", {"to": "pilot"}, follow=True)
    assert idea.lifecycle == Lifecycle.PILOT and "is now: Pilot" in page.flashes[0]


def test_the_administrator_retires_a_service_by_a_date(app, org, catalogue):
    client = person(app, org.admin)
    code = catalogue["phones"].code
    page = post(client, f"/admin/catalogue/{code}", {"to": "retiring", "retiring_on": "31/12"})
    assert page.status == 422 and "Write a date as YYYY-MM-DD." in page.text
    assert page.field_value("retiring_on") == "31/12"
    post(client, f"/admin/catalogue/{code}", {"to": "retiring", "retiring_on": "2027-01-31"})
    assert catalogue["phones"].retiring_on == date(2027, 1, 31)


def test_the_catalogue_administration_is_for_administrators_only(app, org, catalogue):
    for someone in (org.requester, org.local_agent):
        assert get(person(app, someone), "/admin/catalogue").status == 404
        assert post(person(app, someone), "/admin/catalogue/idea",
                    {"to": "active"}).status == 404


def test_the_administrator_fills_in_what_the_gate_asks_for_from_the_page(
        app, org, catalogue, sla_org):
    client = person(app, org.admin)
    refused = post(client, "/admin/catalogue/idea/routines",
                   {"routine_level1": "Answer the phone.", "sla": "gold"})
    assert refused.status == 422 and "Choose one of the options." in refused.text
    assert refused.field_value("routine_level1") == "Answer the phone."
    post(client, "/admin/catalogue/idea/routines",
         {"routine_level1": "Answer the phone.", "sla": sla_org.policy.code})
    idea = catalogue["idea"]
    assert idea.routines["level1"] == "Answer the phone." and idea.sla_policy == sla_org.policy
    page = post(client, "/admin/catalogue/idea", {"to": "active"}, follow=True)
    assert idea.lifecycle == Lifecycle.ACTIVE, page.text


def test_search_finds_words_in_any_case_with_swedish_letters(app, org, catalogue):
    catalogue["phones"].description = "Åtkomst till växeln"
    db.session.commit()
    page = get(person(app, org.requester), "/portal?q=%C3%85TKOMST+V%C3%84XELN")
    assert "1 service matches" in page.text and "Mobile phones" in page.text


def test_an_approver_cannot_read_the_services_other_tickets(app, org, catalogue, approver,
                                                            factory):
    problem = factory.ticket(org.requester, catalogue["software"])  # an incident, no approval
    db.session.commit()
    assert get(person(app, approver), f"/portal/approvals/{problem.reference}").status == 404


def test_the_tickets_and_the_forms_bad_fields_are_named_together(app, org, catalogue):
    page = post(person(app, org.requester), f"/portal/services/{catalogue['software'].code}",
                {**ORDER, "subject": " ", "form_software": "", "form_licences": "3"},
                content_type="multipart/form-data")
    assert page.status == 422
    named = page.doc.one("div", class_="error-summary").text
    assert "Subject" in named and "Software" in named and "Licences" not in named


def test_a_fault_report_is_not_asked_the_order_form(app, org, catalogue):
    page = post(person(app, org.requester), f"/portal/services/{catalogue['software'].code}",
                {**ORDER, "type": "incident"}, content_type="multipart/form-data", follow=True)
    ticket = first(Ticket, subject="MATLAB")
    assert ticket is not None and ticket.status == "new", page.text


def test_agents_read_the_services_routine_for_their_level(app, org, catalogue, factory):
    ticket = factory.ticket(org.requester, catalogue["phones"])
    db.session.commit()
    agent_page = get(person(app, org.local_agent), f"/agent/tickets/{ticket.reference}")
    routine = agent_page.doc.one("details", class_="routine").text
    assert "Routine for level 1" in routine and "Ask what happened." in routine
    portal_page = get(person(app, org.requester), f"/portal/tickets/{ticket.reference}")
    assert "Ask what happened." not in portal_page.text


def test_the_confirmation_says_what_the_sla_promises_as_the_acknowledgement_mail_does(
        app, org, sla_org, monkeypatch):
    from datetime import UTC, datetime

    from helpdesk.web import edge

    # Tuesday 10 March 2026, 09:00 in Stockholm: P3's 4 h and 16 h of office hours.
    monkeypatch.setattr(edge, "now", lambda: datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    anna = person(app, org.requester)
    fault = {"subject": "Outlook", "description": "Startar inte.", "impact": "2", "urgency": "2",
             "type": "incident"}
    page = post(anna, f"/portal/services/{org.service.code}", fault, follow=True)
    said = " ".join(page.flashes)
    assert "We aim to give you a first answer by 2026-03-10 13:00 (within 4 h" in said
    assert f"counted in the service's hours: {sla_org.calendar.name})" in said
    assert "We aim to have it solved by" in said

    page = post(anna, f"/portal/services/{sla_org.no_sla_service.code}", fault, follow=True)
    assert "This service has no agreed response times, so we give no date" in " ".join(
        page.flashes)
