"""SQLite's one write lock and the API: who waits for it, and what a caller hears when
it stays taken. SQLite only: PostgreSQL has no database-wide write lock to wait for.

The app runs on a file of its own with real transactions (not a test's rolled-back
one), and a second connection plays another process holding the lock.
"""

from __future__ import annotations

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
