"""A raw incoming mail turned into plain data: who, about what, the text, the files.

Real mail is often broken (bad charsets, raw 8-bit headers, missing boundaries, endless
nesting), and mail ingestion must never fail on it: every problem is repaired as well as
we can and noted in ``defects``. Only input that is not a mail at all raises
:class:`MailParseError`. Pure: stdlib ``email`` and ``nh3`` only.
"""

from __future__ import annotations

import codecs
import email.header
import email.headerregistry
import email.policy
import email.utils
import html as html_module
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser, Parser
from typing import Any, TypeVar

from helpdesk.mail.loops import MailKind, classify
from helpdesk.mail.sanitise import html_to_text, sanitise_html

__all__ = [
    "Bounce", "MailAttachment", "MailKind", "MailParseError", "ParsedMail",
    "find_reference_tags", "normalise_message_id", "parse_message",
]

_T = TypeVar("_T")
_D = TypeVar("_D")

MAX_DEPTH = 20  # MIME nesting we follow; deeper parts are left out (and noted)
MAX_PARTS = 1000
MAX_SUBJECT = 1000
MAX_DIAGNOSTIC = 1000
MAX_DEFECTS = 100
MAX_HEADER = 32_000  # characters of one raw header we decode: the email package slows badly beyond



class _Headers(email.headerregistry.HeaderRegistry):
    """The standard header classes, each built once: the standard registry builds a new
    class for every header it parses, a fifth of the time it takes to read a mail."""

    def __init__(self) -> None:
        super().__init__()
        self._built: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = super().__getitem__(name)
        return built


_POLICY = email.policy.default.clone(header_factory=_Headers())
# Attached messages are written back out as they came, without refolding their headers.
_OUT_POLICY = email.policy.default.clone(refold_source="none")
_MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_REPORT_TYPES = {"delivery-status", "feedback-report", "disposition-notification"}
_REPORT_PARTS = {"message/delivery-status", "message/feedback-report", "message/disposition-notification"}


class MailParseError(ValueError):
    """The input is not a mail at all (empty, or neither headers nor a body)."""


@dataclass(frozen=True)
class MailAttachment:
    filename: str  # safe, never empty
    content_type: str  # lower-case "type/subtype"
    data: bytes
    content_id: str | None  # without <>, for inline images referenced as cid:
    inline: bool


@dataclass(frozen=True)
class Bounce:
    original_message_id: str | None
    original_subject: str | None
    recipient: str | None  # Final-Recipient / Original-Recipient
    status: str | None  # e.g. "5.1.1"
    diagnostic: str  # short human text, at most MAX_DIAGNOSTIC characters


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


def normalise_message_id(value: str) -> str | None:
    """``<abc@example.com>`` → ``abc@example.com``; None when there is no id."""
    match = re.search(r"<([^<>]*)>", value)
    candidate = match.group(1) if match else (value.split() or [""])[0]
    candidate = "".join(candidate.split()).strip("<>")
    return candidate or None


def find_reference_tags(subject: str, prefix: str = "HD") -> list[str]:
    """Ticket references written as ``[HD-2026-000042]`` in a subject, upper-case, in order."""
    pattern = re.compile(r"\[\s*(" + re.escape(prefix) + r")-(\d{4})-(\d{1,9})\s*\]", re.IGNORECASE)
    tags: list[str] = []
    for _, year, number in pattern.findall(subject):
        tag = f"{prefix.upper()}-{year}-{int(number):06d}"
        if tag not in tags:
            tags.append(tag)
    return tags


