"""HTTP load benchmark (issue #4): the API under gunicorn against a bare-Flask ceiling.

On SQLite and on PostgreSQL, with 100,000 tickets present, gunicorn serves the app on
127.0.0.1 with 2 sync workers, and a small asyncio client (below) keeps a fixed number
of requests in flight for a fixed time:

- ticket creation: POST /api/v1/tickets as a requester, directly (201) and with
  Prefer: respond-async (202), then the drain that makes those requests tickets, alone
  and beside the web workers (the sustained rate);
- queue listing: GET /api/v1/tickets?group=servicedesk&status=active&sort=sla_due (first page);
- ticket fetch: GET /api/v1/tickets/<reference> for the queue's tickets;
- the ceiling: the same load against a minimal Flask app, under the same gunicorn, that
  inserts one ticket-sized row per POST on the same database. Both servers run at once,
  and the creation loads and the ceiling take turns in slices, so that the ratio compares
  rates measured at the same moments (a shared host's speed drifts);
- a creation's statements alone: the same minimal app, sending as many reads and writes
  in one transaction as one API creation sends (counted before the load), and nothing
  else: what the target leaves room for once the database work alone is paid.

Targets: creation at least 50 % of the ceiling; queue listing p95 under 50 ms.
HELPDESK_BENCH_HTTP_SECONDS (default 10) and HELPDESK_BENCH_HTTP_CONCURRENCY (default 2,
one per worker: latency without queueing in the client)
bound the run.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    select,
)
from sqlalchemy.engine import Engine

from bench.common import demo_app, on_each_database

ROOT = Path(__file__).resolve().parent.parent
TICKETS = int(os.environ.get("HELPDESK_BENCH_TICKETS", "100000"))
SECONDS = float(os.environ.get("HELPDESK_BENCH_HTTP_SECONDS", "10"))
CONCURRENCY = int(os.environ.get("HELPDESK_BENCH_HTTP_CONCURRENCY", "2"))
ROUNDS = 5  # slices of SECONDS per interleaved load
WARM_UP = min(2.0, SECONDS)
NEW_TICKET = {"service": "epost", "subject": "Outlook startar inte",
              "description": "Det händer inget när jag startar Outlook. " * 4,
              "impact": 2, "urgency": 2}


# The ceiling: one ticket-sized row per request, nothing else -----------------------------

baseline_metadata = MetaData()
baseline_rows = Table(
    "bench_baseline_rows", baseline_metadata,
    Column("id", Integer, primary_key=True),
    Column("reference", String(32)), Column("subject", String(200)), Column("description", Text),
    Column("status", String(30)), Column("impact", Integer), Column("urgency", Integer),
    Column("created_at", DateTime(timezone=True)), Column("version", Integer),
)


def baseline_app() -> Flask:
    """gunicorn 'bench.http_load:baseline_app()': validate a little, insert, commit, answer."""
    engine = create_engine(os.environ["HELPDESK_DATABASE_URL"])
    if engine.dialect.name == "sqlite":  # the helpdesk's own SQLite settings, to be fair
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

    app = Flask("baseline")

    @app.post("/rows")
    def add_row() -> Any:
        body = request.get_json()
        if not isinstance(body, dict) or not body.get("subject"):
            return jsonify({"error": "subject"}), 422
        with engine.begin() as conn:
            result = conn.execute(insert(baseline_rows).values(
                reference="HD-0", subject=body["subject"], description=body.get("description", ""),
                status="new", impact=body.get("impact"), urgency=body.get("urgency"),
                created_at=datetime.now(UTC), version=1))
            new_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
        return jsonify({"id": new_id}), 201

    @app.post("/statements")
    def statements_alone() -> Any:
        # As many reads and writes, in one transaction, as one API creation runs on the
        # helpdesk's database (counted by ``creation_statements``), on ticket-sized rows,
        # with nothing else: no token, no rules, no clocks, no ORM. What the database
        # work of a creation alone allows, under the same gunicorn.
        body = request.get_json()
        if not isinstance(body, dict) or not body.get("subject"):
            return jsonify({"error": "subject"}), 422
        reads, writes = (int(n) for n in os.environ["HELPDESK_BENCH_CREATION_STATEMENTS"].split(","))
        with engine.begin() as conn:
            for n in range(reads):
                conn.execute(select(baseline_rows).where(baseline_rows.c.id == n + 1)).first()
            for _ in range(writes):
                conn.execute(insert(baseline_rows).values(
                    reference="HD-0", subject=body["subject"],
                    description=body.get("description", ""), status="new",
                    impact=body.get("impact"), urgency=body.get("urgency"),
                    created_at=datetime.now(UTC), version=1))
        return jsonify({"id": None}), 201

    return app


def creation_statements(app: Flask, token: str) -> tuple[int, int]:
    """The reads and the writes one direct API creation sends to the helpdesk's database
    (the token's check included; the rate limit's own file is not that database)."""
    from helpdesk.extensions import db

    counted: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counted.append(statement.lstrip().split(None, 1)[0].upper())

    client = app.test_client()

    def create() -> None:
        response = client.post("/api/v1/tickets", data=json.dumps(NEW_TICKET),
                               headers={"Authorization": f"Bearer {token}"},
                               content_type="application/json")
        assert response.status_code == 201, response.data[:300]

    create()  # the first may make what later ones find (the year's number counter)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        create()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    reads = sum(1 for verb in counted if verb == "SELECT")
    writes = sum(1 for verb in counted if verb in ("INSERT", "UPDATE", "DELETE"))
    return reads, writes


def helpdesk_app() -> Flask:
    """gunicorn 'bench.http_load:helpdesk_app()': the helpdesk as configured by the environment."""
    from helpdesk import create_app

    return create_app()


# The load: N requests in flight, each on a new connection (gunicorn's sync workers close) --

@dataclass
class Load:
    label: str
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: dict[int, int]

    def __add__(self, other: Load) -> Load:
        errors = dict(self.errors)
        for status, count in other.errors.items():
            errors[status] = errors.get(status, 0) + count
        return Load(self.label, self.requests + other.requests, self.seconds + other.seconds,
                    self.latencies_ms + other.latencies_ms, errors)

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies_ms) or [float("nan")]
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def line(self, db_label: str) -> str:
        return (f"[{db_label}] {self.label:<22}: {self.rate:7.0f} req/s, p50 {self.pct(50):6.1f} ms, "
                f"p95 {self.pct(95):6.1f} ms, p99 {self.pct(99):6.1f} ms "
                f"({self.requests} requests"
                + (f", unexpected statuses {self.errors})" if self.errors else ", no errors)"))


async def _one(port: int, raw: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    status_line = await reader.readline()
    await reader.read()  # to EOF: the worker closes the connection
    writer.close()
    return int(status_line.split()[1])


def _raw(method: str, path: str, token: str | None, body: bytes = b"",
         extra: tuple[str, ...] = ()) -> bytes:
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
            f"Content-Length: {len(body)}", *extra]
    if token:
        head.append(f"Authorization: Bearer {token}")
    if body:
        head.append("Content-Type: application/json")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _run(label: str, port: int, make: Callable[[int], bytes], expect: int,
               seconds: float = SECONDS) -> Load:
    latencies: list[float] = []
    errors: dict[int, int] = {}
    count = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            raw = make(count)
            count += 1
            t0 = time.perf_counter()
            try:
                status = await _one(port, raw)
            except OSError:
                status = 0
            latencies.append((time.perf_counter() - t0) * 1000)
            if status != expect:
                errors[status] = errors.get(status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return Load(label, len(latencies), time.perf_counter() - started, latencies, errors)


@dataclass(frozen=True)
class LoadSpec:
    label: str
    port: int
    make: Callable[[int], bytes]
    expect: int

    def run(self, seconds: float) -> Load:
        return asyncio.run(_run(self.label, self.port, self.make, self.expect, seconds))


def load(spec: LoadSpec) -> Load:
    spec.run(WARM_UP)  # the workers' first requests import and connect
    return spec.run(SECONDS)


def interleaved(*specs: LoadSpec) -> list[Load]:
    """Loads whose rates are compared, run a slice each in turn (and the next round in the
    reverse order), so that a drift in the machine's speed falls on all of them alike: on a
    shared host, the same code was seen to run a third slower an hour later."""
    for spec in specs:
        spec.run(WARM_UP)
    totals = {spec.label: Load(spec.label, 0, 0.0, [], {}) for spec in specs}
    for n in range(ROUNDS):
        for spec in specs if n % 2 == 0 else reversed(specs):
            totals[spec.label] += spec.run(SECONDS / ROUNDS)
    return [totals[spec.label] for spec in specs]


# gunicorn ---------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(app: str, env: dict[str, str]) -> Iterator[int]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", app],
        cwd=ROOT, env={**os.environ, **env})
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"gunicorn did not start {app}")
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


# The run ------------------------------------------------------------------------------------

def requester_token() -> str:
    """A write token of the demo requester who opens the benchmarks' tickets (committed by
    the caller)."""
    from helpdesk.accounts.models import User
    from helpdesk.api.tokens import Scope, create_token
    from helpdesk.core.clock import utcnow
    from helpdesk.extensions import db

    requester = db.session.scalars(select(User).where(
        User.email == "anna.requester@demo.example")).one()
    return create_token(requester, name="bench", scope=Scope.WRITE, now=utcnow())[1]


def _prepare(url: str, instance: Path) -> tuple[str, str, list[str], tuple[int, int]]:
    """Demo organisation, 100,000 tickets, two tokens, the baseline's table, and how many
    reads and writes a creation sends to the database."""
    from bench.generate import generate_tickets
    from helpdesk.accounts.models import User
    from helpdesk.api.tokens import Scope, create_token
    from helpdesk.core.clock import utcnow
    from helpdesk.extensions import db
    from helpdesk.tickets.models import Ticket
    from helpdesk.tiers.models import SupportGroup

    app = demo_app(url, instance)
    with app.app_context():
        generate_tickets(TICKETS)
        requester = requester_token()
        agent_user = db.session.scalars(select(User).where(
            User.email == "sara.agent@demo.example")).one()
        agent = create_token(agent_user, name="bench", scope=Scope.READ, now=utcnow())[1]
        desk = db.session.scalars(select(SupportGroup.id).where(SupportGroup.code == "servicedesk")).one()
        references = list(db.session.scalars(select(Ticket.reference).where(
            Ticket.assigned_group_id == desk).order_by(Ticket.id.desc()).limit(500)))
        db.session.commit()
        baseline_metadata.create_all(db.engine)
        with db.engine.begin() as conn:  # rows for the statements-alone floor to read
            conn.execute(insert(baseline_rows), [{"subject": f"row {n}"} for n in range(50)])
        app.config["HELPDESK_API_RATE_PER_MINUTE"] = 10**9
        statements = creation_statements(app, requester)
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            # A database in use has its statistics; one just bulk-loaded has none yet, and
            # autovacuum would gather them in the middle of the measurement.
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        db.session.remove()
        db.engine.dispose()
    return requester, agent, references, statements


@contextmanager
def intake_worker(env: dict[str, str]) -> Iterator[None]:
    """``helpdesk tickets intake --every``: a process creating the accepted requests' tickets."""
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "helpdesk"), "tickets", "intake", "--every", "0.05"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def _pending(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql(
            "SELECT count(*) FROM ticket_intake WHERE status = 'pending'").scalar_one())


