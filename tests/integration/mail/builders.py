"""Mails as a sender's program would write them, for the ingest tests."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid


def mail(*, sender: str, subject: str = "Skrivaren skriver inte ut", body: str = "Inget händer.",
         to: str = "support@helpdesk.test", message_id: str | None = None,
         in_reply_to: str | None = None, references: str | None = None,
         headers: dict[str, str] | None = None, html: str | None = None,
         attachments: tuple[tuple[str, str, bytes], ...] = ()) -> bytes:
    """An RFC 5322 message; ``attachments`` are (filename, content type, data)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    message["Message-ID"] = message_id or make_msgid(domain="sender.example")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return bytes(message)


def bounce(*, original: bytes, recipient: str, reporter: str = "MAILER-DAEMON@mx.example") -> bytes:
    """A delivery status notification (RFC 3464) for ``original``, as Postfix writes one."""
    headers = original.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("utf-8", "replace")
    return f"""From: Mail Delivery System <{reporter}>
To: helpdesk@helpdesk.localhost
Subject: Undelivered Mail Returned to Sender
Message-ID: {make_msgid(domain="mx.example")}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered to
{recipient}.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--BOUNDARY
Content-Type: text/rfc822-headers

{headers}

--BOUNDARY--
""".replace("\n", "\r\n").encode()
