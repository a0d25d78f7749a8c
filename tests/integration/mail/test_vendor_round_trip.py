"""The demo's vendor round trip, as it runs in production: the handoff mail taken from the
outbox, the vendor's answers piped through the real ``helpdesk mail ingest`` process."""

from __future__ import annotations

import pytest

from tests.integration.mail.builders import mail
from tests.integration.mail.processes import Helpdesk
from tests.support import BACKENDS, fresh_database


@pytest.fixture(params=BACKENDS)
def demo(request, tmp_path):
    with fresh_database(request.param, tmp_path, "vendor_round_trip") as url:
        desk = Helpdesk(url, tmp_path)
        assert desk.run("db", "upgrade").returncode == 0
        result = desk.run("demo")
        assert result.returncode == 0, result.stderr
        yield desk


def test_a_vendor_answers_the_handoff_and_reports_the_solution_by_mail(demo):
    reference = demo.scalar("SELECT t.reference FROM tickets t JOIN vendor_handoffs h "
                            "ON h.ticket_id = t.id")
    assert demo.scalar(f"SELECT status FROM tickets WHERE reference = '{reference}'") == (
        "waiting_for_vendor")
    subject = demo.scalar("SELECT subject FROM outbox_messages WHERE kind = 'vendor_handoff'")
    message_id = demo.scalar("SELECT message_id FROM outbox_messages "
                             "WHERE kind = 'vendor_handoff'")
    assert demo.scalar("SELECT recipient_email FROM outbox_messages "
                       "WHERE kind = 'vendor_handoff'") == "support@molnpost.example"
    assert f"[{reference}]" in subject

    # Molnpost answers the mail: our tag and thread headers, and its own case number.
    answer = mail(sender="Molnpost Support <support@molnpost.example>",
                  to="support@demo.example", subject=f"SV: {subject} [MP-204711]",
                  body="Vi har öppnat ärende MP-204711 och felsöker kalenderflödet.",
                  in_reply_to=f"<{message_id}>", references=f"<{message_id}>")
    first = demo.run("mail", "ingest", "--recipient", "support@demo.example", stdin=answer)
    assert first.returncode == 0, first.stderr
    assert first.stdout.decode().startswith(f"reply {reference}: the reply of vendor molnpost")
    assert demo.scalar("SELECT case_number FROM vendor_handoffs") == "204711"
    assert demo.scalar("SELECT count(*) FROM ticket_events WHERE kind = 'vendor_replied'") == 1
    assert demo.scalar("SELECT count(*) FROM ticket_events WHERE kind = 'requester_replied'") == 0

    # Later, from a colleague, in a new thread with only their case number: it is solved.
    solved = mail(sender="maja@molnpost.example", to="support@demo.example",
                  subject="MP-204711 åtgärdat", body="Köerna är tömda; inbjudningar går fram.")
    second = demo.run("mail", "ingest", "--recipient", "support@demo.example", stdin=solved)
    assert second.returncode == 0, second.stderr
    assert second.stdout.decode().startswith(f"reply {reference}")
    assert demo.scalar(f"SELECT status FROM tickets WHERE reference = '{reference}'") == (
        "in_progress")
    assert demo.scalar("SELECT status FROM vendor_handoffs") == "solved"
    assert demo.scalar("SELECT g.code FROM tickets t JOIN support_groups g "
                       f"ON g.id = t.assigned_group_id WHERE t.reference = '{reference}'") == (
        "central-support")
    assert demo.scalar("SELECT count(*) FROM messages m JOIN vendor_handoff_mails v "
                       "ON v.message_id = m.id WHERE v.incoming") == 2
