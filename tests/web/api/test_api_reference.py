"""The API reference page people read, and the links that lead to it."""

from __future__ import annotations

import pytest

from tests.support import fast_password_hashing
from tests.web.helpers import Page, get, person, post


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


def in_language(browser, path: str, language: str) -> Page:
    post(browser, "/language", {"locale": language})
    page = get(browser, path)
    assert (page.status, page.lang) == (200, language)
    return page


@pytest.mark.parametrize("language", ["en", "sv"])
def test_the_reference_links_to_the_machine_readable_document(app, org, language):
    page = in_language(person(app, org.requester), "/api/v1/docs", language)

    link = page.doc.one("a", href="/api/v1/openapi.json")
    assert link.text == "/api/v1/openapi.json"
    assert "&lt;a" not in page.html and "<a href" not in page.text  # a link, not its markup


def test_the_reference_names_every_operation_of_the_document(app, org):
    document = person(app).get("/api/v1/openapi.json").json
    page = get(person(app, org.requester), "/api/v1/docs")

    listed = {link.attrs["href"] for link in page.doc.one("nav", aria_labelledby="ops-heading").find_all("a")}
    operations = {f"#{op['operationId']}" for methods in document["paths"].values()
                  for op in methods.values()}
    assert listed == operations
    for target in operations:
        assert page.doc.one(id=target[1:]).tag == "h2"


@pytest.mark.parametrize("language", ["en", "sv"])
def test_the_token_page_links_to_the_reference(app, org, language):
    page = in_language(person(app, org.requester), "/account/tokens", language)

    assert page.doc.one("a", href="/api/v1/docs").text == "/api/v1/docs"
    assert "&lt;a" not in page.html
