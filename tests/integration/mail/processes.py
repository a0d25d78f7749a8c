"""The ``helpdesk`` command as the MTA or an operator runs it: a real process on a database."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

PROJECT = Path(__file__).resolve().parents[3]
HELPDESK = PROJECT / ".venv" / "bin" / "helpdesk"


class Helpdesk:
    def __init__(self, url: str, tmp_path: Path) -> None:
        self.url = url
        self.env = {**os.environ, "HELPDESK_DATABASE_URL": url,
                    "HELPDESK_INSTANCE_DIR": str(tmp_path / "instance")}

    def run(self, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([str(HELPDESK), *args], input=stdin, env=self.env,
                              capture_output=True, timeout=300, check=False)

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([str(HELPDESK), *args], env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    def scalar(self, sql: str) -> Any:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return conn.execute(text(sql)).scalar()
        finally:
            engine.dispose()
