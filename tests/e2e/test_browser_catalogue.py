"""An order through the catalogue in Chromium: search, the form refused and corrected,
approval by the approver, and the order in the service desk's queue with its answers."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_browser_lifecycle import REFERENCE, log_in

pytestmark = pytest.mark.browser


def test_an_order_is_searched_refused_corrected_and_approved(open_as):
    anna: Page = open_as(None)
    log_in(anna, "anna.requester@demo.example")
    anna.get_by_role("button", name="English").click()

    # The catalogue's search is a plain form: it works without JavaScript.
    anna.get_by_label("Search the catalogue").fill("LICENCE")
    anna.get_by_role("button", name="Search").click()
    expect(anna.get_by_role("status")).to_have_text("1 service matches “LICENCE”.")
    anna.get_by_role("link", name="Software order").click()
    expect(anna.get_by_role("heading", level=1)).to_have_text("Software order")
    expect(anna.get_by_role("heading", name="Service level (SLA)")).to_be_visible()

    anna.get_by_label("I want to order or ask for something (service request)").check()
    anna.get_by_label("Subject").fill("MATLAB till laborationen")
    anna.get_by_label("Description").fill("Tre licenser.")
    anna.get_by_label("Software").fill("MATLAB")
    anna.get_by_label("Number of licences").fill("tre")
    anna.get_by_label("Platform").select_option("Windows")
    anna.get_by_role("button", name="Send").click()

    summary = anna.locator(".error-summary")
    expect(summary).to_contain_text("Number of licences")
    expect(summary).to_contain_text("I have agreed the cost with my manager")
    expect(anna.get_by_label("Number of licences")).to_have_value("tre")  # kept as typed
    expect(anna.get_by_label("Software")).to_have_value("MATLAB")
    anna.get_by_label("Number of licences").fill("3")
    anna.get_by_label("I have agreed the cost with my manager").check()
    anna.get_by_role("button", name="Send").click()
    expect(anna.locator(".flash-success")).to_contain_text("waits for approval")
    reference = REFERENCE.search(anna.locator("h1").inner_text()).group(0)

    gunilla: Page = open_as("gunilla.approver@demo.example")
    gunilla.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    gunilla.get_by_role("link", name=reference).click()
    expect(gunilla.get_by_role("region", name="Request form")).to_contain_text("MATLAB")
    gunilla.get_by_label("Approve the order").check()
    gunilla.get_by_role("button", name="Send the decision").click()
    expect(gunilla.locator(".flash-success")).to_contain_text(f"You approved {reference}")

    sara: Page = open_as("sara.agent@demo.example")
    sara.goto("/agent/queues/servicedesk")
    sara.get_by_role("link", name=reference).click()
    expect(sara.get_by_role("region", name="Request form")).to_contain_text("Number of licences")
    expect(sara.locator("ol.timeline")).to_contain_text("Approved")