@dataclass
class Drained:
    label: str
    tickets: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.tickets / self.seconds

    def line(self, db_label: str) -> str:
        return (f"[{db_label}] {self.label:<22}: {self.rate:7.0f} tickets/s "
                f"({self.tickets} in {self.seconds:.1f} s)")


def drain_alone(url: str, instance: Path) -> Drained:
    """The accepted requests' tickets, created by the drain with the machine to itself (the
    web workers idle), timed from the first batch to the last."""
    from helpdesk import create_app
    from helpdesk.core.clock import utcnow
    from helpdesk.extensions import db
    from helpdesk.tickets.intake import drain

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        started = time.perf_counter()
        result = drain(now=utcnow, settings=app.config["HELPDESK"])
        elapsed = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    return Drained("intake drain alone", result.created, elapsed)


def sustained(port: int, url: str, env: dict[str, str], make: Callable[[int], bytes]) -> tuple[Load, Drained]:
    """Requests accepted while the intake worker creates their tickets beside the web workers,
    on the same two cores; the created rate counts until the last accepted one is a ticket."""
    engine = create_engine(url)
    with intake_worker(env):
        started = time.perf_counter()
        accepted = asyncio.run(_run("API intake + worker", port, make, expect=202))
        while _pending(engine):
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    engine.dispose()
    return accepted, Drained("end to end, sustained", accepted.requests, elapsed)


