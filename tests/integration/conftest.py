"""Fixtures for the integration tests that need a database of their own (schedulers)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.sla.scheduler import Leader, Timing
from tests.support import BACKENDS, fresh_database


class Database:
    """A fresh database and a way to open another "process" (app) on it."""

    def __init__(self, url: str, instance: Any) -> None:
        self.url, self.instance = url, instance
        self.apps: list[Any] = []

    def app(self) -> Any:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": self.url})
        app.config["HELPDESK"].instance_dir = self.instance
        self.apps.append(app)
        return app

    @contextmanager
    def session(self) -> Iterator[Any]:
        with self.apps[0].app_context():
            try:
                yield db.session
            finally:
                db.session.remove()

    def leader(self, holder: str, timing: Timing) -> Leader:
        return Leader(self.app(), timing, holder=holder)

    def close(self) -> None:
        for app in self.apps:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@contextmanager
def database_on(backend: str, tmp_path: Any, monkeypatch: Any) -> Iterator[Database]:
    with fresh_database(backend, tmp_path, "scheduler") as url:
        monkeypatch.setenv("HELPDESK_INSTANCE_DIR", str(tmp_path / "instance"))
        found = Database(url, tmp_path / "instance")
        with found.app().app_context():
            db.create_all()
        try:
            yield found
        finally:
            found.close()


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path, monkeypatch) -> Iterator[Database]:
    with database_on(request.param, tmp_path, monkeypatch) as found:
        yield found


@pytest.fixture
def postgres_database(tmp_path, monkeypatch) -> Iterator[Database]:
    """For what only PostgreSQL can show (its server ending a connection, say)."""
    with database_on("postgresql", tmp_path, monkeypatch) as found:
        yield found
