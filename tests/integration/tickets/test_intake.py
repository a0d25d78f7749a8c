"""The intake drain on a database of its own: committed batches, several drains at once,
a request that breaks creation, the year's numbering, the scheduler's job and the command.

Each ``Database.app()`` is a "process" with an engine of its own, as the scheduler and a
dedicated intake worker beside the web workers would be.
"""

from __future__ import annotations

import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from helpdesk.accounts.models import User
from helpdesk.cli import main as helpdesk_cli
from helpdesk.core.clock import utcnow
from helpdesk.extensions import db
from helpdesk.sla.scheduler import create_accepted_tickets
from helpdesk.tickets import intake
from helpdesk.tickets.intake import IntakeStatus, TicketIntake
from helpdesk.tickets.models import Ticket
from tests.conftest import Factory, TieredOrg
from tests.integration.conftest import Database
from tests.integration.mail.processes import Helpdesk
from tests.support import fast_password_hashing

REQUEST = {"service": "mail", "subject": "Skrivaren på plan 3", "description": "Papper fastnar.",
           "impact": 2, "urgency": 2, "type": "incident", "confidential": False}


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


def accept(database: Database, count: int, *, at: datetime | None = None,
           **fields: Any) -> list[int]:
    """``count`` committed requests from the organisation's requester (made the first time)."""
    with database.session() as session:
        requester = session.scalar(select(User).where(User.name == "Anna Requester"))
        if requester is None:
            requester = TieredOrg(Factory(database.apps[0].config["HELPDESK"])).requester
            session.commit()
        ids = []
        for n in range(count):
            ids.append(intake.accept_request(
                requester, {**REQUEST, "subject": f"Ärende {n}", **fields},
                now=at or utcnow()).id)
            session.commit()
        return ids


def statuses(database: Database) -> dict[str, int]:
    with database.session() as session:
        rows = session.execute(select(TicketIntake.status, func.count(TicketIntake.id))
                               .group_by(TicketIntake.status)).all()
        return {status.value: n for status, n in rows}


def references(database: Database) -> list[str]:
    with database.session() as session:
        return list(session.scalars(select(Ticket.reference).order_by(Ticket.reference)))


