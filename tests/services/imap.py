"""A real Dovecot IMAP server on 127.0.0.1, with LMTP to put mail into it.

Started once per test session (Debian's dovecot-imapd and dovecot-lmtpd; as
root, as on CI). Each test gets a mailbox user of its own, so tests never see
each other's mail.
"""

from __future__ import annotations

import imaplib
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_service

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PASSWORD = "imap-secret"
USERS = 200  # more than the tests use in one session


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@dataclass
class DovecotServer:
    folder: Path
    imap_port: int
    lmtp_port: int
    process: subprocess.Popen[bytes]

    users: list[str]

    def new_user(self) -> str:
        """A mailbox user no other test has used. They are all written before Dovecot starts:
        it reloads its user file only when the file's time (in whole seconds) changes."""
        return self.users.pop()

    def deliver(self, user: str, raw: bytes) -> None:
        with smtplib.LMTP("127.0.0.1", self.lmtp_port) as lmtp:
            lmtp.sendmail("sender@example.org", [user], raw)

    def client(self, user: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.imap_port)
        client.login(user, PASSWORD)
        client.select("INBOX")
        return client

    def flagged(self, user: str, keyword: str) -> int:
        client = self.client(user)
        try:
            _, data = client.uid("SEARCH", "KEYWORD", keyword)
            return len(data[0].split()) if data and data[0] else 0
        finally:
            client.logout()


def _uid(name: str) -> int:
    import pwd

    return pwd.getpwnam(name).pw_uid


def _gid(name: str) -> int:
    import grp

    return grp.getgrnam(name).gr_gid


@contextmanager
def running_dovecot() -> Iterator[DovecotServer]:
    """Dovecot in a folder of its own on free ports, stopped and removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
    folder.chmod(0o755)  # dovecot's auth process runs as another user and must read it
    (folder / "run").mkdir()
    (folder / "mail").mkdir()
    shutil.chown(folder / "mail", "dovecot", "dovecot")
    ids = f"{_uid('dovecot')}:{_gid('dovecot')}"
    users = [f"hd{uuid.uuid4().hex[:10]}" for _ in range(USERS)]
    (folder / "users").write_text("".join(
        f"{name}:{{PLAIN}}{PASSWORD}:{ids}::{folder / 'mail' / name}\n" for name in users))
    imap_port, lmtp_port = _free_port(), _free_port()
    (folder / "dovecot.conf").write_text(CONFIG.format(folder=folder, imap_port=imap_port,
                                                       lmtp_port=lmtp_port))
    process = subprocess.Popen([DOVECOT, "-c", str(folder / "dovecot.conf"), "-F"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(imap_port)
        _wait_for(lmtp_port)
        yield DovecotServer(folder, imap_port, lmtp_port, process, users)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(folder, ignore_errors=True)


def dovecot_installed() -> bool:
    return os.path.exists(DOVECOT) and os.geteuid() == 0


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    require_service(dovecot_installed(),
                    "Dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd) "
                    "or the tests do not run as root")
    with running_dovecot() as server:
        yield server


CONFIG = """
first_valid_uid = 100
base_dir = {folder}/run
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {folder}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%n {folder}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
log_path = {folder}/dovecot.log
"""
