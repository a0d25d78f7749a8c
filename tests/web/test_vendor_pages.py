"""Vendors on the agent's ticket page, and the administrators' vendor register (HTTP)."""

from __future__ import annotations

from helpdesk.mail.ingest import receive
from helpdesk.vendors.models import HandoffStatus
from helpdesk.vendors.operations import (
    hand_off_to_vendor,
    handoffs,
    record_vendor_reply,
    vendor_solved,
    write_to_vendor,
)
from tests.integration.mail.builders import mail
from tests.web.helpers import get, person, post


def hand_over(client, reference, **fields):
    version = get(client, f"/agent/tickets/{reference}").version()
    return post(client, f"/agent/tickets/{reference}/vendor/handoffs",
                {"version": version, **fields}, follow=True)


def test_an_agent_hands_over_to_a_vendor_the_service_allows_at_their_level(app, vendor_org):
    v = vendor_org
    agent = person(app, v.org.level2_agent)
    page = get(agent, f"/agent/tickets/{v.ticket.reference}")
    options = [o.attrs["value"] for o in page.doc.one("select", id="handoff-vendor")
               .find_all("option")]
    assert options == ["acme"]  # Beta takes this service's tickets only from level 3
    assert "after the customer's SLA" in page.doc.one("select", id="handoff-vendor").text
    # The vendor events are in the vendor section, not among the other actions.
    assert "Hand to a vendor" in page.buttons() and "Recall the handoff" not in page.buttons()
    done = hand_over(agent, v.ticket.reference, vendor="acme", message="Relay queue stuck?")
    assert done.status == 200 and "The ticket was handed to the vendor." in done.flashes
    assert "Waiting for vendor" in done.text
    assert "Acme AB" in done.text and "not known yet" in done.text
    warning = done.doc.one("p", class_="callout warning")
    assert "The vendor alone cannot keep the customer's promise" in warning.text
    assert "Recall the handoff" in done.buttons()


def test_a_refused_handoff_names_the_field_and_keeps_the_message(app, vendor_org, session):
    v = vendor_org
    session.commit()  # a refused post rolls back: keep the arranged rows out of its reach
    agent = person(app, v.org.level2_agent)
    page = hand_over(agent, v.ticket.reference, vendor="beta", message="Please help.")
    assert page.status == 409
    assert any("may not be handed to that vendor" in f for f in page.flashes)
    assert page.field_value("handoff-message") == "Please help."
    empty = hand_over(agent, v.ticket.reference, vendor="acme", message="  ")
    assert empty.status == 422 and "This field is required." in empty.flashes
    assert v.ticket.status == "in_progress"


def test_only_the_group_working_the_ticket_may_hand_it_over(app, vendor_org):
    v = vendor_org
    outsider = person(app, v.org.other3_agent)
    response = outsider.post(f"/agent/tickets/{v.ticket.reference}/vendor/handoffs",
                             data={"version": v.ticket.version, "vendor": "acme",
                                   "message": "x"})
    assert response.status_code == 404
    keeper = person(app, v.org.local_agent)  # the owner group: sees it, may not hand it over
    response = keeper.post(f"/agent/tickets/{v.ticket.reference}/vendor/handoffs",
                           data={"version": v.ticket.version, "vendor": "acme", "message": "x"})
    assert response.status_code == 403
    requester = person(app, v.org.requester)
    assert requester.get(f"/agent/tickets/{v.ticket.reference}").status_code == 404


def test_an_agent_notes_the_vendors_answer_with_its_case_number_then_recalls(
        app, vendor_org, now, settings):
    v = vendor_org
    hand_off_to_vendor(v.ticket, vendor=v.acme, actor=v.org.level2_agent, message="Relay?",
                       now=now, settings=settings)
    [handoff] = handoffs(v.ticket)
    agent = person(app, v.org.level2_agent)
    base = f"/agent/tickets/{v.ticket.reference}/vendor/handoffs/{handoff.id}"
    version = get(agent, f"/agent/tickets/{v.ticket.reference}").version()
    page = post(agent, f"{base}/answer", {"version": version, "body": "They called: looking.",
                                          "case_number": "ACME-7"}, follow=True)
    assert "The vendor's answer was noted." in page.flashes
    assert handoff.case_number == "ACME-7"
    assert "ACME-7" in page.doc.one("section", class_="vendors").text
    page = post(agent, f"{base}/write", {"version": page.version(), "body": "Any news?"},
                follow=True)
    assert "Sent to the vendor." in page.flashes
    page = post(agent, f"{base}/recall", {"version": page.version(), "reason": "Solved here."},
                follow=True)
    assert "The handoff was recalled." in page.flashes
    assert handoff.status == HandoffStatus.RECALLED and v.ticket.status == "in_progress"
    history = page.history()
    assert any("Handoff recalled" in line and "Acme AB" in line for line in history)
    assert any("The vendor's case number noted" in line and "ACME-7" in line for line in history)


def test_the_vendor_register_is_for_administrators(app, vendor_org):
    v = vendor_org
    page = get(person(app, v.org.admin), "/admin/vendors")
    assert page.status == 200
    assert "Acme AB" in page.text and "support@acme.example" in page.text
    assert "Register of support agreements" in page.text
    assert person(app, v.org.level2_agent).get("/admin/vendors").status_code == 404


