"""What the administrator's outbox says of a mail while a sender is sending it: "Being sent",
not "Failed; to be tried again" (the claim that keeps other senders off it moves its next
try ahead as a failure does). The sender runs in a thread as the scheduler would, and the
SMTP peer holds back its 250 for mail to ``HELD_DOMAIN`` until the test lets it go.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from helpdesk.accounts.models import Role
from helpdesk.core.outbox import queue_message
from helpdesk.extensions import db
from helpdesk.mail.sender import CLAIM
from helpdesk.web import edge
from tests.conftest import NOW, Factory, app_with_tables
from tests.integration.mail.test_sending import relaying
from tests.integration.mail.test_sending_while_busy import Sender
from tests.services.smtp import HELD_DOMAIN, SmtpPeer
from tests.support import fast_password_hashing, fresh_database
from tests.web.helpers import PersonClient, get, person

HELD = f"someone@{HELD_DOMAIN}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request: pytest.FixtureRequest, tmp_path: Path, smtp_peer: SmtpPeer,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    fast_password_hashing(monkeypatch)
    with fresh_database(request.param, tmp_path, "outbox") as url, \
            app_with_tables(request.param, tmp_path, url) as application:
        application.config["HELPDESK"] = relaying(application.config["HELPDESK"], smtp_peer)
        with application.app_context():
            queue_message(kind="test", recipient_email=HELD, subject="Skrivaren är lagad",
                          body="x", now=NOW)
            db.session.commit()
            db.session.remove()
        yield application


def administrator(app: Flask) -> PersonClient:
    with app.app_context():
        admin = Factory(app.config["HELPDESK"]).user(Role.ADMIN)
        db.session.commit()
        client = person(app, admin)
        db.session.remove()
    return client


def state_shown(client: PersonClient) -> tuple[str, str]:
    """The mail's State cell in the list, and its State on its own page."""
    listed = get(client, "/admin/outbox").doc.one("tbody").find_all("td")[-1].text
    link = get(client, "/admin/outbox").doc.one("tbody").one("a").attrs["href"]
    facts = get(client, link).doc.one("dl")
    terms = [dt.text for dt in facts.find_all("dt")]
    return listed, facts.find_all("dd")[terms.index("State")].text


def page_read_at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(edge, "now", lambda: moment)


def test_a_mail_a_sender_is_sending_is_shown_as_being_sent(app, smtp_peer, monkeypatch):
    admin = administrator(app)
    page_read_at(monkeypatch, NOW + timedelta(minutes=1))
    assert state_shown(admin) == ("Waiting to be sent", "Waiting to be sent")
    sender = Sender(app, NOW)
    sender.start()
    try:
        smtp_peer.wait_until_held()  # claimed, and the server has it
        listed, alone = state_shown(admin)
    finally:
        smtp_peer.let_go()
    assert listed == alone == "Being sent since 2026-03-10 10:00"  # NOW, in Stockholm
    assert sender.finished().sent == 1
    assert state_shown(admin) == ("Sent 2026-03-10 10:00",) * 2


def test_a_claim_that_ran_out_with_nothing_recorded_shows_the_mail_waiting_again(
        app, smtp_peer, monkeypatch):
    # The sender stopped (died, or the database stayed busy) between its claim and the
    # outcome: once the claim has run out nobody is sending the mail, and the next sender
    # takes it.
    admin = administrator(app)
    sender = Sender(app, NOW)
    sender.start()
    try:
        smtp_peer.wait_until_held()
        page_read_at(monkeypatch, NOW + CLAIM - timedelta(seconds=1))
        assert state_shown(admin)[0].startswith("Being sent")
        page_read_at(monkeypatch, NOW + CLAIM + timedelta(seconds=1))
        assert state_shown(admin) == ("Waiting to be sent",) * 2
    finally:
        smtp_peer.let_go()
    sender.finished()
