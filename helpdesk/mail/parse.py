"""A raw incoming mail turned into plain data: who, about what, the text, the files.

Real mail is often broken (bad charsets, raw 8-bit headers, missing boundaries, endless
nesting), and mail ingestion must never fail on it: every problem is repaired as well as
we can and noted in ``defects``. Only input that is not a mail at all raises
:class:`MailParseError`. Pure: stdlib ``email`` and ``nh3`` only.

The reading is shared out along the mail's seams: :mod:`~helpdesk.mail.charsets` (raw bytes
to text, and the ``Notes`` of problems met), :mod:`~helpdesk.mail.headers` (header values),
:mod:`~helpdesk.mail.mime` (the MIME tree: text, HTML, attachments) and
:mod:`~helpdesk.mail.bounces` (what a bounce says); this module puts the result together.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser

from helpdesk.core.i18n import N_
from helpdesk.mail.bounces import Bounce, read_bounce
from helpdesk.mail.charsets import Notes, clean, collapse
from helpdesk.mail.headers import MAX_SUBJECT, POLICY, header_text, normalise_message_id
from helpdesk.mail.loops import MailKind, classify
from helpdesk.mail.mime import Body, MailAttachment, Reader, payload_of
from helpdesk.mail.sanitise import html_to_text, sanitise_html

__all__ = [
    "PARSE_PROBLEMS", "Bounce", "MailAttachment", "MailKind", "MailParseError", "ParsedMail",
    "find_reference_tags", "normalise_message_id", "parse_message",
]

# Why an input is not a mail: in English in the quarantine's reason (mail.reasons), which the
# administrator reads translated.
EMPTY = N_("empty input")
NO_HEADERS = N_("no header block")
NOTHING_TO_READ = N_("no From, no Message-ID and no body")
UNREADABLE = N_("unreadable even as headers and text (%(error)s)")
PARSE_PROBLEMS = (EMPTY, NO_HEADERS, NOTHING_TO_READ, UNREADABLE)


class MailParseError(ValueError):
    """The input is not a mail at all (empty, or neither headers nor a body)."""


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    sender_email: str | None
    sender_name: str
    reply_to: str | None
    recipients: tuple[str, ...]
    date: datetime | None
    text: str
    html: str | None  # sanitised
    attachments: tuple[MailAttachment, ...]
    kind: MailKind
    why: str
    bounce: Bounce | None
    headers: tuple[tuple[str, str], ...]
    defects: tuple[str, ...]


def _tag_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(r"\[\s*(" + re.escape(prefix) + r")-(\d{4})-(\d{1,9})\s*\]", re.IGNORECASE)


def find_reference_tags(subject: str, prefix: str = "HD") -> list[str]:
    """Ticket references written as ``[HD-2026-000042]`` in a subject, upper-case, in order."""
    tags: list[str] = []
    for _, year, number in _tag_pattern(prefix).findall(subject):
        tag = f"{prefix.upper()}-{year}-{int(number):06d}"
        if tag not in tags:
            tags.append(tag)
    return tags


def without_reference_tags(subject: str, prefix: str = "HD") -> str:
    """The subject with the helpdesk's ``[HD-2026-000042]`` tags taken out."""
    return " ".join(_tag_pattern(prefix).sub(" ", subject).split())


def parse_message(raw: bytes) -> ParsedMail:
    """Everything the helpdesk needs from one raw mail. Raises only MailParseError."""
    data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
    if not data.strip():
        raise MailParseError(EMPTY)
    notes = Notes()
    message = _parse_tree(data, notes)
    headers = [(name, header_text(name, value, notes)) for name, value in message.raw_items()]
    if not headers:
        raise MailParseError(NO_HEADERS)
    names = {name.lower() for name, _ in headers}
    if "from" not in names and "message-id" not in names and not _has_body(message):
        raise MailParseError(NOTHING_TO_READ)
    try:
        return _read(message, headers, notes)
    except Exception as exc:  # a library bug on hostile input must not lose the mail
        notes.add(f"MIME structure unreadable ({type(exc).__name__}); body kept as plain text")
    try:
        return _read(BytesHeaderParser(policy=POLICY).parsebytes(data), headers, notes, walk=False)
    except Exception as exc:
        notes.add(f"body unreadable ({type(exc).__name__}); only the headers kept")
        return _headers_only(headers, notes)


