"""Sending the outbox while other writers hold SQLite's one write lock (agents saving, the
scheduler, mail ingest): a mail the server has taken is recorded once the lock is free, and
is never sent again because the database was only busy. SQLite only: PostgreSQL has no
database-wide write lock.

The app runs on a file of its own with real transactions (not a test's rolled-back one),
a second connection plays another process holding the lock, and the SMTP peer holds back
its 250 for mail to ``HELD_DOMAIN`` until the test lets it go, so that the lock is taken
between the sender's claim and what it records.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from helpdesk.accounts.models import Role, User
from helpdesk.cli import main as helpdesk_cli
from helpdesk.core.clock import utcnow
from helpdesk.core.concurrency import LOCK_WAIT_MS
from helpdesk.core.outbox import OutboxMessage, queue_message
from helpdesk.extensions import db
from helpdesk.mail import sender
from helpdesk.mail.sender import SendResult, send_due
from tests.conftest import NOW, app_with_tables
from tests.integration.mail.test_sending import relaying
from tests.services.smtp import HELD_DOMAIN, SmtpPeer

HELD = f"someone@{HELD_DOMAIN}"
LOCK_WAIT = LOCK_WAIT_MS / 1000


@pytest.fixture
def app(tmp_path: Path, smtp_peer: SmtpPeer) -> Iterator[Flask]:
    with app_with_tables("sqlite", tmp_path) as application:
        application.config["HELPDESK"] = relaying(application.config["HELPDESK"], smtp_peer)
        with application.app_context():
            # Someone for the other process to save.
            db.session.add(User(email="agent@test.example", name="Agent", role=Role.AGENT))
            # The first mail's 250 waits for the test; the others go at once.
            for recipient in (HELD, "second@example.org", "third@example.org"):
                queue_message(kind="test", recipient_email=recipient, subject=recipient,
                              body="x", now=NOW)
            db.session.commit()
            db.session.remove()
        yield application


class Sender(threading.Thread):
    """``send_due`` in a thread of its own, as another process (the scheduler) runs it."""

    def __init__(self, app: Flask, now: datetime) -> None:
        super().__init__()
        self.app, self.now = app, now
        self.result: SendResult | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = send(self.app, self.now)
        except BaseException as exc:  # the test reports it
            self.error = exc

    def finished(self) -> SendResult:
        self.join(timeout=60)
        assert self.error is None, f"the sender failed: {self.error!r}"
        assert self.result is not None
        return self.result


def send(app: Flask, now: datetime) -> SendResult:
    with app.app_context():
        try:
            return send_due(now=now, settings=app.config["HELPDESK"])
        finally:
            db.session.remove()


def in_the_background(action: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=action)
    thread.start()
    return thread


def sent_at(app: Flask) -> dict[str, datetime | None]:
    with app.app_context():
        try:
            return {row.recipient_email: row.sent_at
                    for row in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))}
        finally:
            db.session.remove()


def received(peer: SmtpPeer) -> list[str]:
    return sorted(str(m["To"]) for m in peer.messages())


def test_a_mail_the_server_took_is_recorded_once_the_lock_is_free_and_never_sent_again(
        app, other_process, smtp_peer):
    first = Sender(app, NOW)
    first.start()
    smtp_peer.wait_until_held()  # claimed, and the server has it
    other_process.writes()
    smtp_peer.let_go()
    # Longer than one wait for the lock: the sender keeps trying to record what was sent.
    time.sleep(LOCK_WAIT + 1)
    other_process.commits()

    result = first.finished()
    assert (result.sent, result.stopped) == (3, None)
    assert set(sent_at(app).values()) == {NOW}
    assert send(app, NOW + timedelta(minutes=1)).sent == 0
    assert received(smtp_peer) == sorted([HELD, "second@example.org", "third@example.org"])


def test_helpdesk_mail_send_stops_cleanly_when_it_cannot_record_a_sent_mail(
        app, other_process, smtp_peer, monkeypatch):
    """The auditor's case: ``helpdesk mail send`` while the server and agents write."""
    monkeypatch.setattr(sender, "RECORD_SECONDS", 1.0, raising=False)

    def agent_saves_while_the_server_answers() -> None:
        smtp_peer.wait_until_held()
        other_process.writes()  # and keeps the lock for longer than the sender tries
        smtp_peer.let_go()

    meanwhile = in_the_background(agent_saves_while_the_server_answers)
    command = app.test_cli_runner().invoke(helpdesk_cli, ["mail", "send"])
    meanwhile.join()

    assert command.exit_code == 1, command.output
    assert isinstance(command.exception, SystemExit)  # no traceback
    assert f"Stopped: message 1 to {HELD} went out, but the database stayed too busy to " \
           "record that; no sender takes it again before " in command.output
    assert command.output.rstrip().endswith("UTC, and nothing more was sent.")
    assert received(smtp_peer) == [HELD]  # nothing more was sent in that run

    # Once the lock is free, the next sender (the scheduler's leader) sends the rest only.
    other_process.commits()
    later = send(app, utcnow() + timedelta(minutes=1))
    assert (later.sent, later.stopped) == (2, None)
    assert received(smtp_peer) == sorted([HELD, "second@example.org", "third@example.org"])
    assert sent_at(app)[HELD] is None  # never recorded, so held by its claim, not sent again


def test_a_second_sender_leaves_alone_a_mail_whose_sender_is_still_recording_it(
        app, other_process, smtp_peer):
    first = Sender(app, NOW)
    first.start()
    smtp_peer.wait_until_held()
    other_process.writes()
    smtp_peer.let_go()
    # The scheduler's leader starts while the first sender waits to record the held mail.
    leader = Sender(app, NOW)
    leader.start()
    time.sleep(LOCK_WAIT / 2)
    other_process.commits()

    results = first.finished(), leader.finished()
    assert sum(r.sent for r in results) == 3 and not any(r.stopped for r in results)
    assert received(smtp_peer) == sorted([HELD, "second@example.org", "third@example.org"])
    assert set(sent_at(app).values()) == {NOW}


def test_a_lock_taken_before_the_run_stops_it_before_anything_is_sent(app, other_process,
                                                                      smtp_peer):
    smtp_peer.let_go()
    other_process.writes()  # and keeps the lock for longer than the sender waits
    result = send(app, NOW)
    assert result.sent == 0
    assert result.stopped == ("the database was too busy to take the next message; "
                              "nothing more was sent.")
    assert received(smtp_peer) == []

    other_process.commits()
    assert send(app, NOW).sent == 3
    assert received(smtp_peer) == sorted([HELD, "second@example.org", "third@example.org"])
