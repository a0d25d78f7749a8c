"""What the webhook tests share: a real HTTP receiver on 127.0.0.1 that records what is
posted and answers as it is told, and the deliveries in the database."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import select

from helpdesk.core.clock import utcnow
from helpdesk.extensions import db
from helpdesk.webhooks.models import WebhookDelivery
from helpdesk.webhooks.subscriptions import add_subscription
from tests.integration.conftest import Database


@dataclass(frozen=True)
class Trickle:
    """An answer whose ``first`` part is written at once and the rest a byte at a time,
    ``every`` seconds apart: no read waits long, however long the whole answer takes."""

    first: bytes
    rest: bytes
    every: float

    def write(self, out: Any) -> None:
        try:
            out.write(self.first)
            for byte in self.rest:
                time.sleep(self.every)
                out.write(bytes([byte]))
        except OSError:  # the sender gave up and shut the connection
            pass


class Receiver:
    """Records every POST and when it arrived (by ``clock``); answers with the queued
    statuses, then 204. A queued bytes value is written as the whole answer instead, a
    Trickle as it says; a redirect points at /landing. ``while_posting`` runs before each
    answer: where a slow receiver takes its time."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int | bytes | Trickle] = []
        self.gets: list[str] = []
        self.clock: Callable[[], datetime] = utcnow
        self.while_posting: Callable[[], None] = lambda: None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body,
                                          "path": self.path, "at": receiver.clock()})
                receiver.while_posting()
                status = receiver.statuses.pop(0) if receiver.statuses else 204
                if isinstance(status, bytes | Trickle):
                    if isinstance(status, Trickle):
                        status.write(self.wfile)
                    else:
                        self.wfile.write(status)
                    self.close_connection = True
                    return
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/landing")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                receiver.gets.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def json(self, n: int) -> dict[str, Any]:
        return json.loads(self.received[n]["body"])


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()
        r.thread.join(timeout=5)


def deliveries() -> list[WebhookDelivery]:
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def queue_committed(database: Database, url: str, count: int) -> list[int]:
    """``count`` deliveries due now for one subscription to ``url``, committed for every
    sender (each an app of its own, as a scheduler process is)."""
    with database.session() as session:
        subscription = add_subscription(name="x", url=url, events=["ticket.created"],
                                        now=utcnow())
        queued = [WebhookDelivery(subscription=subscription, event="ticket.created",
                                  payload={"n": n}, created_at=utcnow(), attempts=0,
                                  next_attempt_at=utcnow()) for n in range(count)]
        session.add_all(queued)
        session.commit()
        return [delivery.id for delivery in queued]
