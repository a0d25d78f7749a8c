"""PostgreSQL dies in the middle of an IMAP batch of 1,000 mails; after it is back, every
mail is a ticket exactly once and every mail in the mailbox is marked.

A private PostgreSQL cluster (scripts/postgres.sh) is started for this test, so it can be
killed without touching the server the other tests use.
"""

from __future__ import annotations

import glob
import os
import shutil
import smtplib
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

from tests.conftest import require_service
from tests.integration.mail.builders import mail
from tests.integration.mail.processes import PROJECT, Helpdesk
from tests.services.imap import PASSWORD, DovecotServer

pytestmark = pytest.mark.postgres
MESSAGES = 1000
POSTGRES = str(PROJECT / "scripts" / "postgres.sh")


@pytest.fixture
def private_postgres() -> Iterator[tuple[str, str]]:
    require_service(bool(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")) and os.geteuid() == 0,
                    "PostgreSQL's server programs are not installed (apt-get install postgresql) "
                    "or the tests do not run as root")
    folder = tempfile.mkdtemp(prefix="helpdesk-pg-fault-")
    os.chmod(folder, 0o755)
    url = subprocess.run([POSTGRES, "start", folder], capture_output=True, text=True, check=True,
                         env={**os.environ, "DURABLE": "1"}).stdout.strip()
    try:
        yield url, folder
    finally:
        subprocess.run([POSTGRES, "stop", folder], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)


def deliver_many(dovecot: DovecotServer, user: str, count: int) -> None:
    with smtplib.LMTP("127.0.0.1", dovecot.lmtp_port) as lmtp:
        for n in range(count):
            lmtp.sendmail("anna@test.example", [user],
                          mail(sender="anna@test.example", subject=f"Fel {n:04d}",
                               body=f"Meddelande nummer {n}."))


def test_a_database_crash_during_a_batch_loses_and_doubles_nothing(
        dovecot, private_postgres, tmp_path):
    url, folder = private_postgres
    user = dovecot.new_user()
    desk = Helpdesk(url, tmp_path)
    desk.env["FAULT_IMAP_PASSWORD"] = PASSWORD
    # A thousand mails from one sender within the hour would otherwise look like a loop.
    desk.env["HELPDESK_MAIL_SENDER_LIMIT_PER_HOUR"] = str(2 * MESSAGES)
    (tmp_path / "org.yaml").write_text(f"""
groups:
  - {{code: servicedesk, name: Servicedesk, tier: 1, kind: service_desk}}
services:
  - {{code: drift, name: Drift, level1: group, level1_group: servicedesk,
     routines: {{level1: Answer.}}}}
users:
  - {{email: anna@test.example, name: Anna, role: requester}}
mailboxes:
  - code: support
    address: support@test.example
    service: drift
    imap: {{host: 127.0.0.1, port: {dovecot.imap_port}, user: {user},
            password_env: FAULT_IMAP_PASSWORD}}
""")
    assert desk.run("db", "upgrade").returncode == 0
    assert desk.run("org", "load", str(tmp_path / "org.yaml")).returncode == 0
    deliver_many(dovecot, user, MESSAGES)

    poller = desk.start("mail", "poll", "--limit", str(MESSAGES))
    deadline = time.monotonic() + 120
    while desk.scalar("SELECT count(*) FROM tickets") < MESSAGES // 4:
        assert poller.poll() is None, poller.stderr.read() if poller.stderr else ""
        assert time.monotonic() < deadline, "the poller made no progress"
        time.sleep(0.02)
    subprocess.run([POSTGRES, "crash", folder], check=True, capture_output=True)
    _, errors = poller.communicate(timeout=120)
    assert poller.returncode == 75, errors.decode(errors="replace")[-2500:]
    assert dovecot.flagged(user, "$HelpdeskStored") < MESSAGES

    subprocess.run([POSTGRES, "restart", folder], check=True, capture_output=True)
    again = desk.run("mail", "poll", "--limit", str(MESSAGES))
    assert again.returncode == 0, again.stderr
    assert desk.scalar("SELECT count(*) FROM tickets") == MESSAGES
    assert desk.scalar("SELECT count(DISTINCT subject) FROM tickets") == MESSAGES
    assert desk.scalar("SELECT count(*) FROM inbound_mails") == MESSAGES
    assert dovecot.flagged(user, "$HelpdeskStored") == MESSAGES
    assert b"0 fetched" in desk.run("mail", "poll").stdout
