"""Real ``helpdesk scheduler`` processes on PostgreSQL: a leader killed mid-run, a restart.

A scratch database is migrated and given a small organisation whose policy promises a
resolution within one minute, round the clock. Tickets are created in the past, so their
clocks fall due within seconds of the schedulers starting. Whatever happens to the
processes, every clock that fell due must have exactly one breach: none lost, none twice.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import create_engine, text

from helpdesk import create_app
from helpdesk.accounts.models import User
from helpdesk.catalogue.models import Service
from helpdesk.core.clock import utcnow
from helpdesk.extensions import db
from helpdesk.org.loader import load, parse
from helpdesk.tickets.operations import ask_requester, create_ticket, take_ticket
from tests.conftest import POSTGRES_URL, require_service, scratch_postgres_database

# helpdesk/migrations/env.py tries Flask-SQLAlchemy's deprecated get_engine() first.
pytestmark = pytest.mark.filterwarnings("ignore:'get_engine' is deprecated:DeprecationWarning")

PROJECT = Path(__file__).resolve().parents[3]
HELPDESK = PROJECT / ".venv" / "bin" / "helpdesk"
TICK, LEASE = 0.5, 2.0
TICKETS = 30

ORG = """
calendars:
  - code: dygnet-runt
    name: Dygnet runt
    weekly_hours: {mon: "00:00-24:00", tue: "00:00-24:00", wed: "00:00-24:00",
                   thu: "00:00-24:00", fri: "00:00-24:00", sat: "00:00-24:00",
                   sun: "00:00-24:00"}
sla_policies:
  - code: snabb
    name: Snabb
    calendar: dygnet-runt
    warning_percent: 50
    targets: {P1: {resolution: 1min}, P2: {resolution: 1min}, P3: {resolution: 1min},
              P4: {resolution: 1min}}
groups:
  - {code: servicedesk, name: Servicedesk, tier: 1, kind: service_desk,
     members: [agent@test.example]}
services:
  - {code: drift, name: Drift, level1: group, level1_group: servicedesk, sla_policy: snabb,
     routines: {level1: Answer.}}
users:
  - {email: anna@test.example, name: Anna, role: requester}
  - {email: agent@test.example, name: Sara, role: agent}
"""


@pytest.fixture(autouse=True)
def keep_logging_as_it_was():
    """Alembic's env.py runs ``logging.config.fileConfig``, which disables the loggers that
    exist already; put them back so later tests still see their log records."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    loggers = {name: (lg.disabled, lg.level) for name, lg in logging.Logger.manager.loggerDict.items()
               if isinstance(lg, logging.Logger)}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, (disabled, lvl) in loggers.items():
        lg = logging.getLogger(name)
        lg.disabled, lg.level = disabled, lvl


class Scratch:
    def __init__(self, url: str, tmp_path: Path) -> None:
        self.url, self.tmp_path = url, tmp_path
        self.app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
        self.engine = create_engine(url)
        self.processes: list[subprocess.Popen] = []

    def scalar(self, sql: str, **params) -> object:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params) -> list:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())

    def create_tickets(self, count: int, *, paused: int = 0) -> list[int]:
        """Tickets created two minutes ago (due a minute ago); ``paused`` of them are
        waiting for the requester since 20 seconds after they were opened."""
        with self.app.app_context():
            settings = self.app.config["HELPDESK"]
            service = db.session.query(Service).filter_by(code="drift").one()
            requester = db.session.query(User).filter_by(email="anna@test.example").one()
            agent = db.session.query(User).filter_by(email="agent@test.example").one()
            opened = utcnow() - timedelta(minutes=2)
            ids = []
            for n in range(count):
                ticket = create_ticket(requester=requester, service=service, subject=f"Fel {n}",
                                       description="Det fungerar inte.", impact=2, urgency=2,
                                       now=opened, settings=settings)
                if n < paused:
                    take_ticket(ticket, actor=agent, now=opened + timedelta(seconds=10),
                                settings=settings)
                    ask_requester(ticket, actor=agent, question="Vilken dator?",
                                  now=opened + timedelta(seconds=20), settings=settings)
                db.session.flush()
                ids.append(ticket.id)
            db.session.commit()
            db.session.remove()
            return ids

    def create_tickets_due_soon(self, count: int, first_in: float, spread: float) -> None:
        """Tickets whose one-minute resolution falls due from ``first_in`` seconds from now,
        one every ``spread`` seconds."""
        with self.app.app_context():
            settings = self.app.config["HELPDESK"]
            service = db.session.query(Service).filter_by(code="drift").one()
            requester = db.session.query(User).filter_by(email="anna@test.example").one()
            start = utcnow() - timedelta(minutes=1)
            for n in range(count):
                create_ticket(requester=requester, service=service, subject=f"Fel {n}",
                              description="Det fungerar inte.", impact=2, urgency=2,
                              now=start + timedelta(seconds=first_in + n * spread),
                              settings=settings)
            db.session.commit()
            db.session.remove()

    def start_scheduler(self, name: str) -> subprocess.Popen:
        env = {**os.environ,
               "HELPDESK_DATABASE_URL": self.url,
               "HELPDESK_INSTANCE_DIR": str(self.tmp_path / f"instance-{name}"),
               "HELPDESK_SCHEDULER_TICK_SECONDS": str(TICK),
               "HELPDESK_SCHEDULER_LEASE_SECONDS": str(LEASE),
               "HELPDESK_SWEEP_SECONDS": str(TICK)}
        log = (self.tmp_path / f"scheduler-{name}.log").open("wb")
        process = subprocess.Popen([str(HELPDESK), "scheduler"], env=env, cwd=PROJECT,
                                   stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted(self.tmp_path.glob("scheduler-*.log")))

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.processes.clear()

    def lease(self) -> tuple[str, object] | None:
        row = self.rows("SELECT holder, expires_at FROM leases WHERE name = 'scheduler'")
        return (row[0][0], row[0][1]) if row else None

    def breaches_by(self, holder: str) -> int:
        return int(self.scalar("SELECT count(*) FROM sla_alerts WHERE kind = 'breach' "
                               "AND recorded_by = :holder", holder=holder))

    def alerts_per_clock(self, kind: str) -> dict[int, int]:
        return dict(self.rows("SELECT clock_id, count(*) FROM sla_alerts WHERE kind = :kind "
                              "GROUP BY clock_id", kind=kind))

    def clock_ids(self, where: str = "TRUE") -> set[int]:
        return {r[0] for r in self.rows(f"SELECT id FROM sla_clocks WHERE {where}")}


