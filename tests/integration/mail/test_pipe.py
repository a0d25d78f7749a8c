"""``helpdesk mail ingest`` as the MTA runs it: a real process, mail on standard input, and
the sysexits code the MTA acts on."""

from __future__ import annotations

import pytest

from tests.integration.mail.builders import mail
from tests.integration.mail.processes import Helpdesk
from tests.support import BACKENDS, fresh_database

ORG = """
groups:
  - {code: servicedesk, name: Servicedesk, tier: 1, kind: service_desk}
services:
  - {code: drift, name: Drift, level1: group, level1_group: servicedesk,
     routines: {level1: Answer.}}
users:
  - {email: anna@test.example, name: Anna, role: requester}
mailboxes:
  - {code: support, address: support@test.example, service: drift}
"""


@pytest.fixture(params=BACKENDS)
def helpdesk(request, tmp_path):
    with fresh_database(request.param, tmp_path, "pipe") as url:
        desk = Helpdesk(url, tmp_path)
        assert desk.run("db", "upgrade").returncode == 0
        (tmp_path / "org.yaml").write_text(ORG)
        assert desk.run("org", "load", str(tmp_path / "org.yaml")).returncode == 0
        yield desk


def test_the_pipe_accepts_a_mail_once_and_says_what_it_became(helpdesk):
    raw = mail(sender="anna@test.example", to="support@test.example", subject="Nätverket")
    first = helpdesk.run("mail", "ingest", "--recipient", "Support@Test.example", stdin=raw)
    assert first.returncode == 0, first.stderr
    assert first.stdout.decode().startswith("new_ticket HD-")
    again = helpdesk.run("mail", "ingest", "--recipient", "support@test.example", stdin=raw)
    assert again.returncode == 0 and b"already received" in again.stdout
    assert helpdesk.scalar("SELECT count(*) FROM tickets") == 1
    assert helpdesk.scalar("SELECT channel FROM tickets") == "email"


def test_mail_that_is_not_a_mail_is_quarantined_and_refused_with_65(helpdesk):
    result = helpdesk.run("mail", "ingest", "--recipient", "support@test.example", stdin=b"")
    assert result.returncode == 65
    assert helpdesk.scalar("SELECT outcome FROM inbound_mails") == "quarantined"


def test_an_auto_reply_is_accepted_and_kept_but_makes_nothing(helpdesk):
    raw = mail(sender="anna@test.example", subject="Out of office",
               headers={"Auto-Submitted": "auto-replied"})
    assert helpdesk.run("mail", "ingest", stdin=raw).returncode == 0
    assert helpdesk.scalar("SELECT count(*) FROM tickets") == 0
    assert helpdesk.scalar("SELECT outcome FROM inbound_mails") == "ignored"


def test_a_database_that_cannot_be_reached_asks_the_mta_to_retry_with_75(tmp_path):
    # Nothing listens on port 9 of the loopback: the database is down.
    desk = Helpdesk("postgresql+psycopg://helpdesk@127.0.0.1:9/helpdesk", tmp_path)
    raw = mail(sender="anna@test.example", to="support@test.example")
    result = desk.run("mail", "ingest", "--recipient", "support@test.example", stdin=raw)
    assert result.returncode == 75, result.stderr
    assert b"temporary failure" in result.stderr
