"""What the web tests share: a client per person, and reading the pages they get.

Why ``PersonClient``: the ``session`` fixture keeps one application context
open for the whole test, and Flask reuses it for every request made inside it.
Flask-Login caches the user and Flask-Babel the locale on ``g`` of that context,
so without clearing ``g`` a second client would act as whoever logged in last.
In production each request has its own context; this restores that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import Any

from flask import Flask, g, has_app_context
from flask.testing import FlaskClient

from helpdesk.accounts.models import User
from tests.conftest import PASSWORD

REFERENCE = re.compile(r"HD-\d{4}-\d{6}")


class PersonClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``, as in production."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            for name in list(vars(g)):
                g.pop(name)
        return super().open(*args, **kwargs)


def person(app: Flask, user: User | None = None, accept_language: str = "en") -> PersonClient:
    """A browser of its own (own cookies), logged in as ``user`` if given.

    Pages for nobody in particular follow the browser's language (else Swedish);
    test users have chosen English.
    """
    client = PersonClient(app, app.response_class, use_cookies=True)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept_language
    if user is not None:
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, f"login as {user.email} failed"
    return client


# --- reading HTML without a third-party parser -------------------------------------------

INLINE = {"a", "abbr", "b", "code", "em", "i", "label", "span", "strong", "time"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The element's text with whitespace collapsed, as a reader hears it."""
        parts: list[str] = []

        def walk(node: Element | str) -> None:
            if isinstance(node, str):
                parts.append(node)
                return
            block = node.tag not in INLINE  # a block boundary separates words
            if block:
                parts.append(" ")
            for child in node.children:
                walk(child)
            if block:
                parts.append(" ")

        walk(self)
        return " ".join("".join(parts).split())

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Descendants with this tag whose attributes equal the given ones (``class_`` for class)."""
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        found: list[Element] = []
        for child in self.children:
            if isinstance(child, Element):
                if (tag is None or child.tag == tag) and all(
                    _attr_matches(child.attrs.get(k), v) for k, v in wanted.items()
                ):
                    found.append(child)
                found.extend(child.find_all(tag, **attrs))
        return found

    def find(self, tag: str | None = None, **attrs: str) -> Element | None:
        matches = self.find_all(tag, **attrs)
        return matches[0] if matches else None

    def one(self, tag: str | None = None, **attrs: str) -> Element:
        matches = self.find_all(tag, **attrs)
        assert len(matches) == 1, f"expected one <{tag} {attrs}>, found {len(matches)}"
        return matches[0]


def _attr_matches(actual: str | None, wanted: str) -> bool:
    if actual is None:
        return False
    return actual == wanted or wanted in actual.split()


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v if v is not None else "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str | bytes) -> Element:
    builder = _TreeBuilder()
    builder.feed(html.decode() if isinstance(html, bytes) else html)
    builder.close()
    return builder.root


class Page:
    """A rendered page and the things tests look for on it."""

    def __init__(self, response: Any) -> None:
        self.response = response
        self.status = response.status_code
        self.html = response.get_data(as_text=True)
        response.close()  # a file download keeps its file open until closed
        self.doc = parse(self.html)

    @property
    def text(self) -> str:
        main = self.doc.find("main")
        return (main or self.doc).text

    @property
    def flashes(self) -> list[str]:
        return [p.text for p in self.doc.find_all("p", class_="flash")]

    @property
    def lang(self) -> str:
        return self.doc.one("html").attrs.get("lang", "")

    def buttons(self) -> list[str]:
        """Every action a person can press or open: buttons and <summary> toggles."""
        return [b.text for b in self.doc.find_all("button")] + [
            s.text for s in self.doc.find_all("summary")
        ]

    def version(self) -> int:
        """The ticket version the page's forms will send back."""
        versions = {i.attrs["value"] for i in self.doc.find_all("input", name="version")}
        assert len(versions) == 1, f"forms disagree on the version: {versions}"
        return int(versions.pop())

    def field_value(self, element_id: str) -> str:
        element = self.doc.one(id=element_id)
        if element.tag == "textarea":
            return "".join(c for c in element.children if isinstance(c, str))
        return element.attrs.get("value", "")

    def checked(self, name: str) -> str | None:
        for radio in self.doc.find_all("input", name=name):
            if "checked" in radio.attrs:
                return radio.attrs.get("value")
        return None

    def history(self) -> list[str]:
        timeline = self.doc.one("ol", class_="timeline")
        return [li.text for li in timeline.find_all("li")]

    def references(self) -> list[str]:
        """Ticket references in table order, as a queue or a list shows them."""
        table = self.doc.find("tbody")
        return REFERENCE.findall(table.text) if table else []


def get(client: FlaskClient, url: str, **kwargs: Any) -> Page:
    return Page(client.get(url, **kwargs))


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None,
         follow: bool = False, **kwargs: Any) -> Page:
    return Page(client.post(url, data=data or {}, follow_redirects=follow, **kwargs))


def plain(text: str) -> str:
    """HTML-unescaped text with whitespace collapsed."""
    return " ".join(unescape(text).split())
