"""A mail's MIME tree walked once: its text, its HTML, its files and its report parts.

Boundaries go missing, content types are garbled, nesting is endless and the email
package itself raises on hostile parts: the walk reads what it can, leaves the rest out,
and notes every problem. Attached messages are kept whole as ``.eml`` files, not walked
into. Pure: stdlib ``email`` and ``nh3`` only.
"""

from __future__ import annotations

import email.header
import email.policy
import html as html_module
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from email.parser import Parser
from typing import Any, TypeVar

from helpdesk.mail.charsets import Notes, clean, collapse, decode_text
from helpdesk.mail.headers import defect_text, first_header, normalise_message_id, raw_header
from helpdesk.mail.sanitise import html_to_text

_T = TypeVar("_T")
_D = TypeVar("_D")

MAX_DEPTH = 20  # MIME nesting we follow; deeper parts are left out (and noted)
MAX_PARTS = 1000

# Attached messages are written back out as they came, without refolding their headers.
_OUT_POLICY = email.policy.default.clone(refold_source="none")
_MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_REPORT_TYPES = {"delivery-status", "feedback-report", "disposition-notification"}
_REPORT_PARTS = {"message/delivery-status", "message/feedback-report", "message/disposition-notification"}


@dataclass(frozen=True)
class MailAttachment:
    filename: str  # safe, never empty
    content_type: str  # lower-case "type/subtype"
    data: bytes
    content_id: str | None  # without <>, for inline images referenced as cid:
    inline: bool


@dataclass
class Body:
    plain: str | None = None  # from text/plain parts
    html: str | None = None  # raw, unsanitised


@dataclass
class Reader:
    """Walks the mail's own MIME tree (not into attached messages) once."""

    notes: Notes
    attachments: list[MailAttachment] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    report_type: str = ""
    report_fields: list[tuple[str, str]] = field(default_factory=list)
    originals: list[Message] = field(default_factory=list)  # the bounced mail, from the report
    attached_messages: list[Message] = field(default_factory=list)
    parts: int = 0

    def walk(self, part: Message, depth: int, in_report: bool) -> Body:
        self.parts += 1
        if self.parts > MAX_PARTS:
            self.notes.add(f"more than {MAX_PARTS} MIME parts; the rest left out")
            return Body()
        if depth > MAX_DEPTH:
            self.notes.add(f"MIME parts nested deeper than {MAX_DEPTH} levels left out")
            return Body()
        ctype = self.content_type(part)
        self.content_types.append(ctype)
        try:
            return self._walk(part, ctype, depth, in_report)
        finally:
            for defect in part.defects:
                self.notes.add(f"{ctype}: {defect_text(defect)}")

    def _walk(self, part: Message, ctype: str, depth: int, in_report: bool) -> Body:
        payload = payload_of(part)
        if ctype.startswith("multipart/"):
            if not isinstance(payload, list):
                self.notes.add(f"{ctype} without readable parts; body kept as plain text")
                return Body(plain=self.text_of(part, ctype))
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
            return Body()
        if ctype == "text/rfc822-headers" and in_report:
            self.originals.append(_headers_message(self.text_of(part, ctype)))
            return Body()
        if ctype.startswith("message/") and isinstance(payload, list):
            return self._message(part, ctype, payload, in_report)
        disposition = _safe(part.get_content_disposition, None)
        filename = self.filename(part)
        # A named text part is a file the sender attached, even when their client shows it inline.
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            text = self.text_of(part, ctype)
            return Body(plain=text) if ctype == "text/plain" else Body(html=text)
        self.attach(part, ctype, filename, _payload_bytes(part), disposition)
        return Body()

    def _alternative(self, children: list[Message], depth: int, in_report: bool) -> Body:
        bodies = [self.walk(child, depth + 1, in_report) for child in children]
        plains = [body.plain for body in bodies if body.plain is not None]
        htmls = [body.html for body in bodies if body.html is not None]
        # The plain version is what we keep as text, unless it is blank beside a real HTML one
        # (some mailers send an empty text/plain); the last (richest) HTML is for display.
        written = [plain for plain in plains if plain.strip()]
        plain = written[0] if written else (plains[0] if plains and not htmls else None)
        return Body(plain=plain, html=htmls[-1] if htmls else None)

    def _message(self, part: Message, ctype: str, payload: list[Any], in_report: bool) -> Body:
        nested = payload[0] if payload and isinstance(payload[0], Message) else None
        if nested is None:
            return Body()
        if ctype == "message/external-body":
            self.notes.add("message/external-body reference (content stored elsewhere) left out")
            return Body()
        if in_report:
            self.originals.append(nested)
            return Body()
        self.attached_messages.append(nested)
        filename = self.filename(part)
        if not filename:
            subject = first_header(nested, "subject", self.notes)
            name = collapse(subject)[:150].replace("/", "_").replace("\\", "_")
            filename = f"{name}.eml" if name else ""
        disposition = _safe(part.get_content_disposition, None)
        self.attach(part, ctype, filename, self.serialise(nested), disposition)
        return Body()

    def attach(self, part: Message, ctype: str, filename: str, data: bytes, disposition: str | None) -> None:
        content_id = raw_header(part, "content-id")
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
        declared = raw_header(part, "content-type")
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
        return clean(str(name), "attachment name", self.notes)

    def text_of(self, part: Message, where: str) -> str:
        charset = _safe(lambda: part.get_param("charset"), None)
        return decode_text(_payload_bytes(part), charset if isinstance(charset, str) else None, where,
                           self.notes)

    def serialise(self, message: Message) -> bytes:
        try:
            return message.as_bytes(policy=_OUT_POLICY)
        except Exception as exc:  # RecursionError on absurdly nested attachments
            self.notes.add(f"attached message could not be written out ({type(exc).__name__})")
            return b""


def _sequence(bodies: list[Body]) -> Body:
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
    return Body(plain=plain, html=html)


def _safe(read: Callable[[], _T], default: _D) -> _T | _D:
    """The email package's header parsing can raise on hostile input; fall back quietly."""
    try:
        return read()
    except Exception:
        return default


def payload_of(part: Message) -> Any:
    """The parts of a multipart, or the undecoded body text."""
    try:
        return part.get_payload()
    except Exception:  # it decodes 8-bit text with the declared charset, which may be garbage
        return getattr(part, "_payload", "")


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    payload = payload_of(part)
    return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""


def _report_fields(part: Message) -> list[tuple[str, str]]:
    """The "Name: value" fields of a delivery-status or feedback/disposition report part."""
    payload = payload_of(part)
    blocks = payload if isinstance(payload, list) else [_headers_message(str(payload))]
    return [
        (str(name).lower(), collapse(str(value)))
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
    name = collapse(_UNSAFE_IN_NAMES.sub("_", name)).lstrip(". ")
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = stem[: 199 - len(extension)] + dot + extension if dot and len(extension) <= 10 else name[:200]
    if not name:
        guessed = ".eml" if ctype.startswith("message/") else mimetypes.guess_extension(ctype, strict=False)
        name = f"attachment-{index}{guessed or '.bin'}"
    return name
