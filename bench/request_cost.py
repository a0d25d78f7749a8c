"""Where a request's time goes (issue #4): CPU per request in the process, without HTTP.

The HTTP load compares rates under gunicorn. This says what a request costs the Python
process by itself, through Flask's test client, against the same ceiling: the bare-Flask
insert, an authenticated GET /api/v1/me (the token check and the answer, nothing else),
a ticket request accepted for later (202) and a ticket created directly (201). Each is the
best of several rounds, so the machine's noise falls out; the ratios say how many
ceilings a request costs before gunicorn and the socket add their share to both.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bench.common import demo_app, on_each_database
from bench.http_load import NEW_TICKET, baseline_app, baseline_metadata, requester_token

WARM_UP = 30
ROUNDS = 5
PER_ROUND = 100


def cpu_ms(call: Callable[[], Any], expect: int) -> float:
    """The best round's CPU milliseconds per call."""
    for _ in range(WARM_UP):
        response = call()
        assert response.status_code == expect, (response.status_code, response.data[:300])
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(PER_ROUND):
            call()
        best = min(best, (time.process_time() - started) / PER_ROUND * 1000)
    return best


def run(label: str, url: str, instance: Path) -> None:
    from helpdesk.extensions import db

    app = demo_app(url, instance)
    app.config["HELPDESK_API_RATE_PER_MINUTE"] = 10**9
    with app.app_context():
        token = requester_token()
        db.session.commit()
        baseline_metadata.create_all(db.engine)
        db.session.remove()
    os.environ["HELPDESK_DATABASE_URL"] = url
    helpdesk, ceiling = app.test_client(), baseline_app().test_client()
    auth = {"Authorization": f"Bearer {token}"}
    body = json.dumps(NEW_TICKET)

    def post(headers: dict[str, str]) -> Callable[[], Any]:
        return lambda: helpdesk.post("/api/v1/tickets", data=body, headers=headers,
                                     content_type="application/json")

    costs = {
        "bare Flask insert": cpu_ms(lambda: ceiling.post(
            "/rows", data=body, content_type="application/json"), 201),
        "GET /me (token only)": cpu_ms(lambda: helpdesk.get("/api/v1/me", headers=auth), 200),
        "accepted for later": cpu_ms(post({**auth, "Prefer": "respond-async"}), 202),
        "created directly": cpu_ms(post(auth), 201),
    }
    with app.app_context():
        held, whole = lock_held_ms(db.engine, post(auth))
        db.session.remove()
        db.engine.dispose()
    floor = costs["bare Flask insert"]
    for name, cost in costs.items():
        print(f"[{label}] {name:<21}: {cost:5.2f} ms CPU a request, {cost / floor:5.2f} ceilings")
    print(f"[{label}] a creation holds what creations wait for (SQLite's write lock, "
          f"PostgreSQL's number counter) {held:.2f} of its {whole:.2f} ms ({held / whole:.0%})")


def lock_held_ms(engine: Engine, create: Callable[[], Any]) -> tuple[float, float]:
    """A direct creation's time from taking its number (the counter's UPDATE: on SQLite the
    write lock is taken just before it, on PostgreSQL the row lock by it) to its commit,
    and its whole time, in wall-clock milliseconds, averaged over PER_ROUND creations:
    how long two creations at once can not overlap."""
    taken: list[float] = []
    committed: list[float] = []

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("UPDATE ticket_reference_counters"):
            taken.append(time.perf_counter())

    def on_commit(_session: Any) -> None:  # after the database's COMMIT, its fsync included
        if len(committed) < len(taken):
            committed.append(time.perf_counter())

    for _ in range(WARM_UP):
        create()
    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(Session, "after_commit", on_commit)
    try:
        started = time.perf_counter()
        for _ in range(PER_ROUND):
            create()
        whole = time.perf_counter() - started
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(Session, "after_commit", on_commit)
    held = sum(end - start for start, end in zip(taken, committed, strict=True))
    return held / PER_ROUND * 1000, whole / PER_ROUND * 1000


def main() -> None:
    on_each_database(run, "cost")


if __name__ == "__main__":
    main()