def _headers_only(headers: list[tuple[str, str]], notes: Notes) -> ParsedMail:
    first = {name.lower(): value for name, value in reversed(headers)}
    return ParsedMail(
        message_id=normalise_message_id(first.get("message-id", "")), in_reply_to=(), references=(),
        subject=collapse(first.get("subject", ""))[:MAX_SUBJECT], sender_email=None, sender_name="",
        reply_to=None, recipients=(), date=None, text="", html=None, attachments=(),
        kind=MailKind.NORMAL, why="", bounce=None, headers=tuple(headers), defects=notes.result(),
    )


def _parse_tree(data: bytes, notes: Notes) -> Message:
    try:
        return BytesParser(policy=POLICY).parsebytes(data)
    except Exception as exc:  # RecursionError on absurd nesting
        notes.add(f"MIME structure unreadable ({type(exc).__name__}); body kept as plain text")
    try:
        return BytesHeaderParser(policy=POLICY).parsebytes(data)
    except Exception as exc:
        raise MailParseError(UNREADABLE % {"error": type(exc).__name__}) from exc


def _has_body(message: Message) -> bool:
    payload = payload_of(message)
    return bool(payload) if isinstance(payload, list) else bool(str(payload or "").strip())


# --- reading the whole mail --------------------------------------------------------------


def _read(message: Message, headers: list[tuple[str, str]], notes: Notes, walk: bool = True) -> ParsedMail:
    first: dict[str, str] = {}
    for name, value in headers:
        first.setdefault(name.lower(), value)
    reader = Reader(notes)
    body = reader.walk(message, 0, in_report=False) if walk else Body(plain=reader.text_of(message, "body"))
    kind, why = classify(headers, reader.content_types, reader.report_type)
    text = body.plain if body.plain is not None else html_to_text(body.html) if body.html else ""
    text = clean(text.replace("\r\n", "\n").replace("\r", "\n"), "text", notes).strip()
    subject = collapse(first.get("subject", ""))
    if len(subject) > MAX_SUBJECT:
        notes.add(f"subject of {len(subject)} characters cut to {MAX_SUBJECT}")
        subject = subject[:MAX_SUBJECT]
    senders = _addresses(first.get("from", ""))
    reply_to = _addresses(first.get("reply-to", ""))
    recipients: dict[str, None] = {}  # ordered and without repeats
    for name, value in headers:
        if name.lower() in ("to", "cc", "delivered-to", "x-original-to"):
            recipients.update((address, None) for _, address in _addresses(value))
    return ParsedMail(
        message_id=normalise_message_id(first.get("message-id", "")),
        in_reply_to=_message_ids(first.get("in-reply-to", "")),
        references=_message_ids(first.get("references", "")),
        subject=subject,
        sender_email=senders[0][1] if senders else None,
        sender_name=senders[0][0] if senders else "",
        reply_to=reply_to[0][1] if reply_to else None,
        recipients=tuple(recipients),
        date=_date(first.get("date"), notes),
        text=text,
        html=clean(sanitise_html(body.html), "html", notes).strip() if body.html is not None else None,
        attachments=tuple(reader.attachments),
        kind=kind,
        why=why,
        bounce=read_bounce(reader, first, text) if kind is MailKind.BOUNCE else None,
        headers=tuple(headers),
        defects=notes.result(),
    )


_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+$")


def _addresses(value: str) -> list[tuple[str, str]]:
    """(display name, lower-case address) pairs, skipping anything that is not an address."""
    found = []
    for name, address in email.utils.getaddresses([value]):
        address = address.strip().strip("<>").lower()
        if _ADDRESS.match(address):
            found.append((collapse(name), address))
    return found


def _message_ids(value: str) -> tuple[str, ...]:
    pieces = re.findall(r"<[^<>]*>", value) or [token for token in re.split(r"[\s,]+", value) if "@" in token]
    ids = (normalise_message_id(piece) for piece in pieces)
    return tuple(dict.fromkeys(found for found in ids if found))


def _date(value: str | None, notes: Notes) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
        if parsed.tzinfo is None:  # "-0000" or a zone we cannot read: RFC 5322 says UTC
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        notes.add(f"unreadable Date header {value[:60]!r}")
        return None
