"""The SMTP peer's handler: aiosmtpd's Maildir handler, plus two kinds of refusal to test.

It runs inside the peer's own process (``python -m aiosmtpd -c
tests.services.smtp_handler.Mailbox MAILDIR``), so it imports nothing of the tests.
Recipients at ``refused.invalid`` are refused for good (550) and at ``busy.invalid``
for now (451), as a real server refuses an unknown or a full mailbox; everyone else's
mail is delivered into the Maildir.
"""

from __future__ import annotations

from typing import Any

from aiosmtpd import handlers

REFUSED_DOMAIN = "refused.invalid"
BUSY_DOMAIN = "busy.invalid"


class Mailbox(handlers.Mailbox):
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        domain = address.rpartition("@")[2].lower()
        if domain == REFUSED_DOMAIN:
            return "550 5.1.1 No such mailbox here"
        if domain == BUSY_DOMAIN:
            return "451 4.2.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"