def parse_message(raw: bytes) -> ParsedMail:
    """Everything the helpdesk needs from one raw mail. Raises only MailParseError."""
    data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
    if not data.strip():
        raise MailParseError("empty input")
    notes = _Notes()
    message = _parse_tree(data, notes)
    headers = [(name, _header_text(name, value, notes)) for name, value in message.raw_items()]
    if not headers:
        raise MailParseError("no header block")
    names = {name.lower() for name, _ in headers}
    if "from" not in names and "message-id" not in names and not _has_body(message):
        raise MailParseError("no From, no Message-ID and no body")
    try:
        return _read(message, headers, notes)
    except Exception as exc:  # a library bug on hostile input must not lose the mail
        notes.add(f"MIME structure unreadable ({type(exc).__name__}); body kept as plain text")
    try:
        return _read(BytesHeaderParser(policy=_POLICY).parsebytes(data), headers, notes, walk=False)
    except Exception as exc:
        notes.add(f"body unreadable ({type(exc).__name__}); only the headers kept")
        return _headers_only(headers, notes)


def _headers_only(headers: list[tuple[str, str]], notes: _Notes) -> ParsedMail:
    first = {name.lower(): value for name, value in reversed(headers)}
    return ParsedMail(
        message_id=normalise_message_id(first.get("message-id", "")), in_reply_to=(), references=(),
        subject=_collapse(first.get("subject", ""))[:MAX_SUBJECT], sender_email=None, sender_name="",
        reply_to=None, recipients=(), date=None, text="", html=None, attachments=(),
        kind=MailKind.NORMAL, why="", bounce=None, headers=tuple(headers), defects=notes.result(),
    )


class _Notes:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, note: str) -> None:
        if note not in self.items:
            self.items.append(note)

    def result(self) -> tuple[str, ...]:
        if len(self.items) <= MAX_DEFECTS:
            return tuple(self.items)
        extra = len(self.items) - MAX_DEFECTS
        return (*self.items[:MAX_DEFECTS], f"... and {extra} more problems")


def _parse_tree(data: bytes, notes: _Notes) -> Message:
    try:
        return BytesParser(policy=_POLICY).parsebytes(data)
    except Exception as exc:  # RecursionError on absurd nesting
        notes.add(f"MIME structure unreadable ({type(exc).__name__}); body kept as plain text")
    try:
        return BytesHeaderParser(policy=_POLICY).parsebytes(data)
    except Exception as exc:
        raise MailParseError(f"unreadable even as headers and text ({type(exc).__name__})") from exc


def _has_body(message: Message) -> bool:
    payload = _payload(message)
    return bool(payload) if isinstance(payload, list) else bool(str(payload or "").strip())


# --- text and charsets -------------------------------------------------------------------

