"""Empty databases of their own, for tests that must commit or build the schema themselves.

The session-scoped ``app`` fixture owns one schema per backend and rolls every
test back; a test that commits for real (a race between two sessions) or runs
the migrations needs a database nobody else uses. On SQLite that is a new file;
on PostgreSQL a new database, created and dropped over an AUTOCOMMIT connection.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL, require_service

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def fresh_database(backend: str, tmp_path: Path, purpose: str) -> Iterator[str]:
    """Yield the URL of a new, empty database; remove it afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / f'{purpose}.sqlite3'}"
        return
    require_service(bool(POSTGRES_URL),
                    "HELPDESK_TEST_POSTGRES_URL is not set (no PostgreSQL to test against)")
    name = f"helpdesk_{purpose}_{secrets.token_hex(4)}"
    server = create_engine(make_url(POSTGRES_URL).set(database="postgres"),
                           isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            with server.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        server.dispose()
