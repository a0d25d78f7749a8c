"""A mail on a ticket from someone who is not a user (a stranger who kept the tag in the
subject) is an internal note: the agent's page names its sender, on the note and in the
history, in either language; the requester's page shows none of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpdesk.mail.ingest import receive
from tests.integration.mail.builders import mail
from tests.web.helpers import get, person

CORPUS = Path(__file__).resolve().parents[1] / "data" / "mail-corpus"
STRANGER = "Timothy Hobbs <timothy.hobbs@auto-mat.cz>"  # the From of the corpus mail below
HISTORY_LINE = {"en": "Mail from someone other than the requester",
                "sv": "Mejl från någon annan än beställaren"}
THE_HELPDESK = {"en": "the helpdesk", "sv": "helpdesken"}


@pytest.fixture
def ticket(factory, org, now):
    return factory.ticket(org.requester, org.service, now)


def receive_on(ticket, raw, factory, org, now, settings):
    receive(raw, mailbox=factory.mailbox(org.service), now=now, settings=settings)
    assert ticket.messages[-1].internal and ticket.messages[-1].author is None


def agent_page(app, org, ticket, language):
    org.local_agent.locale = language
    page = get(person(app, org.local_agent), f"/agent/tickets/{ticket.reference}")
    assert page.status == 200 and page.lang == language
    return page


def note_heading(page) -> str:
    [note] = page.doc.find_all("article", class_="message internal")
    return note.one("h3").text


def history_line(page, language) -> str:
    [line] = [line for line in page.history() if HISTORY_LINE[language] in line]
    return line


@pytest.mark.parametrize("language", ["en", "sv"])
def test_a_strangers_mail_is_named_by_its_sender_on_the_note_and_in_the_history(
        app, factory, org, ticket, now, settings, language):
    # A real mail from another project's tests, as if its writer had kept our tag.
    raw = (CORPUS / "django-helpdesk" / "all-special-chars.eml").read_bytes()
    raw = raw.replace(b"\nSubject: ", f"\nSubject: Re: [{ticket.reference}] ".encode(), 1)
    receive_on(ticket, raw, factory, org, now, settings)

    page = agent_page(app, org, ticket, language)
    assert note_heading(page).startswith(f"{STRANGER} – ")
    line = history_line(page, language)
    assert STRANGER in line and THE_HELPDESK[language] not in line

    # The note is internal: the requester reads neither it nor who wrote it.
    portal = get(person(app, org.requester), f"/portal/tickets/{ticket.reference}")
    assert "auto-mat.cz" not in portal.html and "Timothy" not in portal.html


@pytest.mark.parametrize("language", ["en", "sv"])
def test_a_sender_without_a_name_is_named_by_the_address(app, factory, org, ticket, now, settings,
                                                         language):
    raw = mail(sender="gunnar@elsewhere.example", subject=f"[{ticket.reference}] samma fel här",
               body="Min skrivare skriver inte heller.")
    receive_on(ticket, raw, factory, org, now, settings)

    page = agent_page(app, org, ticket, language)
    assert note_heading(page).startswith("gunnar@elsewhere.example – ")
    assert history_line(page, language).endswith("– gunnar@elsewhere.example")