def run(label: str, url: str, instance: Path) -> None:
    requester, agent, references, (reads, writes) = _prepare(url, instance)
    env = {"HELPDESK_DATABASE_URL": url, "HELPDESK_INSTANCE_DIR": str(instance),
           "HELPDESK_API_RATE_PER_MINUTE": str(10**9),
           "HELPDESK_BENCH_CREATION_STATEMENTS": f"{reads},{writes}"}
    body = json.dumps(NEW_TICKET).encode()
    queue = "/api/v1/tickets?group=servicedesk&status=active&sort=sla_due&limit=50"
    later = ("Prefer: respond-async",)

    def create_request(_n: int) -> bytes:
        return _raw("POST", "/api/v1/tickets", requester, body)

    def later_request(_n: int) -> bytes:
        return _raw("POST", "/api/v1/tickets", requester, body, later)

    with gunicorn("bench.http_load:helpdesk_app()", env) as port, \
            gunicorn("bench.http_load:baseline_app()", env) as ceiling_port:
        # Both servers are up, the idle one's workers waiting in accept(): the targets and
        # their ceiling take turns, on the same machine at the same moments.
        create, accept, ceiling, alone = interleaved(
            LoadSpec("API ticket creation", port, create_request, 201),
            LoadSpec("API intake (async)", port, later_request, 202),
            LoadSpec("bare Flask insert", ceiling_port,
                     lambda _n: _raw("POST", "/rows", None, body), 201),
            LoadSpec("its statements alone", ceiling_port,
                     lambda _n: _raw("POST", "/statements", None, body), 201))
        listing = load(LoadSpec("API queue (SLA due)", port, lambda _n: _raw("GET", queue, agent), 200))
        fetch = load(LoadSpec("API ticket fetch", port, lambda n: _raw(
            "GET", f"/api/v1/tickets/{references[n % len(references)]}", agent), 200))
        drained = drain_alone(url, instance)
        beside, end_to_end = sustained(port, url, env, later_request)
    print(f"[{label}] gunicorn 2 sync workers, {CONCURRENCY} in flight, {SECONDS:.0f} s each "
          f"(creation, intake and the ceiling in {ROUNDS} slices by turns), "
          f"{TICKETS:,} tickets present")
    for result in (create, accept, listing, fetch, ceiling, alone, beside):
        print(result.line(label))
    for drain_result in (drained, end_to_end):
        print(drain_result.line(label))
    print(f"[{label}] creation / ceiling     : {create.rate / ceiling.rate:.2f} (target >= 0.50)")
    print(f"[{label}] async intake / ceiling : {accept.rate / ceiling.rate:.2f} (target >= 0.50)")
    print(f"[{label}] sustained / ceiling    : {end_to_end.rate / ceiling.rate:.2f} "
          "(tickets created with intake and drain sharing the machine)")
    print(f"[{label}] statements / ceiling   : {alone.rate / ceiling.rate:.2f} (a creation's "
          f"{reads} reads and {writes} writes on bare Flask, nothing else: the most a creation "
          "could reach)")
    print(f"[{label}] queue p95 / 50 ms      : {listing.pct(95) / 50:.2f} (target < 1.00)")


def main() -> None:
    on_each_database(run, "http")


if __name__ == "__main__":
    main()
