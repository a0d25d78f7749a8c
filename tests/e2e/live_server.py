"""The real helpdesk on 127.0.0.1, for a real browser.

A fresh SQLite file in its own instance folder, the demo organisation loaded
(every password ``helpdesk-demo``), CSRF protection on as in production, served
by Werkzeug in a background thread on a free port.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from helpdesk import create_app
from helpdesk.cli import DEMO_FILE, DEMO_PASSWORD
from helpdesk.core.clock import utcnow
from helpdesk.extensions import db
from helpdesk.org.loader import load_file

__all__ = ["DEMO_PASSWORD", "LiveServer"]


@contextmanager
def _instance_env(instance: Path) -> Iterator[None]:
    # Settings read the instance folder from the environment; put it back afterwards.
    previous = os.environ.get("HELPDESK_INSTANCE_DIR")
    os.environ["HELPDESK_INSTANCE_DIR"] = str(instance)
    try:
        yield
    finally:
        if previous is None:
            del os.environ["HELPDESK_INSTANCE_DIR"]
        else:
            os.environ["HELPDESK_INSTANCE_DIR"] = previous


class LiveServer:
    def __init__(self, instance: Path, demo_tickets: bool = False) -> None:
        self.instance = instance
        with _instance_env(instance):
            self.app: Flask = create_app({
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'helpdesk.sqlite3'}",
                "WTF_CSRF_ENABLED": True,
            })
        with self.app.app_context():
            db.create_all()
            load_file(DEMO_FILE)
            if demo_tickets:
                from helpdesk.demo import create_demo_tickets

                create_demo_tickets(now=utcnow())
            db.session.commit()
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="helpdesk-live",
                                        daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()

    @contextmanager
    def database(self) -> Iterator[None]:
        """Read or prepare data directly, committed when the block ends."""
        with self.app.app_context():
            try:
                yield
                db.session.commit()
            finally:
                db.session.remove()
