"""Saving on the agent's ticket page, a requester's reply in the portal, and any other form,
while another writer holds SQLite's one write lock
(mail ingest writing other tickets, say): the save waits for the lock and is taken; a lock
that stays taken is "too busy", in the agent's language, with what they typed kept, not a
race lost to nobody; a real lost race (the same ticket changed meanwhile) keeps its page.
Any other form's busy page keeps what was sent, to send again with one button.
SQLite only: PostgreSQL has no database-wide write lock.

The app runs on a file of its own with real transactions (not a test's rolled-back one),
no application context is kept open between requests (each has its own session, as in
production), and a second connection plays the other process.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from werkzeug.datastructures import MultiDict

from helpdesk.accounts.models import Role, User
from helpdesk.api.tokens import ApiToken, Scope, create_token
from helpdesk.extensions import db
from helpdesk.sla.models import Calendar
from helpdesk.tickets.models import Message, Ticket
from helpdesk.tickets.operations import take_ticket
from tests.conftest import NOW, PASSWORD, Factory, TieredOrg, app_with_tables
from tests.support import fast_password_hashing
from tests.web.helpers import Page, PersonClient, get, person, post

TYPED = "Jag har startat om skrivarkön,\nvänta en minut."
BUSY = {
    "en": "The helpdesk was too busy to save this just now; nothing was saved. "
          "Try again in a moment.",
    "sv": "Helpdesken var för upptagen för att spara detta just nu; inget sparades. "
          "Försök igen om en stund.",
}


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    with app_with_tables("sqlite", tmp_path) as application:
        yield application


@dataclass(frozen=True)
class Desk:
    reference: str
    ticket_id: int
    other_ticket_id: int  # one the other process writes, as mail ingest would
    agent_id: int
    agent_email: str
    requester_email: str
    service_code: str


@pytest.fixture
def desk(app: Flask) -> Desk:
    with app.app_context():
        factory = Factory(app.config["HELPDESK"])
        org = TieredOrg(factory)
        ticket = factory.ticket(org.requester, org.service)
        other = factory.ticket(org.requester, org.service, subject="Ett annat ärende")
        take_ticket(ticket, actor=org.local_agent, now=NOW, settings=app.config["HELPDESK"])
        db.session.commit()
        arranged = Desk(ticket.reference, ticket.id, other.id, org.local_agent.id,
                        org.local_agent.email, org.requester.email, org.service.code)
        db.session.remove()
    return arranged


def agent(app: Flask, desk: Desk, locale: str = "en") -> PersonClient:
    with app.app_context():
        db.session.execute(update(User).where(User.id == desk.agent_id).values(locale=locale))
        db.session.commit()
        db.session.remove()
    browser = person(app)
    response = browser.post("/login", data={"email": desk.agent_email, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def notes_saved(app: Flask, body: str) -> int:
    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(Message)
                                     .where(Message.body == body.strip())) or 0
        finally:
            db.session.remove()


def write_note(browser: PersonClient, desk: Desk, version: int, public: bool = False) -> Page:
    return post(browser, f"/agent/tickets/{desk.reference}/messages",
                {"body": TYPED, "internal": "false" if public else "true", "version": version})


def test_a_note_waits_for_another_writer_and_is_saved(app, desk, other_process):
    browser = agent(app, desk)
    version = get(browser, f"/agent/tickets/{desk.reference}").version()
    other_process.changes_ticket(desk.other_ticket_id)  # mail ingest, writing another ticket
    release = other_process.commits_after(1.0)
    page = write_note(browser, desk, version)
    release.join()
    assert page.status == 302, page.flashes or page.text[:300]
    assert notes_saved(app, TYPED) == 1


@pytest.mark.parametrize(("locale", "form"), [("en", "note"), ("sv", "resolve")])
def test_a_lock_that_stays_taken_is_too_busy_and_keeps_what_was_typed(app, desk, other_process,
                                                                      locale, form):
    browser = agent(app, desk, locale)
    version = get(browser, f"/agent/tickets/{desk.reference}").version()
    other_process.changes_ticket(desk.other_ticket_id)  # and keeps the lock past the wait
    if form == "note":
        page = write_note(browser, desk, version, public=True)
        field = "message-body"
    else:
        page = post(browser, f"/agent/tickets/{desk.reference}/actions/resolve",
                    {"version": version, "note": TYPED})
        field = "resolve-note"

    assert page.status == 503
    assert page.response.headers["Retry-After"] == "1"
    assert page.flashes == [BUSY[locale]]
    assert page.field_value(field) == TYPED
    if form == "note":
        assert page.checked("internal") == "false"  # still a public reply
    assert notes_saved(app, TYPED) == 0

    # Nobody else's change was in the way: the same form, sent again, is taken.
    other_process.commits()
    if form == "note":
        again = write_note(browser, desk, version, public=True)
    else:
        again = post(browser, f"/agent/tickets/{desk.reference}/actions/resolve",
                     {"version": version, "note": TYPED})
    assert again.status == 302, again.flashes
    assert notes_saved(app, TYPED) == 1


def test_a_change_of_the_same_ticket_meanwhile_is_still_a_lost_race(app, desk, other_process):
    browser = agent(app, desk)
    version = get(browser, f"/agent/tickets/{desk.reference}").version()
    other_process.changes_ticket(desk.ticket_id)  # another agent saving this very ticket
    release = other_process.commits_after(1.0)
    page = write_note(browser, desk, version)
    release.join()
    assert page.status == 409
    assert "Someone else saved this ticket at the same moment" in page.text
    assert notes_saved(app, TYPED) == 0


def requester(app: Flask, desk: Desk) -> PersonClient:
    browser = person(app)
    response = browser.post("/login", data={"email": desk.requester_email, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def test_a_requesters_reply_waits_for_another_writer_and_is_saved(app, desk, other_process):
    browser = requester(app, desk)
    other_process.changes_ticket(desk.other_ticket_id)
    release = other_process.commits_after(1.0)
    page = post(browser, f"/portal/tickets/{desk.reference}/reply", {"body": TYPED})
    release.join()
    assert page.status == 302, page.flashes or page.text[:300]
    assert notes_saved(app, TYPED) == 1


def test_a_requesters_reply_while_the_lock_stays_taken_is_kept_to_send_again(
        app, desk, other_process):
    browser = requester(app, desk)
    other_process.changes_ticket(desk.other_ticket_id)  # and keeps the lock past the wait
    page = post(browser, f"/portal/tickets/{desk.reference}/reply", {"body": TYPED})

    assert page.status == 503
    assert page.response.headers["Retry-After"] == "1"
    assert page.flashes == [BUSY["en"]]
    assert page.field_value("body") == TYPED
    assert notes_saved(app, TYPED) == 0
    other_process.commits()
    assert post(browser, f"/portal/tickets/{desk.reference}/reply", {"body": TYPED}).status == 302
    assert notes_saved(app, TYPED) == 1


NEW_TICKET = {"type": "incident", "subject": "Skannern i rum 214 svarar inte", "description": TYPED,
              "impact": "3", "urgency": "3"}


def tickets_named(app: Flask, subject: str) -> int:
    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(Ticket)
                                     .where(Ticket.subject == subject)) or 0
        finally:
            db.session.remove()


def test_a_new_ticket_from_the_portal_waits_for_another_writer_and_is_registered(
        app, desk, other_process):
    browser = requester(app, desk)
    other_process.changes_ticket(desk.other_ticket_id)  # mail ingest, writing another ticket
    release = other_process.commits_after(1.0)
    page = post(browser, f"/portal/services/{desk.service_code}", NEW_TICKET)
    release.join()
    assert page.status == 302, page.flashes or page.text[:300]
    assert tickets_named(app, NEW_TICKET["subject"]) == 1


def test_a_new_ticket_while_the_lock_stays_taken_is_kept_to_send_again(app, desk, other_process):
    browser = requester(app, desk)
    other_process.changes_ticket(desk.other_ticket_id)  # and keeps the lock past the wait
    page = post(browser, f"/portal/services/{desk.service_code}", NEW_TICKET)

    assert page.status == 503
    assert page.response.headers["Retry-After"] == "1"
    assert page.flashes == [BUSY["en"]]
    assert page.field_value("subject") == NEW_TICKET["subject"]
    assert page.field_value("description") == TYPED
    assert tickets_named(app, NEW_TICKET["subject"]) == 0
    other_process.commits()
    assert post(browser, f"/portal/services/{desk.service_code}", NEW_TICKET).status == 302
    assert tickets_named(app, NEW_TICKET["subject"]) == 1


def test_a_requesters_choice_of_language_waits_for_another_writer_and_is_kept(
        app, desk, other_process):
    # A save that reads first (here the signed-in user) and is no ticket operation.
    browser = requester(app, desk)
    other_process.changes_ticket(desk.other_ticket_id)
    release = other_process.commits_after(1.0)
    page = post(browser, "/language", {"locale": "sv"})
    release.join()
    assert page.status == 302, page.text[:300]
    with app.app_context():
        try:
            assert db.session.scalar(select(User.locale).where(
                User.email == desk.requester_email)) == "sv"
        finally:
            db.session.remove()


# --- Any other form: the one "too busy" page, which keeps what was sent to send again ---

CALENDAR = {"code": "jul", "name": "Jul & nyår <stängt>", "timezone": "Europe/Stockholm",
            "hours_mon": "08:00-16:00", "hours_tue": "08:00-16:00", "hours_wed": "08:00-16:00",
            "hours_thu": "08:00-16:00", "hours_fri": "08:00-16:00", "hours_sat": "",
            "hours_sun": "", "holiday_country": "SE", "holiday-public": "on",
            "extra_closed_days": "2026-12-23 Julstängt\n2026-12-30 Inventering",
            "extra_open_days": "", "shortened_close": ""}


def staff_member(app: Flask, role: Role) -> PersonClient:
    with app.app_context():
        factory = Factory(app.config["HELPDESK"])
        member = factory.user(role)
        db.session.commit()
        email = member.email
        db.session.remove()
    browser = person(app)
    assert browser.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return browser


def calendar_named(app: Flask, code: str) -> Calendar | None:
    with app.app_context():
        try:
            calendar = db.session.scalar(select(Calendar).where(Calendar.code == code))
            if calendar is not None:
                db.session.expunge(calendar)
            return calendar
        finally:
            db.session.remove()


def send_again_form(page: Page) -> tuple[str, list[tuple[str, str]]]:
    """The busy page's one form: where it posts, and the fields it sends back."""
    form = page.doc.one("main").one("form")
    assert form.attrs["method"] == "post"
    fields = [(i.attrs["name"], i.attrs.get("value", "")) for i in form.find_all("input")
              if i.attrs.get("type") == "hidden"]
    return form.attrs["action"], fields


