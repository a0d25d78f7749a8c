"""What the web layer guards: forged posts, logins, redirects, cookies, files and languages."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from helpdesk.accounts import models as accounts_models
from helpdesk.accounts.models import User
from helpdesk.extensions import db
from helpdesk.tickets.attachments import Upload
from helpdesk.tickets.models import Attachment, Message, Ticket
from helpdesk.tickets.operations import add_reply
from tests.conftest import PASSWORD, Factory, TieredOrg, build_app, first
from tests.web.helpers import REFERENCE, Page, get, person, post

PDF = b"%PDF-1.4\n% not really a report\n"


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def new_ticket(client: FlaskClient, service: str, *files: tuple[bytes, str], **fields: str) -> Page:
    data: dict[str, object] = {"subject": "Skrivaren", "description": "Den piper.", "impact": "2",
                               "urgency": "2", **fields}
    if files:
        data["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    return post(client, f"/portal/services/{service}", data, follow=True,
                content_type="multipart/form-data")


# --- forged posts (CSRF on, as in production) -----------------------------------------------


@pytest.fixture
def csrf_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Flask, dict[str, str]]]:
    """An app of its own with CSRF protection on, and a small organisation committed in it."""
    monkeypatch.setenv("HELPDESK_INSTANCE_DIR", str(tmp_path))  # build_app sets it; restore after
    app = build_app("sqlite", tmp_path)
    app.config["WTF_CSRF_ENABLED"] = True
    with app.app_context():
        db.create_all()
        org = TieredOrg(Factory(app.config["HELPDESK"]))
        names = {"requester": org.requester.email, "agent": org.local_agent.email,
                 "service": org.service.code}
        db.session.commit()
    yield app, names
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def token_from(client: FlaskClient, url: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def test_posts_without_a_csrf_token_are_refused_and_change_nothing(csrf_app):
    app, names = csrf_app
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    refused = client.post("/login", data={"email": names["requester"], "password": PASSWORD})
    assert refused.status_code == 400
    assert "The form expired" in refused.get_data(as_text=True)
    assert client.get("/portal").status_code == 302  # still not logged in

    response = client.post("/login", data={"email": names["requester"], "password": PASSWORD,
                                           "csrf_token": token_from(client, "/login")})
    assert response.status_code == 302
    form_url = f"/portal/services/{names['service']}"
    ticket = {"subject": "Skrivaren", "description": "Den piper.", "impact": "2", "urgency": "2"}

    assert client.post(form_url, data=ticket).status_code == 400
    assert client.post(form_url, data={**ticket, "csrf_token": "forged"}).status_code == 400
    assert client.post("/language", data={"locale": "sv"}).status_code == 400
    with app.app_context():
        assert count(Ticket) == 0
        assert db.session.scalar(select(User.locale).where(User.email == names["requester"])) == "en"

    accepted = client.post(form_url, data={**ticket, "csrf_token": token_from(client, form_url)})
    assert accepted.status_code == 302
    with app.app_context():
        assert count(Ticket) == 1


def test_an_agent_action_without_a_csrf_token_changes_nothing(csrf_app):
    app, names = csrf_app
    requester, agent = app.test_client(), app.test_client()
    for client, email in ((requester, names["requester"]), (agent, names["agent"])):
        client.post("/login", data={"email": email, "password": PASSWORD,
                                    "csrf_token": token_from(client, "/login")})
    form_url = f"/portal/services/{names['service']}"
    requester.post(form_url, data={"subject": "S", "description": "D", "impact": "1", "urgency": "1",
                                   "csrf_token": token_from(requester, form_url)})
    with app.app_context():
        ticket = db.session.scalars(select(Ticket)).one()
        reference, version = ticket.reference, ticket.version

    response = agent.post(f"/agent/tickets/{reference}/actions/take", data={"version": version})

    assert response.status_code == 400
    with app.app_context():
        ticket = db.session.scalars(select(Ticket)).one()
        assert (ticket.version, ticket.status, ticket.assignee_id) == (version, "new", None)


# --- logging in -----------------------------------------------------------------------------


def test_wrong_password_and_unknown_address_get_the_same_generic_refusal(app, org):
    client = person(app)
    answers = [
        client.post("/login", data={"email": org.requester.email, "password": "wrong"}),
        client.post("/login", data={"email": "nobody@test.example", "password": PASSWORD}),
    ]
    for response in answers:
        page = Page(response)
        assert page.status == 401
        assert page.flashes == ["Wrong e-mail address or password."]
        assert page.doc.one(id="password").attrs.get("value") is None  # never echoed
    assert Page(answers[0]).field_value("email") == org.requester.email
    assert client.get("/portal").status_code == 302  # still not logged in


def test_a_refused_login_checks_a_password_whether_or_not_the_address_has_an_account(
        app, org, factory, session, monkeypatch):
    # The time a refusal takes is the password check's: every refusal makes exactly one,
    # so how long it took tells nobody which addresses have accounts.
    checks: list[str] = []
    real = accounts_models.check_password_hash
    monkeypatch.setattr(accounts_models, "check_password_hash",
                        lambda stored, given: checks.append(given) or real(stored, given))
    gone = factory.user(name="Slutat Nyligen")
    gone.active = False
    by_mail = factory.user(name="Bara Epost")
    by_mail.password_hash = None
    session.commit()
    client = person(app)
    for email in (org.requester.email, "nobody@test.example", gone.email, by_mail.email):
        checks.clear()
        response = client.post("/login", data={"email": email, "password": "fel-lösenord"})
        assert response.status_code == 401
        assert checks == ["fel-lösenord"], email


@pytest.mark.parametrize("target, expected", [
    ("/portal/tickets", "/portal/tickets"),
    ("/portal/tickets?status=open", "/portal/tickets?status=open"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("///evil.example/", "/"),
    ("/\\evil.example", None),  # browsers read "/\" as "//"; it must stay on this site
    ("\\\\evil.example", "/"),
    ("/\t/evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("http:evil.example", "/"),
    ("evil.example", "/"),
])
def test_next_after_login_never_leaves_the_site(app, org, target, expected):
    client = person(app)
    response = client.post("/login", query_string={"next": target},
                           data={"email": org.requester.email, "password": PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    if expected is not None:
        assert location == expected
    # Resolved the way a browser does (backslashes count as slashes), it stays here.
    resolved = urlsplit(urljoin("http://helpdesk.test/", location.replace("\\", "/")))
    assert resolved.netloc == "helpdesk.test" and resolved.scheme == "http"


def test_language_switch_next_never_leaves_the_site(app, org):
    client = person(app, org.requester)
    response = client.post("/language", data={"locale": "sv", "next": "//evil.example/x"})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_session_cookie_is_httponly_and_samesite_lax(app, org):
    response = person(app).post("/login", data={"email": org.requester.email, "password": PASSWORD})
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    attributes = {part.strip().split("=")[0].lower(): part.strip()
                  for part in cookie.split(";")[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "samesite=lax"
    assert not any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))


# --- attachments ----------------------------------------------------------------------------


def test_attachment_is_downloaded_with_its_original_name_and_never_rendered(app, org):
    name = "Års\u00adrapport ö.pdf"
    anna = person(app, org.requester)
    # Text that a browser would run as a page if it were shown: it is only ever saved.
    page = new_ticket(anna, org.service.code, (PDF, name), (b"<script>alert(1)</script>", "x.txt"))
    reference = REFERENCE.search(page.flashes[0]).group()
    links = {a.text: a.attrs["href"] for a in page.doc.find_all("a")
             if "/attachments/" in a.attrs.get("href", "")}
    assert set(links) == {name, "x.txt"}

    with anna.get(links[name]) as response:
        assert response.status_code == 200 and response.data == PDF
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    encoded = re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1)
    assert unquote(encoded) == name
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "application/octet-stream"
    with anna.get(links["x.txt"]) as html:
        assert html.headers["X-Content-Type-Options"] == "nosniff"
    assert html.headers["Content-Type"] == "application/octet-stream"
    assert html.headers["Content-Disposition"].startswith("attachment;")
    assert html.headers["Content-Security-Policy"] == "sandbox"

    # Another requester may not fetch it, nor learn that the ticket exists.
    stranger = person(app, org.other_requester)
    with stranger.get(links[name]) as refused:
        assert refused.status_code == 404
    assert stranger.get(f"/portal/tickets/{reference}").status_code == 404


@pytest.mark.parametrize(("filename", "status", "says"), [
    ("x.html", 415, "Files ending in .html are not taken (x.html)."),
    ("Faktura.pdf.xll", 415, "Files ending in .xll are not taken (Faktura.pdf.xll)."),
    ("setup.EXE", 415, "Files ending in .exe are not taken (setup.EXE)."),
])
def test_a_file_of_a_kind_not_taken_or_too_large_refuses_the_form_and_keeps_the_text(
        app, org, filename, status, says):
    page = new_ticket(person(app, org.requester), org.service.code, (PDF, "ok.pdf"),
                      (b"MZ\x90\x00", filename), description="Skrivaren piper ilsket.")
    assert page.status == status
    assert page.doc.one("p", id="attachments-error").text.strip().startswith(says)
    assert page.field_value("description") == "Skrivaren piper ilsket."
    assert db.session.scalar(select(func.count(Ticket.id))) == 0
    assert not list((app.config["HELPDESK"].instance_dir / "attachments").rglob("*.*"))


def test_internal_attachment_is_for_staff_only(app, org, factory, settings, now):
    ticket = factory.ticket(org.requester, org.service)
    note = add_reply(ticket, actor=org.local_agent, body="Loggfil, internt.", internal=True, now=now,
                     settings=settings,
                     uploads=[Upload("server.log", "text/plain", io.BytesIO(b"secret log"))])
    url = f"/tickets/{ticket.reference}/attachments/{note.attachments[0].id}"

    anna = person(app, org.requester)
    with anna.get(url) as refused:
        assert refused.status_code == 404
    assert "server.log" not in get(anna, f"/portal/tickets/{ticket.reference}").html
    with person(app, org.local_agent).get(url) as allowed:
        assert allowed.data == b"secret log"


def test_upload_over_the_size_limit_is_refused_and_nothing_is_written(app, org, settings, session,
                                                                     monkeypatch):
    monkeypatch.setattr(settings, "max_attachment_bytes", 1024 * 1024)
    session.commit()  # the refusal rolls back: keep the arranged rows out of its reach
    attachments = settings.instance_dir / "attachments"
    before = files_under(attachments)
    anna = person(app, org.requester)

    page = new_ticket(anna, org.service.code, (b"x" * (1024 * 1024 + 1), "stor bild.png"),
                      subject="Med en stor bild")

    assert page.status == 413
    assert page.doc.one("p", id="attachments-error").text.strip() == (
        "The file stor bild.png is larger than 1 MB.")
    assert page.field_value("subject") == "Med en stor bild"
    assert (count(Ticket), count(Attachment), count(Message)) == (0, 0, 0)
    assert files_under(attachments) == before
    assert get(anna, "/portal/tickets").status == 200  # still logged in: only the upload undone


def test_a_refused_upload_leaves_no_file_behind(app, org, settings, session, monkeypatch):
    monkeypatch.setattr(settings, "max_attachment_bytes", 1024 * 1024)
    session.commit()  # the refusal rolls back: keep the arranged rows out of its reach
    attachments = settings.instance_dir / "attachments"
    before = files_under(attachments)

    page = new_ticket(person(app, org.requester), org.service.code, (b"liten", "liten.txt"),
                      (b"x" * (1024 * 1024 + 1), "stor.zip"))

    assert page.status == 413 and count(Attachment) == 0
    assert files_under(attachments) == before


def test_a_request_larger_than_the_server_accepts_gets_a_clear_413(app, org, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    page = new_ticket(person(app, org.requester), org.service.code, (b"x" * 100_000, "stor.bin"))
    assert page.status == 413
    assert "The upload is larger than the helpdesk accepts." in page.text
    assert count(Ticket) == 0


@pytest.mark.parametrize("sent, kept", [
    ("../../etc/passwd", "passwd"),
    # Werkzeug reads "\" in the multipart header as an escape, so the app never sees them.
    ("..\\..\\windows\\setup.log", "windowssetup.log"),
    ("/absolute/path/rapport.pdf", "rapport.pdf"),
    ("..", "attachment"),
])
def test_a_filename_with_folders_is_stored_as_a_plain_name(app, org, settings, sent, kept):
    page = new_ticket(person(app, org.requester), org.service.code, (b"data", sent))
    assert page.status == 200, page.flashes
    attachment = first(Attachment)
    assert attachment.filename == kept
    assert not set(attachment.filename) & {"/", "\\"}
    stored = files_under(settings.instance_dir / "attachments")
    assert any(p.name == attachment.storage_key for p in stored)
    assert all(p.resolve().is_relative_to(settings.instance_dir.resolve()) for p in stored)


# --- language -------------------------------------------------------------------------------


def test_language_switch_changes_the_page_and_is_kept_on_the_user(app, org, session):
    anna = person(app, org.requester)
    assert get(anna, "/portal").lang == "en"

    response = anna.post("/language", data={"locale": "sv", "next": "/portal/tickets"})

    assert response.status_code == 302 and response.headers["Location"] == "/portal/tickets"
    page = get(anna, "/portal/tickets")
    assert page.lang == "sv" and page.doc.one("h1").text == "Mina ärenden"
    session.expire_all()
    assert org.requester.locale == "sv"
    # Kept on the user, not only in this browser's session.
    assert get(person(app, org.requester), "/portal").lang == "sv"

    anna.post("/language", data={"locale": "en"})
    assert get(anna, "/portal").lang == "en"
    anna.post("/language", data={"locale": "xx"})  # unknown: ignored
    assert get(anna, "/portal").lang == "en"


def test_language_switch_before_logging_in_is_kept_in_the_session(app):
    visitor = person(app)
    assert get(visitor, "/login", headers={"Accept-Language": "en"}).lang == "en"
    visitor.post("/language", data={"locale": "sv", "next": "/login"})
    page = get(visitor, "/login", headers={"Accept-Language": "en"})
    assert page.lang == "sv" and page.doc.one("h1").text == "Logga in"
