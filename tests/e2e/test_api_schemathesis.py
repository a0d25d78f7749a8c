"""Schemathesis fuzzes the live API from its own OpenAPI document, as a requester and as an
agent: every check (``--checks all``), and the stateful phase following the document's
links from a created ticket. It must find nothing.

The live server is the demo university with its tickets on SQLite; schemathesis runs as
its own command (as a CI job would), bounded in time.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.api.tokens import Scope, create_token
from helpdesk.core.clock import utcnow
from helpdesk.extensions import db
from tests.e2e.live_server import LiveServer

DEMO_TICKETS = True
CONFIG = Path(__file__).with_name("schemathesis.toml")
SECONDS_PER_ROLE = 60


def _schemathesis() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert found, "schemathesis is installed with the test extras"
    return found


@pytest.mark.parametrize("email", ["anna.requester@demo.example", "lars.agent@demo.example"],
                         ids=["requester", "agent"])
def test_schemathesis_finds_nothing(live_server: LiveServer, email: str, tmp_path: Path) -> None:
    live_server.app.config["HELPDESK_API_RATE_PER_MINUTE"] = 1_000_000  # fuzzing, not abuse
    with live_server.database():
        user = db.session.scalars(select(User).where(User.email == email)).one()
        _token, secret = create_token(user, name="schemathesis", scope=Scope.WRITE, now=utcnow())
    command = [
        _schemathesis(), "--config-file", str(CONFIG), "run",
        f"{live_server.url}/api/v1/openapi.json", "--checks", "all",
        "--phases", "examples,coverage,fuzzing,stateful",
        "-H", f"Authorization: Bearer {secret}", "--max-time", str(SECONDS_PER_ROLE),
        "--workers", "1", "--seed", "20261123", "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=SECONDS_PER_ROLE * 4,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert "Stateful" in result.stdout and "✅ Stateful" in result.stdout, result.stdout[-3000:]
