"""axe-core (WCAG 2.1 A and AA) on the SLA administration pages, and one edit by keyboard.

The pages are those of the demo organisation (calendars "kontorstid" and
"dygnet-runt", policies "standard" and "kritisk", OLAs on two groups), in
Swedish and English, as they come and as they come back refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import OtherWriter

pytestmark = pytest.mark.browser

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING = {"serious", "critical"}
ADMIN = "admin@demo.example"


def refused_calendar(page: Page) -> None:
    page.goto("/admin/sla/calendars/kontorstid/edit")
    page.locator("#hours_mon").fill("8-17")
    page.locator("#extra_closed_days").fill("23/12 Julstängt")
    page.locator("main form button.primary").click()
    expect(page.locator(".error-summary")).to_be_visible()


def refused_policy(page: Page) -> None:
    page.goto("/admin/sla/policies/new")
    page.locator("#code").fill("ny")
    page.locator("#name").fill("Ny")
    page.locator("#calendar").select_option("kontorstid")  # but no targets
    page.locator("main form button.primary").click()
    expect(page.locator(".error-summary")).to_be_visible()


PAGES: dict[str, str | Callable[[Page], None]] = {
    "overview": "/admin/sla",
    "calendar": "/admin/sla/calendars/kontorstid/edit",
    "new calendar": "/admin/sla/calendars/new",
    "policy": "/admin/sla/policies/standard/edit",
    "OLA": "/admin/sla/groups/central-support/ola",
    "group without OLA": "/admin/sla/groups/kemi-helpdesk/ola",
    "refused calendar": refused_calendar,
    "refused policy": refused_policy,
}


def as_admin(open_as, locale: str) -> Page:
    page: Page = open_as(ADMIN, locale)
    if page.locator("html").get_attribute("lang") != locale:
        page.get_by_role("button", name={"en": "English", "sv": "Svenska"}[locale]).click()
        expect(page.locator("html")).to_have_attribute("lang", locale)
    return page


def describe(violation: dict) -> str:
    nodes = "\n".join(f"      {node['html']}" for node in violation["nodes"][:5])
    return f"  [{violation['impact']}] {violation['id']}: {violation['help']}\n{nodes}"


@pytest.mark.parametrize("locale", ["sv", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_admin_page_has_no_serious_accessibility_violations(open_as, name, locale):
    from axe_playwright_python.sync_playwright import Axe

    page = as_admin(open_as, locale)
    visit = PAGES[name]
    if callable(visit):
        visit(page)
    else:
        page.goto(visit)
    expect(page.locator("html")).to_have_attribute("lang", locale)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})

    assert results.response["passes"], "axe checked nothing"
    violations = results.response["violations"]
    for violation in violations:
        if violation["impact"] not in FAILING:
            print(f"{name} ({locale}):\n{describe(violation)}")
    failing = [v for v in violations if v["impact"] in FAILING]
    assert not failing, f"{name} ({locale}) at {page.url}:\n" + "\n".join(map(describe, failing))


def test_a_refused_field_is_named_to_a_screen_reader_and_keeps_the_text(open_as):
    page = as_admin(open_as, "en")
    refused_calendar(page)

    monday = page.get_by_label("Monday")
    expect(monday).to_have_value("8-17")
    expect(monday).to_have_attribute("aria-invalid", "true")
    expect(monday).to_have_accessible_description(
        "Write opening hours like 08:00-12:00, 13:00-17:00 (or leave empty: closed).")
    page.get_by_role("link", name="Opening hours: Monday").click()
    expect(page).to_have_url(re.compile(r"#hours_mon$"))


def test_an_administrator_changes_the_office_hours_with_the_keyboard(open_as):
    page = as_admin(open_as, "en")
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Edit Kontorstid 08–17").click()

    friday = page.get_by_label("Friday")
    friday.focus()
    friday.fill("08:00-15:00")
    page.keyboard.press("Enter")  # submits the form, as a person at the keyboard would

    expect(page.locator(".flash-success").first).to_have_text(
        "The calendar Kontorstid 08–17 is saved.")
    expect(page.get_by_role("main")).to_contain_text("Friday 08:00–15:00")


@pytest.mark.parametrize("locale", ["sv", "en"])
def test_a_save_the_database_was_too_busy_for_is_sent_again_with_one_key(open_as, live_server,
                                                                        locale):
    # Another process (mail being filed, say) holds SQLite's write lock past the 5 s a save
    # waits: the page says nothing was saved, passes axe, and keeps what was sent behind
    # one button, which sends it again, CSRF token and all, once the lock is free.
    from axe_playwright_python.sync_playwright import Axe

    page = as_admin(open_as, locale)
    page.goto("/admin/sla/calendars/kontorstid/edit")
    page.locator("#hours_fri").fill("08:00-14:00")
    other = OtherWriter(live_server.instance / "helpdesk.sqlite3")
    try:
        other.writes("SELECT 1")
        page.locator("#hours_fri").press("Enter")
        heading = {"sv": "Upptaget just nu", "en": "Too busy just now"}[locale]
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
        failing = [v for v in results.response["violations"] if v["impact"] in FAILING]
        assert not failing, "busy page:\n" + "\n".join(map(describe, failing))
    finally:
        other.commits()
        other.connection.close()

    again = page.get_by_role("button", name={"sv": "Skicka igen", "en": "Send again"}[locale])
    again.focus()
    page.keyboard.press("Enter")
    saved = {"sv": "Kalendern Kontorstid 08–17 är sparad.",
             "en": "The calendar Kontorstid 08–17 is saved."}[locale]
    expect(page.locator(".flash-success").first).to_have_text(saved)
    page.goto("/admin/sla/calendars/kontorstid/edit")
    expect(page.locator("#hours_fri")).to_have_value("08:00-14:00")
