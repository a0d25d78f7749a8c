"""One incident from the portal to level 3 and back to a satisfied requester, in Chromium.

Everything is done the way a person does it: through labels, buttons and links
(Playwright's role and label selectors fail if a control has no accessible name).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from tests.e2e.live_server import DEMO_PASSWORD

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/helpdesk-e2e-agent.png"
REFERENCE = re.compile(r"HD-\d{4}-\d{6}")


def log_in(page: Page, email: str) -> None:
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def open_ticket_from_queue(page: Page, queue: str, reference: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Queues").click()
    page.get_by_role("link", name=queue, exact=True).click()
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)


def take(page: Page) -> None:
    page.get_by_role("button", name="Take the ticket").click()
    expect(page.get_by_role("status")).to_have_text("Done: Take.")


def escalate(page: Page, to_group: str, reason: str) -> None:
    page.locator("summary", has_text="Escalate").click()
    page.get_by_label("To group").select_option(label=to_group)
    page.get_by_label("Reason for escalating").fill(reason)
    page.get_by_role("button", name="Escalate", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Done: Escalate.")


def test_incident_through_three_levels_in_the_browser(open_as, live_server, tmp_path):
    # Anna (Swedish by choice) logs in, switches to English, and reports a problem.
    anna: Page = open_as(None)
    log_in(anna, "anna.requester@demo.example")
    expect(anna.locator("html")).to_have_attribute("lang", "sv")
    anna.get_by_role("button", name="English").click()
    expect(anna.locator("html")).to_have_attribute("lang", "en")

    anna.get_by_role("navigation", name="Main").get_by_role("link", name="Service catalogue").click()
    anna.get_by_role("link", name="E-mail and calendar").click()
    expect(anna.get_by_role("heading", level=1)).to_have_text("E-mail and calendar")  # its page
    anna.get_by_label("Something does not work (incident)").check()
    anna.get_by_label("Subject").fill("Kan inte skicka e-post")
    anna.get_by_label("Description").fill("Sedan i morse fastnar all utgående post i utkorgen.")
    anna.get_by_role("group", name="Impact").get_by_label("Medium").check()
    anna.get_by_role("group", name="Urgency").get_by_label("High").check()
    screenshot = tmp_path / "utkorg.png"
    screenshot.write_bytes(b"\x89PNG\r\n\x1a\n not a real picture")
    anna.get_by_label("Attachment (optional)").set_input_files(str(screenshot))
    anna.get_by_role("button", name="Send").click()

    confirmation = anna.get_by_role("status")
    expect(confirmation).to_contain_text("is registered and is in the queue of")
    reference = REFERENCE.search(confirmation.inner_text()).group()
    expect(anna.get_by_role("link", name="utkorg.png")).to_be_visible()

    # Lars at the chemistry helpdesk takes it and sends it to central support.
    lars: Page = open_as(None)
    log_in(lars, "lars.agent@demo.example")
    open_ticket_from_queue(lars, "Chemistry local helpdesk", reference)
    take(lars)
    escalate(lars, "Central support (level 2)", "Gäller servern, inte Annas dator.")

    # Olof at central support sends it on to the e-mail experts, and no longer sees it.
    olof: Page = open_as(None)
    log_in(olof, "olof.agent@demo.example")
    open_ticket_from_queue(olof, "Central support", reference)
    take(olof)
    escalate(olof, "E-mail and collaboration (level 3)", "Kvoten på postservern behöver ändras.")
    expect(olof.get_by_role("heading", level=1)).to_have_text("Queues")

    # Eva resolves it with a note the requester will read.
    eva: Page = open_as(None)
    log_in(eva, "eva.agent@demo.example")
    open_ticket_from_queue(eva, "E-mail and collaboration", reference)
    take(eva)
    eva.locator("summary", has_text="Resolve").click()
    eva.get_by_label("Resolution note (the requester sees it)").fill(
        "Kvoten höjdes; posten går iväg igen.")
    eva.get_by_role("button", name="Resolve", exact=True).click()
    expect(eva.get_by_role("status")).to_have_text("Done: Resolve.")
    expect(eva.locator(".facts")).to_contain_text("Resolved")
    history = eva.get_by_role("region", name="History")
    for step in ("Ticket created", "Taken", "Escalated", "Resolved"):
        expect(history).to_contain_text(step)
    eva.screenshot(path=SCREENSHOT, full_page=True)

    # Anna finds the solution under My tickets and confirms it.
    anna.get_by_role("navigation", name="Main").get_by_role("link", name="My tickets").click()
    anna.get_by_role("link", name=reference).click()
    expect(anna.get_by_role("region", name="Solution")).to_contain_text(
        "Kvoten höjdes; posten går iväg igen.")
    anna.get_by_role("button", name="Confirm the solution").click()
    expect(anna.get_by_role("status")).to_have_text("Thank you for confirming. The ticket is closed.")
    expect(anna.locator(".facts")).to_contain_text("Closed")
    expect(anna.get_by_role("button", name="Confirm the solution")).to_have_count(0)

    with live_server.database():
        ticket = db.session.scalars(select(Ticket).where(Ticket.reference == reference)).one()
        assert ticket.status == "closed"
        # The SLA clocks' own history (sla_clock_*) is checked in the SLA tests.
        assert [e.kind for e in ticket.events if not e.kind.startswith("sla_clock_")] == [
            "created", "routed", "taken", "escalated", "taken", "escalated", "taken", "resolved",
            "confirmed"]
        assert [a.filename for a in ticket.attachments] == ["utkorg.png"]