_CHARSET_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "euc-cn": "gb18030",
    "csgb2312": "gb18030", "gb_2312-80": "gb18030",
    "unicode-1-1-utf-7": "utf-7", "x-unicode-2-0-utf-7": "utf-7", "unicode-1-1-utf-8": "utf-8",
    "x-unicode20utf8": "utf-8", "utf8": "utf-8",
    # As browsers do: mail labelled Latin-1 is nearly always Windows-1252.
    "iso-8859-1": "windows-1252", "iso8859-1": "windows-1252", "iso_8859-1": "windows-1252",
    "latin1": "windows-1252", "latin-1": "windows-1252", "l1": "windows-1252", "cp819": "windows-1252",
    "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "euc-kr": "cp949",
    "shift_jis": "cp932", "shift-jis": "cp932", "x-sjis": "cp932", "sjis": "cp932",
    "big5": "big5hkscs", "iso-8859-8-i": "iso-8859-8", "windows-874": "cp874", "tis-620": "cp874",
    "x-mac-roman": "mac_roman", "macintosh": "mac_roman",
}
# Labels that promise nothing beyond ASCII: 8-bit bytes under them are guessed.
_NO_CHARSET = {"", "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "unknown-8bit", "x-unknown", "default"}
_SURROGATES = re.compile("[\udc80-\udcff]")


def _decode_unknown(data: bytes) -> str:
    """UTF-8 when the bytes are (mostly) UTF-8, else Windows-1252."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "replace")
        if any(ord(char) > 127 and char != "\ufffd" for char in text):
            return text
        return data.decode("windows-1252", "replace")


def _decode_text(data: bytes, charset: str | None, where: str, notes: _Notes) -> str:
    label = (charset or "").strip().strip("\"'").lower()
    codec = _CHARSET_ALIASES.get(label, label)
    if label not in _NO_CHARSET:
        try:
            codecs.lookup(codec)
            return data.decode(codec)
        except UnicodeDecodeError:
            notes.add(f"{where}: bytes not valid in charset {label}; replaced")
            return data.decode(codec, "replace")
        except (LookupError, ValueError):  # ValueError: a NUL in the label
            notes.add(f"{where}: unknown charset {label!r}; guessed")
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        notes.add(f"{where}: 8-bit text without a usable charset; guessed UTF-8 or Windows-1252")
        return _decode_unknown(data)


def _clean(text: str, where: str, notes: _Notes) -> str:
    """No raw-byte surrogates (they cannot be stored) and no NUL characters."""
    if _SURROGATES.search(text):
        notes.add(f"{where}: raw 8-bit bytes; guessed UTF-8 or Windows-1252")
        text = _decode_unknown(text.encode("utf-8", "surrogateescape"))
    return text.replace("\x00", "")


def _header_text(name: str, raw: str, notes: _Notes) -> str:
    value = _clean(str(raw), f"header {name}", notes)
    if len(value) > MAX_HEADER:
        notes.add(f"header {name} of {len(value)} characters cut to {MAX_HEADER} before decoding")
        words = value[:MAX_HEADER].split()
        value = " ".join(words[:-1] if len(words) > 1 else words)  # without the word cut in half
    try:
        header = _POLICY.header_fetch_parse(name, value)
        for defect in getattr(header, "defects", ()):
            notes.add(f"header {name}: {str(defect).strip() or _defect_text(defect)}")
        value = str(header)
    except Exception:
        notes.add(f"header {name} is malformed; decoded leniently")
        try:
            value = str(email.header.make_header(email.header.decode_header(value)))
        except Exception:
            value = re.sub(r"\r?\n[ \t]*", " ", value)
    return _clean(value, f"header {name}", notes)


def _collapse(text: str) -> str:
    return " ".join(text.split())


# --- reading the whole mail --------------------------------------------------------------


def _read(message: Message, headers: list[tuple[str, str]], notes: _Notes, walk: bool = True) -> ParsedMail:
    first: dict[str, str] = {}
    for name, value in headers:
        first.setdefault(name.lower(), value)
    reader = _Reader(notes)
    body = reader.walk(message, 0, in_report=False) if walk else _Body(plain=reader.text_of(message, "body"))
    kind, why = classify(headers, reader.content_types, reader.report_type)
    text = body.plain if body.plain is not None else html_to_text(body.html) if body.html else ""
    text = _clean(text.replace("\r\n", "\n").replace("\r", "\n"), "text", notes).strip()
    subject = _collapse(first.get("subject", ""))
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
        html=_clean(sanitise_html(body.html), "html", notes).strip() if body.html is not None else None,
        attachments=tuple(reader.attachments),
        kind=kind,
        why=why,
        bounce=_bounce(reader, first, text) if kind is MailKind.BOUNCE else None,
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
            found.append((_collapse(name), address))
    return found


def _message_ids(value: str) -> tuple[str, ...]:
    pieces = re.findall(r"<[^<>]*>", value) or [token for token in re.split(r"[\s,]+", value) if "@" in token]
    ids = (normalise_message_id(piece) for piece in pieces)
    return tuple(dict.fromkeys(found for found in ids if found))


def _date(value: str | None, notes: _Notes) -> datetime | None:
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


# --- the MIME tree ---------------------------------------------------------------------


@dataclass
class _Body:
    plain: str | None = None  # from text/plain parts
    html: str | None = None  # raw, unsanitised


@dataclass
class _Reader:
    """Walks the mail's own MIME tree (not into attached messages) once."""

    notes: _Notes
    attachments: list[MailAttachment] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    report_type: str = ""
    report_fields: list[tuple[str, str]] = field(default_factory=list)
    originals: list[Message] = field(default_factory=list)  # the bounced mail, from the report
    attached_messages: list[Message] = field(default_factory=list)
    parts: int = 0

    def walk(self, part: Message, depth: int, in_report: bool) -> _Body:
        self.parts += 1
        if self.parts > MAX_PARTS:
            self.notes.add(f"more than {MAX_PARTS} MIME parts; the rest left out")
            return _Body()
        if depth > MAX_DEPTH:
            self.notes.add(f"MIME parts nested deeper than {MAX_DEPTH} levels left out")
            return _Body()
        ctype = self.content_type(part)
        self.content_types.append(ctype)
        try:
            return self._walk(part, ctype, depth, in_report)
        finally:
            for defect in part.defects:
                self.notes.add(f"{ctype}: {_defect_text(defect)}")

    def _walk(self, part: Message, ctype: str, depth: int, in_report: bool) -> _Body:
        payload = _payload(part)
        if ctype.startswith("multipart/"):
            if not isinstance(payload, list):
                self.notes.add(f"{ctype} without readable parts; body kept as plain text")
                return _Body(plain=self.text_of(part, ctype))
            children = [child for child in payload if isinstance(child, Message)]
            if ctype == "multipart/alternative":
                return self._alternative(children, depth, in_report)
            if ctype == "multipart/report":
                report_type = _safe(lambda: str(part.get_param("report-type") or ""), "").lower()
                self.report_type = self.report_type or report_type
                in_report = in_report or report_type in _REPORT_TYPES
            return _sequence([self.walk(child, depth + 1, in_report) for child in children])
        if ctype in _REPORT_PARTS:
            self.report_fields.extend(_report_fields(part))
            return _Body()
        if ctype == "text/rfc822-headers" and in_report:
            self.originals.append(_headers_message(self.text_of(part, ctype)))
            return _Body()
        if ctype.startswith("message/") and isinstance(payload, list):
            return self._message(part, ctype, payload, in_report)
        disposition = _safe(part.get_content_disposition, None)
        filename = self.filename(part)
        # A named text part is a file the sender attached, even when their client shows it inline.
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            text = self.text_of(part, ctype)
            return _Body(plain=text) if ctype == "text/plain" else _Body(html=text)
        self.attach(part, ctype, filename, _payload_bytes(part), disposition)
        return _Body()

    def _alternative(self, children: list[Message], depth: int, in_report: bool) -> _Body:
        bodies = [self.walk(child, depth + 1, in_report) for child in children]
        plains = [body.plain for body in bodies if body.plain is not None]
        htmls = [body.html for body in bodies if body.html is not None]
        # The plain version is what we keep as text, unless it is blank beside a real HTML one
        # (some mailers send an empty text/plain); the last (richest) HTML is for display.
        written = [plain for plain in plains if plain.strip()]
        plain = written[0] if written else (plains[0] if plains and not htmls else None)
        return _Body(plain=plain, html=htmls[-1] if htmls else None)

    def _message(self, part: Message, ctype: str, payload: list[Any], in_report: bool) -> _Body:
        nested = payload[0] if payload and isinstance(payload[0], Message) else None
        if nested is None:
            return _Body()
        if ctype == "message/external-body":
            self.notes.add("message/external-body reference (content stored elsewhere) left out")
            return _Body()
        if in_report:
            self.originals.append(nested)
            return _Body()
        self.attached_messages.append(nested)
        filename = self.filename(part)
        if not filename:
            subject = _first_header(nested, "subject", self.notes)
            name = _collapse(subject)[:150].replace("/", "_").replace("\\", "_")
            filename = f"{name}.eml" if name else ""
        disposition = _safe(part.get_content_disposition, None)
        self.attach(part, ctype, filename, self.serialise(nested), disposition)
        return _Body()

    def attach(self, part: Message, ctype: str, filename: str, data: bytes, disposition: str | None) -> None:
        content_id = _raw_header(part, "content-id")
        content_id = normalise_message_id(content_id) if content_id else None
        index = len(self.attachments) + 1
        self.attachments.append(MailAttachment(
            filename=_safe_filename(filename, ctype, index),
            content_type=ctype,
            data=data,
            content_id=content_id,
            inline=disposition == "inline" or (disposition is None and content_id is not None),
        ))

    def content_type(self, part: Message) -> str:
        ctype = _safe(part.get_content_type, "text/plain").lower()
        declared = _raw_header(part, "content-type")
        garbled = not _MIME_TYPE.match(ctype)
        if garbled or (declared is not None and declared.split(";")[0].strip().count("/") != 1):
            # Python falls back to text/plain; the file name says more about an attachment.
            guessed = mimetypes.guess_type(self.filename(part) or "", strict=False)[0]
            ctype = (guessed or ("application/octet-stream" if garbled else ctype)).lower()
            self.notes.add(f"invalid Content-Type {(declared or '')[:40]!r}; read as {ctype}")
        return ctype

    def filename(self, part: Message) -> str:
        name = _safe(part.get_filename, None)
        if not name:
            return ""
        if "=?" in name:  # RFC 2047 words inside a quoted parameter, against the rules but common
            try:
                name = str(email.header.make_header(email.header.decode_header(name)))
            except Exception:
                self.notes.add("attachment name has broken encoded words")
        return _clean(str(name), "attachment name", self.notes)

    def text_of(self, part: Message, where: str) -> str:
        charset = _safe(lambda: part.get_param("charset"), None)
        return _decode_text(_payload_bytes(part), charset if isinstance(charset, str) else None, where,
                            self.notes)

    def serialise(self, message: Message) -> bytes:
        try:
            return message.as_bytes(policy=_OUT_POLICY)
        except Exception as exc:  # RecursionError on absurdly nested attachments
            self.notes.add(f"attached message could not be written out ({type(exc).__name__})")
            return b""


def _sequence(bodies: list[_Body]) -> _Body:
    """Parts shown one after another (mixed, related, signed, report): text joined in order."""
    present = [body for body in bodies if body.plain is not None or body.html is not None]
    plain = html = None
    if any(body.plain is not None for body in present):
        texts = (body.plain if body.plain is not None else html_to_text(body.html or "") for body in present)
        plain = "\n\n".join(text.strip("\r\n") for text in texts if text.strip())
    if any(body.html is not None for body in present):
        html = "".join(
            body.html if body.html is not None else f"<pre>{html_module.escape(body.plain or '')}</pre>"
            for body in present
        )
    return _Body(plain=plain, html=html)


def _safe(read: Callable[[], _T], default: _D) -> _T | _D:
    """The email package's header parsing can raise on hostile input; fall back quietly."""
    try:
        return read()
    except Exception:
        return default


def _payload(part: Message) -> Any:
    """The parts of a multipart, or the undecoded body text."""
    try:
        return part.get_payload()
    except Exception:  # it decodes 8-bit text with the declared charset, which may be garbage
        return getattr(part, "_payload", "")


def _raw_header(part: Message, name: str) -> str | None:
    """A header's raw value without going through the (fallible) structured parser."""
    for key, value in part.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def _first_header(message: Message, name: str, notes: _Notes) -> str:
    raw = _raw_header(message, name)
    return _header_text(name, raw, notes) if raw is not None else ""


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    payload = _payload(part)
    return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""


def _defect_text(defect: object) -> str:
    """``CloseBoundaryNotFoundDefect`` → ``close boundary not found``."""
    name = type(defect).__name__.removesuffix("Defect")
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()


def _report_fields(part: Message) -> list[tuple[str, str]]:
    """The "Name: value" fields of a delivery-status or feedback/disposition report part."""
    payload = _payload(part)
    blocks = payload if isinstance(payload, list) else [_headers_message(str(payload))]
    return [
        (str(name).lower(), _collapse(str(value)))
        for block in blocks
        if isinstance(block, Message)
        for name, value in block.raw_items()
    ]


def _headers_message(text: str) -> Message:
    try:
        return Parser(policy=email.policy.compat32).parsestr(text, headersonly=True)
    except Exception:
        return Message()


_UNSAFE_IN_NAMES = re.compile(r'[<>:"|?*]')


def _safe_filename(name: str, ctype: str, index: int) -> str:
    """A name that is safe as a download name and on any disk; never empty."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if char.isprintable())
    name = _collapse(_UNSAFE_IN_NAMES.sub("_", name)).lstrip(". ")
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = stem[: 199 - len(extension)] + dot + extension if dot and len(extension) <= 10 else name[:200]
    if not name:
        guessed = ".eml" if ctype.startswith("message/") else mimetypes.guess_extension(ctype, strict=False)
        name = f"attachment-{index}{guessed or '.bin'}"
    return name


# --- bounces ---------------------------------------------------------------------------

_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_BODY_MESSAGE_ID = re.compile(r"^[ \t]*Message-ID:[ \t]*(\S.*)$", re.IGNORECASE | re.MULTILINE)
_RETURNED_MAIL_STARTS = re.compile(
    r"original message|copy of the (original )?message|below this line|^[A-Za-z-]+:[ \t]", re.IGNORECASE
)
_BODY_SUBJECT = re.compile(r"^[ \t]*Subject:[ \t]*(\S.*)$", re.IGNORECASE | re.MULTILINE)


def _human_lines(text: str) -> list[str]:
    """The bounce's own explanation: the lines before the returned mail begins."""
    lines = []
    for line in text.splitlines():
        if _RETURNED_MAIL_STARTS.search(line):
            break
        if line.strip():
            lines.append(line.strip())
    return lines


def _bounce(reader: _Reader, first: dict[str, str], text: str) -> Bounce:
    """What bounced, where and why: from the DSN fields, the returned mail, or the text."""
    fields: dict[str, str] = {}
    for name, value in reader.report_fields:
        fields.setdefault(name, value)
    recipient = fields.get("final-recipient") or fields.get("original-recipient") or ""
    recipient = recipient.split(";", 1)[-1].strip().strip("<>").lower()
    if not recipient and first.get("x-failed-recipients"):
        recipient = first["x-failed-recipients"].split(",")[0].strip().strip("<>").lower()
    status_match = _STATUS.search(fields.get("status", "")) or _STATUS.search(text)
    diagnostic = fields.get("diagnostic-code", "")
    if ";" in diagnostic[:12]:
        diagnostic = diagnostic.split(";", 1)[1]
    if not diagnostic.strip():
        diagnostic = " ".join(_human_lines(text)[:6])
    if not diagnostic.strip():
        diagnostic = "; ".join(f"{name.title()}: {fields[name]}" for name in ("action", "status")
                               if name in fields)

    message_id = subject = None
    for original in [*reader.originals, *reader.attached_messages]:
        message_id = message_id or normalise_message_id(_first_header(original, "message-id", reader.notes))
        subject = subject or _collapse(_first_header(original, "subject", reader.notes)) or None
    if message_id is None and (match := _BODY_MESSAGE_ID.search(text)):
        message_id = normalise_message_id(match.group(1))
    if subject is None and (match := _BODY_SUBJECT.search(text)):
        subject = _collapse(match.group(1))
    return Bounce(
        original_message_id=message_id,
        original_subject=subject[:MAX_SUBJECT] if subject else None,
        recipient=recipient or None,
        status=status_match.group(1) if status_match else None,
        diagnostic=_collapse(diagnostic)[:MAX_DIAGNOSTIC],
    )
