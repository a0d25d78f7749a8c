"""SQLite's one write lock and the API: who waits for it, and what a caller hears when
it stays taken. SQLite only: PostgreSQL has no database-wide write lock to wait for.

The app runs on a file of its own with real transactions (not a test's rolled-back
one), and a second connection plays another process holding the lock.
"""

from __future__ import annotations

import io
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from helpdesk.core.clock import utcnow
from helpdesk.core.concurrency import LOCK_WAIT_MS
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from tests.conftest import Factory, TieredOrg, app_with_tables
from tests.web.api.client import ApiClient

NEW_TICKET = {"service": "mail", "subject": "Utskriften fastnar", "description": "Papper fastnar.",
              "impact": 2, "urgency": 2}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    with app_with_tables("sqlite", tmp_path) as application:
        yield application


@pytest.fixture
def tokens(app: Flask) -> dict[str, str]:
    with app.app_context():
        factory = Factory(app.config["HELPDESK"])
        requester = TieredOrg(factory).requester
        secrets = {scope: factory.api_token(requester, scope=scope, now=utcnow())
                   for scope in ("read", "write")}
        db.session.commit()
        db.session.remove()
    return secrets


@pytest.fixture
def other_process(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's connection, holding the write lock until it commits."""
    connection = sqlite3.connect(tmp_path / "test.sqlite3", isolation_level=None,
                                 check_same_thread=False)
    connection.execute("BEGIN IMMEDIATE")
    yield connection
    if connection.in_transaction:
        connection.execute("COMMIT")
    connection.close()


def tickets_in(app: Flask) -> int:
    with app.app_context():
        try:
            return db.session.scalar(select(func.count(Ticket.id))) or 0
        finally:
            db.session.remove()


@pytest.mark.parametrize(("secret", "status"), [("hd_not-a-token", 401), ("read", 403),
                                               ("write", 429)])
def test_a_refused_token_is_answered_without_waiting_for_the_lock(app, tokens, other_process,
                                                                  secret, status):
    api = ApiClient(app, tokens.get(secret, secret))
    if status == 429:
        app.config["HELPDESK_API_RATE_PER_MINUTE"] = 1
        assert api.get("/me").status_code == 200  # the minute's one request
    done: list[Any] = []
    caller = threading.Thread(target=lambda: done.append(api.post("/tickets", json=NEW_TICKET)))
    caller.start()
    # Well before the lock could be given up on: the answer did not wait for it.
    caller.join(timeout=LOCK_WAIT_MS / 1000 / 2)
    assert done, "the refused request waited for the write lock"
    assert done[0].status_code == status
    assert done[0].content_type == "application/problem+json"


@pytest.mark.parametrize("refused", [{"service": "fax"}, {"subject": ""}], ids=["service", "field"])
def test_a_ticket_refused_for_what_it_says_is_answered_without_waiting_for_the_lock(
        app, tokens, other_process, refused):
    # A creation reads, checks and routes first; only a ticket that will be written waits.
    api = ApiClient(app, tokens["write"])
    done: list[Any] = []
    caller = threading.Thread(target=lambda: done.append(
        api.post("/tickets", json={**NEW_TICKET, **refused})))
    caller.start()
    caller.join(timeout=LOCK_WAIT_MS / 1000 / 2)
    assert done, "the refused ticket waited for the write lock"
    assert done[0].status_code == 422
    assert set(done[0].json["errors"]) == set(refused)


def test_a_write_waits_for_the_lock_and_is_saved_once_it_is_free(app, tokens, other_process):
    api = ApiClient(app, tokens["write"])
    release = threading.Timer(0.2, other_process.execute, args=("COMMIT",))
    release.start()
    response = api.post("/tickets", json=NEW_TICKET)
    release.join()
    assert response.status_code == 201, response.json
    assert tickets_in(app) == 1


def test_a_lock_that_stays_taken_is_503_to_retry_and_nothing_is_saved(app, tokens,
                                                                       other_process):
    api = ApiClient(app, tokens["write"])
    response = api.post("/tickets", json=NEW_TICKET)
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    assert "nothing was saved" in response.json["detail"]
    other_process.execute("COMMIT")
    assert tickets_in(app) == 0
    # The same request, sent again, is taken.
    assert api.post("/tickets", json=NEW_TICKET).status_code == 201
    assert tickets_in(app) == 1


class SlowBody(io.BytesIO):
    """A request body that stops half-way until ``go_on`` is set, as a client on a poor
    line (or one stalling on purpose) sends it."""

    def __init__(self, body: bytes) -> None:
        super().__init__(body)
        self.half = len(body) // 2
        self.go_on, self.stalled = threading.Event(), threading.Event()

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() >= self.half:
            self.stalled.set()
            self.go_on.wait(timeout=30)
            return super().read(size)
        left = self.half - self.tell()
        return super().read(left if size is None or size < 0 else min(size, left))

    def readinto(self, buffer: Any) -> int:  # what werkzeug reads the body with
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


@pytest.mark.parametrize("as_form", [False, True], ids=["json", "multipart"])
def test_a_body_still_arriving_keeps_no_other_writer_waiting(app, tokens, as_form):
    api = ApiClient(app, tokens["write"])
    reference = api.post("/tickets", json=NEW_TICKET).json["reference"]
    if as_form:
        boundary, log = "gr4ns", "rad\n" * 2000
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nSe loggen."
                f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"attachments\"; "
                f"filename=\"install.log\"\r\nContent-Type: text/plain\r\n\r\n{log}"
                f"\r\n--{boundary}--\r\n").encode()
        content_type = f"multipart/form-data; boundary={boundary}"
    else:
        body = b'{"body": "Se loggen: ' + b"rad " * 2000 + b'"}'
        content_type = "application/json"
    slow = SlowBody(body)
    done: list[Any] = []
    sending = threading.Thread(target=lambda: done.append(api.http.post(
        f"/api/v1/tickets/{reference}/messages", input_stream=slow, content_type=content_type,
        headers={**api._headers(None), "Content-Length": str(len(body))})))
    sending.start()
    try:
        assert slow.stalled.wait(timeout=10), "the slow request never read its body"
        # Another writer meanwhile is saved at once, not after the slow client finishes.
        assert api.post("/tickets", json=NEW_TICKET).status_code == 201
    finally:
        slow.go_on.set()
        sending.join(timeout=30)
    assert done and done[0].status_code == 201, done and done[0].json
    assert tickets_in(app) == 2
