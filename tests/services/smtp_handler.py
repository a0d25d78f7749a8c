"""The SMTP peer's handler: aiosmtpd's Maildir handler, plus two kinds of refusal to test.

It runs inside the peer's own process (``python -m aiosmtpd -c
tests.services.smtp_handler.Mailbox MAILDIR``), so it imports nothing of the tests.
Recipients at ``refused.invalid`` are refused for good (550) and at ``busy.invalid``
for now (451), as a real server refuses an unknown or a full mailbox; everyone else's
mail is delivered into the Maildir.

Mail to ``held.invalid`` is delivered too, but its 250 is held back: the peer writes
``MAILDIR.held`` and answers once ``MAILDIR.go`` exists (at most ``HOLD_SECONDS``), so
that a test can act while the sender waits for the server to say it has the mail.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from aiosmtpd import handlers

REFUSED_DOMAIN = "refused.invalid"
BUSY_DOMAIN = "busy.invalid"
HELD_DOMAIN = "held.invalid"
HOLD_SECONDS = 30


class Mailbox(handlers.Mailbox):
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if any(a.rpartition("@")[2].lower() == HELD_DOMAIN for a in envelope.rcpt_tos):
            Path(f"{self.mail_dir}.held").touch()
            go_on, deadline = Path(f"{self.mail_dir}.go"), time.monotonic() + HOLD_SECONDS
            while not go_on.exists() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        return answer

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        domain = address.rpartition("@")[2].lower()
        if domain == REFUSED_DOMAIN:
            return "550 5.1.1 No such mailbox here"
        if domain == BUSY_DOMAIN:
            return "451 4.2.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"
