"""A live helpdesk and headless Debian Chromium for the browser tests.

Both are module-scoped: each test module gets its own database, and the
Playwright event loop does not outlive the module that needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.e2e.live_server import DEMO_PASSWORD, LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    require_service(CHROMIUM.exists(), "Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def live_server(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    demo_tickets = bool(getattr(request.module, "DEMO_TICKETS", False))
    server = LiveServer(tmp_path_factory.mktemp("live"), demo_tickets=demo_tickets).start()
    yield server
    server.stop()


@pytest.fixture
def open_as(browser, live_server) -> Iterator[Callable[..., object]]:
    """``open_as(email, locale="en")``: a new browser window, logged in through the login form."""
    contexts = []

    def open_as(email: str | None, locale: str = "en") -> object:
        context = browser.new_context(base_url=live_server.url, locale=locale)  # type: ignore[attr-defined]
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        if email:
            log_in(page, email)
        return page

    yield open_as
    for context in contexts:
        context.close()


def log_in(page, email: str) -> None:  # type: ignore[no-untyped-def]
    login = page.locator("main form")
    login.locator("input[name=email]").fill(email)
    login.locator("input[name=password]").fill(DEMO_PASSWORD)
    login.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
