"""Who may open which page of a ticket: the whole access matrix in one table.

Two tickets from the same requester:

- an ordinary one, worked by the requester's local helpdesk, which has consulted
  the level-3 group (the consultation is open);
- a confidential one, escalated from the local helpdesk (owner group) to level 2
  (assigned group).

Each has a public attachment (sent by the requester) and an internal one (an
agent's internal note). "queue" is the queue of the group working the ticket now.
"""

from __future__ import annotations

import io

import pytest

from helpdesk.tickets.attachments import Upload
from helpdesk.tickets.models import Attachment, Ticket
from helpdesk.tickets.operations import add_reply, create_ticket
from helpdesk.tiers.operations import consult_group, escalate_ticket
from tests.conftest import login
from tests.support import fast_password_hashing

# What a person gets:
OK = 200
HIDDEN = 404  # "not found", so nobody learns that the ticket exists
LOGIN = "redirected to /login"
LISTED = "queue shown, ticket listed"
UNLISTED = "queue shown, ticket not in it"
TAKEN = "took the ticket"
REFUSED = "refused with a message, nothing changed"

VIEWS = ("portal", "agent", "queue", "public_file", "internal_file", "take")

MATRIX = {
    # ticket        who                portal  agent   queue     public  internal take
    ("ordinary", "requester"):        (OK,     HIDDEN, HIDDEN,   OK,     HIDDEN,  HIDDEN),
    ("ordinary", "other_requester"):  (HIDDEN, HIDDEN, HIDDEN,   HIDDEN, HIDDEN,  HIDDEN),
    ("ordinary", "owner_agent"):      (HIDDEN, OK,     LISTED,   OK,     OK,      TAKEN),
    ("ordinary", "level2_agent"):     (HIDDEN, HIDDEN, HIDDEN,   HIDDEN, HIDDEN,  HIDDEN),
    ("ordinary", "consulted_agent"):  (HIDDEN, OK,     HIDDEN,   OK,     OK,      REFUSED),
    ("ordinary", "admin"):            (HIDDEN, OK,     LISTED,   OK,     OK,      REFUSED),
    ("ordinary", "anonymous"):        (LOGIN,  LOGIN,  LOGIN,    LOGIN,  LOGIN,   LOGIN),
    ("confidential", "requester"):    (OK,     HIDDEN, HIDDEN,   OK,     HIDDEN,  HIDDEN),
    ("confidential", "owner_agent"):  (HIDDEN, OK,     HIDDEN,   OK,     OK,      REFUSED),
    ("confidential", "level2_agent"): (HIDDEN, OK,     LISTED,   OK,     OK,      TAKEN),
    ("confidential", "other3_agent"): (HIDDEN, HIDDEN, HIDDEN,   HIDDEN, HIDDEN,  HIDDEN),
    ("confidential", "admin"):        (HIDDEN, HIDDEN, UNLISTED, HIDDEN, HIDDEN,  HIDDEN),
    ("confidential", "anonymous"):    (LOGIN,  LOGIN,  LOGIN,    LOGIN,  LOGIN,   LOGIN),
}



def cases():
    for (ticket, who), row in MATRIX.items():
        for view, expected in zip(VIEWS, row, strict=True):
            yield pytest.param(ticket, who, view, expected, id=f"{ticket}-{who}-{view}")


SUBJECT = "Skrivaren skriver inte ut"
PUBLIC_FILE = b"skrivarens felkod 0x50"
INTERNAL_FILE = b"intern logg: drivrutin 4.2 trasig"


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


def _ticket(org, settings, now, *, confidential: bool) -> Ticket:
    ticket = create_ticket(
        requester=org.requester, service=org.service, subject=SUBJECT,
        description="Se felkoden.", impact=2, urgency=2, now=now, settings=settings,
        confidential=confidential,
        uploads=[Upload("felkod.txt", "text/plain", io.BytesIO(PUBLIC_FILE))],
    )
    add_reply(ticket, actor=org.local_agent, body="Loggen bifogad.", internal=True, now=now,
              settings=settings,
              uploads=[Upload("logg.txt", "text/plain", io.BytesIO(INTERNAL_FILE))])
    return ticket


@pytest.fixture
def tickets(org, settings, now, session):
    ordinary = _ticket(org, settings, now, confidential=False)
    consult_group(ordinary, group=org.level3, actor=org.local_agent,
                  question="Känner ni till felkoden?", now=now)
    confidential = _ticket(org, settings, now, confidential=True)
    escalate_ticket(confidential, to_group=org.level2, actor=org.local_agent,
                    reason="Gäller sekretessklassad utskrift", now=now, settings=settings)
    # Committed (into the test's savepoint): a view that rolls back a refused change must
    # not take the test's data with it.
    session.commit()
    return {"ordinary": ordinary, "confidential": confidential}


def _attachment(ticket: Ticket, internal: bool) -> Attachment:
    return next(a for a in ticket.attachments if a.internal == internal)


def _state(ticket: Ticket, session) -> tuple:
    session.expire_all()
    return (ticket.status, ticket.assignee_id, ticket.version, len(ticket.events))


@pytest.mark.parametrize(("which", "who", "view", "expected"), list(cases()))
def test_access(client, org, tickets, session, which, who, view, expected):
    ticket = tickets[which]
    user = None if who == "anonymous" else getattr(org, who.replace("consulted", "level3")
                                                   .replace("owner", "local"))
    if user is not None:
        login(client, user)
    before = _state(ticket, session)
    ref = ticket.reference

    if view == "take":
        response = client.post(f"/agent/tickets/{ref}/actions/take",
                               data={"version": str(ticket.version)})
    else:
        url = {
            "portal": f"/portal/tickets/{ref}",
            "agent": f"/agent/tickets/{ref}",
            "queue": f"/agent/queues/{ticket.assigned_group.code}",
            "public_file": f"/tickets/{ref}/attachments/{_attachment(ticket, False).id}",
            "internal_file": f"/tickets/{ref}/attachments/{_attachment(ticket, True).id}",
        }[view]
        response = client.get(url)
    page = response.get_data(as_text=view not in ("public_file", "internal_file"))
    response.close()  # a file download keeps its file open until the response is closed

    if expected == LOGIN:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    elif expected == HIDDEN:
        assert response.status_code == 404
        assert SUBJECT not in str(page)
    elif expected == OK and view.endswith("_file"):
        assert response.status_code == 200
        assert page == (PUBLIC_FILE if view == "public_file" else INTERNAL_FILE)
    elif expected == OK:
        assert response.status_code == 200
        assert ref in page
    elif expected in (LISTED, UNLISTED):
        assert response.status_code == 200
        assert (ref in page) == (expected == LISTED)
    elif expected == TAKEN:
        assert response.status_code == 302
        session.expire_all()
        assert (ticket.status, ticket.assignee) == ("in_progress", user)
    elif expected == REFUSED:
        assert response.status_code in (403, 409)
    else:
        raise AssertionError(f"unknown expectation {expected!r}")

    if expected != TAKEN:
        assert _state(ticket, session) == before, "a refused or read-only request changed the ticket"


def test_the_matrix_covers_every_person_and_view():
    people = {who for _, who in MATRIX}
    assert people == {"requester", "other_requester", "owner_agent", "level2_agent",
                      "consulted_agent", "admin", "anonymous", "other3_agent"}
    assert all(len(row) == len(VIEWS) for row in MATRIX.values())
