"""Helpers shared by several of the test modules.

``fresh_database``: an empty database of its own, for a test that must commit
for real (a race between two sessions) or build the schema itself (migrations).
The session-scoped ``app`` fixture's database is shared and rolled back per test.

``fast_password_hashing``: cheap password hashes for test users.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug import security

import helpdesk.accounts.models
from tests.conftest import scratch_postgres_database

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def fresh_database(backend: str, tmp_path: Path, purpose: str) -> Iterator[str]:
    """Yield the URL of a new, empty database; it is removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / f'{purpose}.sqlite3'}"
        return
    with scratch_postgres_database(purpose) as url:
        yield url


def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Store test users' passwords with a cheap hash.

    ``User.set_password`` uses scrypt (about 80 ms a user), so the ``org`` fixture
    with its eleven users cost about a second per test. Logging in still checks
    the stored hash for real; only the work factor is lower.
    """

    def cheap(password: str, method: str = "", salt_length: int = 16) -> str:
        return security.generate_password_hash(password, method="pbkdf2:sha256:1000")

    monkeypatch.setattr(helpdesk.accounts.models, "generate_password_hash", cheap)