def test_an_administrators_form_while_the_lock_stays_taken_is_kept_to_send_again(
        app, desk, other_process):
    browser = staff_member(app, Role.ADMIN)
    other_process.changes_ticket(desk.other_ticket_id)  # and keeps the lock past the wait
    # (The query string stands for any a form's address may carry: it is sent again too.)
    page = post(browser, "/admin/sla/calendars/new?from=overview", CALENDAR)

    assert page.status == 503
    assert page.response.headers["Retry-After"] == "1"
    assert "nothing was saved" in page.text
    assert calendar_named(app, "jul") is None
    action, fields = send_again_form(page)
    assert action == "/admin/sla/calendars/new?from=overview"
    sent = [(k, v) for k, v in fields if k != "csrf_token"]
    assert sent == [(k, v) for k, v in CALENDAR.items()]  # every field, in order, as typed
    assert page.doc.one("main").one("button").text == "Send again"

    other_process.commits()
    again = Page(browser.post(action, data=MultiDict(fields)))
    assert again.status == 302, again.text[:300]
    saved = calendar_named(app, "jul")
    assert saved is not None and saved.name == CALENDAR["name"]


def test_a_button_while_the_lock_stays_taken_is_kept_to_press_again(app, desk, other_process):
    with app.app_context():
        owner = db.session.scalars(select(User).where(User.email == desk.requester_email)).one()
        token, _secret = create_token(owner, name="skanner", scope=Scope.READ, now=NOW)
        db.session.commit()
        token_id = token.id
        db.session.remove()
    browser = requester(app, desk)
    other_process.changes_ticket(desk.other_ticket_id)  # and keeps the lock past the wait
    page = post(browser, f"/account/tokens/{token_id}/revoke")

    assert page.status == 503
    assert page.response.headers["Retry-After"] == "1"
    action, fields = send_again_form(page)
    assert action == f"/account/tokens/{token_id}/revoke"
    assert [k for k, _v in fields] == ["csrf_token"]

    other_process.commits()
    assert Page(browser.post(action, data=MultiDict(fields))).status == 302
    with app.app_context():
        try:
            assert db.session.get(ApiToken, token_id).revoked_at is not None
        finally:
            db.session.remove()