def test_two_drains_at_once_create_each_ticket_exactly_once(database):
    database.app()
    accept(database, 90)
    apps = [database.app(), database.app()]
    results: list[intake.DrainResult] = []

    def run(app: Any) -> None:
        with app.app_context():
            results.append(intake.drain(now=utcnow, settings=app.config["HELPDESK"], batch=10))
            db.session.remove()

    threads = [threading.Thread(target=run, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(r.created for r in results) == 90
    assert statuses(database) == {"created": 90}
    made = references(database)
    assert len(made) == len(set(made)) == 90
    assert made[-1].endswith("-000090")  # no number skipped, none taken twice
    with database.session() as session:
        ticket_ids = session.scalars(select(TicketIntake.ticket_id)).all()
        assert len(set(ticket_ids)) == 90


def test_a_request_sent_while_a_drain_works_through_a_backlog_is_accepted_in_between(database):
    """The drain commits a batch at a time, and on SQLite lets go of the one write lock in
    between: a request sent while it works does not wait until the backlog is gone."""
    database.app()
    accept(database, 200)
    drainer = database.app()
    results: list[intake.DrainResult] = []

    def run() -> None:
        with drainer.app_context():
            results.append(intake.drain(now=utcnow, settings=drainer.config["HELPDESK"]))
            db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while statuses(database).get("created", 0) == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        late = accept(database, 1)[0]
        left = statuses(database).get("pending", 0)
    finally:
        thread.join(timeout=120)
    assert left > 1, "the request waited until the drain had (nearly) run dry"
    assert results == [intake.DrainResult(created=201)]
    with database.session() as session:
        assert session.get(TicketIntake, late).status == IntakeStatus.CREATED


def test_a_request_that_breaks_creation_rejects_only_itself(database, monkeypatch):
    database.app()
    accept(database, 2)
    broken = accept(database, 1, subject="Trasig")[0]
    accept(database, 2)
    real = intake.create_ticket

    def failing(**kwargs: Any) -> Ticket:
        if kwargs["subject"] == "Trasig":
            raise RuntimeError("a fault nobody foresaw")
        return real(**kwargs)

    monkeypatch.setattr(intake, "create_ticket", failing)
    app = database.app()
    with app.app_context():
        result = intake.drain(now=utcnow, settings=app.config["HELPDESK"])
        db.session.remove()
    assert result == intake.DrainResult(created=4, rejected=1)
    with database.session() as session:
        row = session.get(TicketIntake, broken)
        assert (row.status, row.ticket_id) == (IntakeStatus.REJECTED, None)
        assert "error on our side" in row.reason_in("en")
        assert "fel hos oss" in row.reason_in("sv")
    assert len(references(database)) == 4


@pytest.mark.postgres
def test_requests_the_database_fails_on_stay_pending_and_are_made_tickets_next_time(
        postgres_database):
    """The server ends the drain's connection at each ticket it writes (as a restart or a
    failover would): the requests are not at fault, so none is rejected."""
    database = postgres_database
    database.app()
    accept(database, 3)
    app = database.app()
    admin = database.apps[0]
    failing = [True]

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _connection_lost(conn, _cursor, statement, *_args) -> None:
        if failing[0] and statement.startswith("INSERT INTO tickets "):
            pid = conn.connection.dbapi_connection.info.backend_pid
            with admin.app_context():
                db.session.execute(select(func.pg_terminate_backend(pid)))
                db.session.remove()

    with app.app_context():
        assert intake.drain(now=utcnow, settings=app.config["HELPDESK"]) == intake.DrainResult()
        db.session.remove()
    assert statuses(database) == {"pending": 3}
    failing[0] = False
    with app.app_context():
        assert intake.drain(now=utcnow, settings=app.config["HELPDESK"]) == intake.DrainResult(
            created=3)
        db.session.remove()
    assert statuses(database) == {"created": 3}
    assert len(references(database)) == 3


def test_a_ticket_made_later_counts_from_its_acceptance_and_shows_as_changed_when_made(
        database):
    database.app()
    accepted_at = utcnow() - timedelta(minutes=10)
    [request] = accept(database, 1, at=accepted_at)
    app = database.app()
    with app.app_context():
        made_at = utcnow()
        intake.drain(now=lambda: made_at, settings=app.config["HELPDESK"])
        db.session.remove()
    with database.session() as session:
        ticket = session.get(TicketIntake, request).ticket
        # A client that synced after the acceptance finds it by updated_since.
        assert (ticket.created_at, ticket.updated_at) == (accepted_at, made_at)


def test_requests_either_side_of_new_year_are_numbered_in_their_own_years(database):
    database.app()
    accept(database, 2, at=datetime(2026, 12, 31, 22, 59, tzinfo=UTC))
    accept(database, 1, at=datetime(2026, 12, 31, 23, 1, tzinfo=UTC))  # 00:01 in Stockholm
    app = database.app()
    with app.app_context():
        intake.drain(now=utcnow, settings=app.config["HELPDESK"])
        db.session.remove()
    prefix = app.config["HELPDESK"].reference_prefix
    # Numbered by the UTC year the ticket was accepted in, as a ticket created directly is.
    assert references(database) == [f"{prefix}-2026-000001", f"{prefix}-2026-000002",
                                    f"{prefix}-2026-000003"]
    accept(database, 1, at=datetime(2027, 1, 1, 0, 1, tzinfo=UTC))
    with app.app_context():
        intake.drain(now=utcnow, settings=app.config["HELPDESK"])
        db.session.remove()
    assert references(database)[-1] == f"{prefix}-2027-000001"


def test_the_scheduler_job_and_the_command_create_the_accepted_tickets(database):
    app = database.app()
    accept(database, 3)
    assert create_accepted_tickets(app) == 3
    assert create_accepted_tickets(app) == 0
    accept(database, 2)
    result = app.test_cli_runner().invoke(helpdesk_cli, ["tickets", "intake"])
    assert result.exit_code == 0, result.output
    assert "2 tickets created, 0 requests rejected." in result.output
    assert statuses(database) == {"created": 5}


def test_a_drain_may_stop_after_a_limit_and_leaves_the_rest_pending(database):
    app = database.app()
    accept(database, 5, at=utcnow() - timedelta(seconds=5))
    with app.app_context():
        assert intake.drain(now=utcnow, settings=app.config["HELPDESK"], batch=2,
                            limit=3) == intake.DrainResult(created=3)
        db.session.remove()
    assert statuses(database) == {"created": 3, "pending": 2}


def test_an_intake_worker_stops_cleanly_when_told_to(database, tmp_path):
    worker = Helpdesk(database.url, tmp_path).start("tickets", "intake", "--every", "0.05")
    try:
        accept(database, 3)
        deadline = time.monotonic() + 60
        while statuses(database) != {"created": 3} and time.monotonic() < deadline:
            time.sleep(0.1)
        assert statuses(database) == {"created": 3}
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    finally:
        worker.kill()
    assert worker.returncode == 0, err.decode()
    assert out.decode().splitlines()[-1] == "Stopped."
    assert b"Traceback" not in err and b"Aborted" not in err


def test_a_drain_told_to_stop_finishes_its_batch_and_leaves_the_rest(database):
    app = database.app()
    accept(database, 5)
    asked = iter([False, True])  # go on before the first batch, stop before the second
    with app.app_context():
        assert intake.drain(now=utcnow, settings=app.config["HELPDESK"], batch=2,
                            stop=lambda: next(asked)) == intake.DrainResult(created=2)
        db.session.remove()
    assert statuses(database) == {"created": 2, "pending": 3}