def test_the_register_says_what_a_contracts_warning_and_breach_do(app, vendor_org):
    [contract] = vendor_org.acme.contracts
    contract.warning_percent, contract.effects = 80, {"breach": ["notify", "escalate"]}
    page = get(person(app, vendor_org.org.admin), "/admin/vendors")
    assert "Warning when 80 % of the time is used." in page.text
    assert "On warning: nothing" in page.text
    assert ("On breach: Notify the agent and the group's lead (its members when it has neither); "
            "Escalate to the next level"
            in page.text)


def test_the_vendors_mail_is_shown_as_the_vendors_with_its_case_number(app, vendor_org, now,
                                                                        settings):
    v = vendor_org
    hand_off_to_vendor(v.ticket, vendor=v.acme, actor=v.org.level2_agent, message="Relay?",
                       now=now, settings=settings)
    receive(mail(sender="support@acme.example", subject=f"Re: [{v.ticket.reference}] ACME-5150",
                 body="Looking into it."), mailbox=None, now=now, settings=settings)
    page = get(person(app, v.org.level2_agent), f"/agent/tickets/{v.ticket.reference}")
    headings = [h.text for h in page.doc.find_all("article", class_="message internal")]
    assert any("Acme AB <support@acme.example>" in h and "Looking into it." in h
               for h in headings)
    # The history names the vendor as the message does, not the helpdesk.
    assert any("The vendor replied" in line and "Acme AB <support@acme.example>" in line
               for line in page.history())
    assert "5150" in page.doc.one("section", class_="vendors").text
    # The requester reads none of it.
    portal = get(person(app, v.org.requester), f"/portal/tickets/{v.ticket.reference}")
    assert "Looking into it." not in portal.text


def test_a_service_page_shows_the_vendor_agreements_of_the_readers_department(app, vendor_org,
                                                                              factory):
    from datetime import date

    from helpdesk.extensions import db
    from helpdesk.vendors.models import VendorAgreement

    v = vendor_org
    code = v.org.service.code
    db.session.add_all([
        VendorAgreement(code="central", vendor=v.acme, title="Drift av e-post", service_code=code,
                        instructions="Lämnas över av central support.",
                        valid_until=date(2099, 12, 31)),
        VendorAgreement(code="local", vendor=v.beta, title="Institutionens eget avtal",
                        service_code=code, org_unit=v.org.without_helpdesk, instructions=""),
    ])
    db.session.commit()
    page = get(person(app, v.org.requester), f"/portal/services/{code}")
    assert page.status == 200
    assert "Drift av e-post" in page.text and "Lämnas över av central support." in page.text
    assert "valid until 2099-12-31" in page.text
    # Another department's local agreement is theirs alone.
    assert "Institutionens eget avtal" not in page.text
    colleague = factory.user(org_unit=v.org.without_helpdesk)
    db.session.commit()
    theirs = get(person(app, colleague), f"/portal/services/{code}").text
    assert "Institutionens eget avtal" in theirs and "(a local agreement of" in theirs


def test_an_agreement_ends_with_its_last_day_where_the_helpdesk_is(app, vendor_org,
                                                                   monkeypatch):
    from datetime import UTC, date, datetime

    from helpdesk.extensions import db
    from helpdesk.vendors.models import VendorAgreement
    from helpdesk.web import edge

    code = vendor_org.org.service.code
    db.session.add(VendorAgreement(code="central", vendor=vendor_org.acme, title="Drift av e-post",
                                   service_code=code, instructions="",
                                   valid_until=date(2026, 6, 30)))
    db.session.commit()
    requester = person(app, vendor_org.org.requester)
    monkeypatch.setattr(edge, "now", lambda: datetime(2026, 6, 30, 21, 30, tzinfo=UTC))
    assert "Drift av e-post" in get(requester, f"/portal/services/{code}").text  # 23:30
    # 00:30 on 1 July in Stockholm, still 30 June in UTC: the agreement has ended.
    monkeypatch.setattr(edge, "now", lambda: datetime(2026, 6, 30, 22, 30, tzinfo=UTC))
    assert "Drift av e-post" not in get(requester, f"/portal/services/{code}").text


def test_the_requester_reads_that_a_vendor_helped_but_none_of_what_staff_wrote_to_it(
        app, vendor_org, now, settings):
    v = vendor_org
    hand_off_to_vendor(v.ticket, vendor=v.acme, actor=v.org.level2_agent,
                       message="Kundens lösenord är hunter2, prova det.", now=now,
                       settings=settings)
    [handoff] = handoffs(v.ticket)
    write_to_vendor(handoff, actor=v.org.level2_agent, body="Något nytt?", now=now,
                    settings=settings)
    record_vendor_reply(handoff, body="Vi tittar.", now=now, settings=settings,
                        sender="support@acme.example", case_number="ACME-77777")
    vendor_solved(handoff, actor=v.org.level2_agent, note="Vi bytte disk i servern i smyg.",
                  now=now, settings=settings)
    portal = get(person(app, v.org.requester), f"/portal/tickets/{v.ticket.reference}")
    history = portal.history()
    assert any("Acme AB" in line for line in history)  # that a vendor had it, and gave it back
    # Not each mail to and from it, nor its own case number.
    assert not any("Written to the vendor" in line or "The vendor replied" in line
                   for line in history)
    assert "ACME-77777" not in portal.html
    # Both texts are internal notes on the agent's page, and the reasons of the two steps.
    assert "hunter2" not in portal.html and "i smyg" not in portal.html
    agent_page = get(person(app, v.org.level2_agent), f"/agent/tickets/{v.ticket.reference}")
    assert "hunter2" in agent_page.text and "i smyg" in agent_page.text
