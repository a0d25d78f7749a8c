"""A mail's header fields decoded into clean text, leniently.

Headers arrive folded, RFC 2047-encoded, with raw 8-bit bytes or simply malformed, and
the email package's structured parsing raises or crawls on the worst of them: each value
is decoded as well as we can and the problems noted. Pure: stdlib ``email`` only.
"""

from __future__ import annotations

import email.header
import email.headerregistry
import email.policy
import re
from email.message import Message

from helpdesk.mail.charsets import Notes, clean

MAX_SUBJECT = 1000
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


POLICY = email.policy.default.clone(header_factory=_Headers())


def normalise_message_id(value: str) -> str | None:
    """``<abc@example.com>`` → ``abc@example.com``; None when there is no id."""
    match = re.search(r"<([^<>]*)>", value)
    candidate = match.group(1) if match else (value.split() or [""])[0]
    candidate = "".join(candidate.split()).strip("<>")
    return candidate or None


def header_text(name: str, raw: str, notes: Notes) -> str:
    value = clean(str(raw), f"header {name}", notes)
    if len(value) > MAX_HEADER:
        notes.add(f"header {name} of {len(value)} characters cut to {MAX_HEADER} before decoding")
        words = value[:MAX_HEADER].split()
        value = " ".join(words[:-1] if len(words) > 1 else words)  # without the word cut in half
    try:
        header = POLICY.header_fetch_parse(name, value)
        for defect in getattr(header, "defects", ()):
            notes.add(f"header {name}: {str(defect).strip() or defect_text(defect)}")
        value = str(header)
    except Exception:
        notes.add(f"header {name} is malformed; decoded leniently")
        try:
            value = str(email.header.make_header(email.header.decode_header(value)))
        except Exception:
            value = re.sub(r"\r?\n[ \t]*", " ", value)
    return clean(value, f"header {name}", notes)


def raw_header(part: Message, name: str) -> str | None:
    """A header's raw value without going through the (fallible) structured parser."""
    for key, value in part.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def first_header(message: Message, name: str, notes: Notes) -> str:
    raw = raw_header(message, name)
    return header_text(name, raw, notes) if raw is not None else ""


def defect_text(defect: object) -> str:
    """``CloseBoundaryNotFoundDefect`` → ``close boundary not found``."""
    name = type(defect).__name__.removesuffix("Defect")
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