def wait_for(condition, timeout: float, what: str, scratch: Scratch):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n{scratch.logs()}")


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def scratch(tmp_path, monkeypatch) -> Iterator[Scratch]:
    """PostgreSQL only: SQLite serves one process, the embedded default."""
    require_service(bool(POSTGRES_URL), "HELPDESK_TEST_POSTGRES_URL is not set (no PostgreSQL)")
    monkeypatch.setenv("HELPDESK_INSTANCE_DIR", str(tmp_path / "instance"))
    with scratch_postgres_database("schedulers") as url:
        found = Scratch(url, tmp_path)
        try:
            with found.app.app_context():
                flask_migrate.upgrade()
                load(parse(ORG, "org.yaml"))
                db.session.commit()
                db.session.remove()
            yield found
        finally:
            found.stop_all()
            found.engine.dispose()
            with found.app.app_context():
                db.session.remove()
                db.engine.dispose()


def holder_pid(holder: str) -> int:
    return int(holder.split(":")[-2])  # host:pid:random


def test_the_other_scheduler_takes_over_when_the_leader_is_killed(scratch):
    scratch.create_tickets_due_soon(TICKETS, first_in=4, spread=0.3)  # due over 9 seconds
    processes = [scratch.start_scheduler("a"), scratch.start_scheduler("b")]
    by_pid = {p.pid: p for p in processes}

    leader = wait_for(lambda: (lease := scratch.lease()) and lease[0], 15, "a leader", scratch)
    assert holder_pid(leader) in by_pid
    wait_for(lambda: scratch.breaches_by(leader) >= 3, 15, "the leader's first breaches",
             scratch)
    by_pid[holder_pid(leader)].send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    recorded_by_leader = scratch.breaches_by(leader)
    assert recorded_by_leader < TICKETS, "killed too late to be mid-run"

    successor = wait_for(lambda: (lease := scratch.lease()) and lease[0] != leader and lease[0],
                         LEASE + 4 * TICK + 2, "the takeover", scratch)
    took = time.monotonic() - killed_at
    assert took <= LEASE + 2 * TICK + 1.5, f"takeover took {took:.1f} s"
    assert holder_pid(successor) in by_pid and holder_pid(successor) != holder_pid(leader)
    assert by_pid[holder_pid(successor)].poll() is None

    resolution = scratch.clock_ids("metric = 'resolution'")
    assert len(resolution) == TICKETS
    wait_for(lambda: len(scratch.alerts_per_clock("breach")) == TICKETS, 20,
             "every breach", scratch)
    time.sleep(3 * TICK)  # a few more sweeps: nothing may be recorded twice
    assert scratch.alerts_per_clock("breach") == dict.fromkeys(resolution, 1)
    assert scratch.alerts_per_clock("warning") == dict.fromkeys(resolution, 1)
    assert scratch.breaches_by(successor) == TICKETS - scratch.breaches_by(leader) > 0
    assert scratch.breaches_by(leader) >= recorded_by_leader  # its last tick may have committed
    # Each breach is also in the tickets' history, once.
    assert scratch.scalar("SELECT count(*) FROM ticket_events WHERE kind = 'sla_breach'") == TICKETS
    scratch.stop_all()


def test_a_restarted_scheduler_records_what_fell_due_while_none_ran(scratch):
    scratch.create_tickets(5)
    scratch.start_scheduler("a")
    scratch.start_scheduler("b")
    wait_for(lambda: len(scratch.alerts_per_clock("breach")) == 5, 20, "the first breaches",
             scratch)
    scratch.stop_all()

    # While no scheduler runs: more tickets fall due, and one waits for its requester.
    later = scratch.create_tickets(8, paused=1)
    paused_clock = scratch.scalar(
        "SELECT id FROM sla_clocks WHERE ticket_id = :t AND status = 'paused'", t=later[0])
    assert paused_clock is not None
    due = scratch.clock_ids("status = 'running' AND due_at <= now()")
    assert len(due) == 5 + 7

    scratch.start_scheduler("c")
    wait_for(lambda: len(scratch.alerts_per_clock("breach")) == len(due), 20,
             "the breaches after the restart", scratch)
    time.sleep(3 * TICK)
    breaches = scratch.alerts_per_clock("breach")
    assert breaches == dict.fromkeys(due, 1)
    assert paused_clock not in breaches
    assert paused_clock not in scratch.alerts_per_clock("warning")
    scratch.stop_all()
