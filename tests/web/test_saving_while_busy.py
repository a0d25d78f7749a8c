"""Saving on the agent's ticket page, and a requester's reply in the portal, while another
writer holds SQLite's one write lock
(mail ingest writing other tickets, say): the save waits for the lock and is taken; a lock
that stays taken is "too busy", in the agent's language, with what they typed kept, not a
race lost to nobody; a real lost race (the same ticket changed meanwhile) keeps its page.
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

from helpdesk.accounts.models import User
from helpdesk.extensions import db
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
