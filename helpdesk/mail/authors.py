"""Who wrote a mail on a ticket when the writer is none of the helpdesk's users.

A vendor's answer, or a note from someone who is not a user (a stranger who kept the tag in
the subject), is named on the agent's ticket page by the mail's sender, as
"Acme AB <support@acme.example>": never as the helpdesk, whose own words they are not.
"""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.mail.models import InboundMail
from helpdesk.tickets.models import Ticket


def mail_author(name: str | None, address: str | None) -> str:
    """The sender as "Name <address>", or whichever of the two the mail gave."""
    if name and address:
        return f"{name} <{address}>"
    return name or address or ""


def note_senders(ticket: Ticket) -> dict[int, str]:
    """Who wrote each note that came by mail from someone who is not a user, by message id.

    The address is the one its mail came from; the name, the one the From header gave, is
    kept in the history row (``sender_name``; none in rows recorded before it was kept).
    """
    names = {event.details["sender"]: event.details.get("sender_name")
             for event in ticket.events
             if event.kind == "mail_note" and event.actor_id is None and event.details.get("sender")}
    if not names:
        return {}
    mails = db.session.execute(select(InboundMail.ticket_message_id, InboundMail.sender).where(
        InboundMail.ticket_id == ticket.id, InboundMail.sender.in_(names)))
    return {message_id: mail_author(names[sender], sender) for message_id, sender in mails
            if message_id is not None}
