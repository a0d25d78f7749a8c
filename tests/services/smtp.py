"""A real SMTP peer on 127.0.0.1: aiosmtpd in a process of its own, delivering to a Maildir.

``smtp_peer`` starts it for one test. ``stop()`` and ``start()`` (on the same port)
make an outage; ``messages()`` reads what it received, parsed, in delivery order.
The handler is aiosmtpd's Mailbox with two refusals to test, and mail whose 250 waits
for ``let_go()`` (see ``smtp_handler``).
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import cast

import pytest

from tests.services.smtp_handler import BUSY_DOMAIN, HELD_DOMAIN, REFUSED_DOMAIN

ROOT = Path(__file__).resolve().parents[2]
HANDLER = "tests.services.smtp_handler.Mailbox"

__all__ = ["BUSY_DOMAIN", "HELD_DOMAIN", "REFUSED_DOMAIN", "SmtpPeer", "smtp_peer"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpPeer:
    """``python -m aiosmtpd`` on a fixed port, writing every mail it accepts to ``maildir``."""

    def __init__(self, maildir: Path, port: int) -> None:
        self.maildir = maildir
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, wait_seconds: float = 15) -> None:
        if self._process is not None:
            return
        self._process = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}",
             "-c", HANDLER, str(self.maildir)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode() if self._process.stderr else ""
                self._process = None
                raise RuntimeError(f"the SMTP peer did not start: {error}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the SMTP peer does not listen on 127.0.0.1:{self.port}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()

    def wait_until_held(self, seconds: float = 15) -> None:
        """Until a mail to HELD_DOMAIN has arrived: the peer has it, its sender waits for the 250."""
        held, deadline = Path(f"{self.maildir}.held"), time.monotonic() + seconds
        while not held.exists():
            if time.monotonic() >= deadline:
                raise AssertionError("no mail to the held domain arrived")
            time.sleep(0.01)

    def let_go(self) -> None:
        """The held mail's 250 goes out (and any later one's at once)."""
        Path(f"{self.maildir}.go").touch()

    def messages(self) -> list[EmailMessage]:
        """Every mail received so far, oldest first (across restarts)."""
        if not self.maildir.exists():
            return []
        box = mailbox.Maildir(self.maildir, create=False)
        keys = sorted(box.keys(), key=lambda key: (box.get_message(key).get_date(), key))
        return [cast(EmailMessage, email.message_from_bytes(box.get_bytes(key),
                                                            policy=email.policy.default))
                for key in keys]


@pytest.fixture
def smtp_peer(tmp_path: Path) -> Iterator[SmtpPeer]:
    peer = SmtpPeer(tmp_path / "maildir", _free_port())
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()
