"""What a reply says now, apart from the history and signature it drags along.

Only for display: the full text of every message is always kept. When in doubt we keep
text in the new part, since hiding what someone wrote is worse than showing a quote twice.
"""

from __future__ import annotations

import re

# "On Tue, 3 Mar 2026 at 10:14, Anna <anna@example.se> wrote:", "Den 3 mars 2026 kl. 10:14
# skrev Anna <anna@example.se>:", "Am 03.03.2026 um 10:14 schrieb Anna:"; Apple Mail leaves
# out the leading word ("3 mars 2026 kl. 10:14 skrev Anna:"), so a digit will do instead.
_ATTRIBUTION_END = re.compile(
    r"(\b(wrote|writes|a écrit|escribió|ha scritto|escreveu|kirjoitti)\s*:"
    r"|\b(skrev|schrieb|schreef)\b.*:)\s*$",  # these languages put the name after the verb
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^\s*(on|den|am|le|el|il|op|em)\b|\d", re.IGNORECASE)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(original message|ursprungligt meddelande|originalmeddelande|ursprüngliche nachricht"
    r"|message d'origine|oprindelig meddelelse|opprinnelig melding)\s*-{2,}\s*$",
    re.IGNORECASE,
)
# Outlook's reply header: "From:"/"Från:" followed closely by "Sent:"/"Skickat:". A forwarded
# mail's "From:" + "Date:" block is left alone: there the forwarded text is the point.
_HEADER_FROM = re.compile(r"^\s*\*?(from|från|von|de|fra)\s*:\*?\s", re.IGNORECASE)
_HEADER_SENT = re.compile(r"^\s*\*?(sent|skickat|gesendet|envoyé|sendt)\s*:\*?\s", re.IGNORECASE)
_UNDERSCORE_RULE = re.compile(r"^\s*_{10,}\s*$")
_SIGNATURE = re.compile(r"^-- ?$")


def split_reply(text: str) -> tuple[str, str]:
    """(what the sender wrote now, the quoted history and signature after it)."""
    lines = text.splitlines()
    cut = min(
        _first_history_line(lines),
        _signature_line(lines),
        _trailing_quote_start(lines),
    )
    new = "\n".join(lines[:cut]).rstrip()
    if not new.strip():
        return text, ""
    return new, "\n".join(lines[cut:]).strip("\n")


def _first_history_line(lines: list[str]) -> int:
    answered_inline = _answered_inline_from(lines)
    for index, line in enumerate(lines):
        if _ORIGINAL_MESSAGE.match(line):
            return index
        if _HEADER_FROM.match(line) and any(_HEADER_SENT.match(below) for below in lines[index + 1:][:3]):
            above = index - 1
            while above >= 0 and not lines[above].strip():
                above -= 1
            return above if above >= 0 and _UNDERSCORE_RULE.match(lines[above]) else index
        if _is_attribution(lines, index) and not answered_inline[index]:
            return index
    return len(lines)


def _is_attribution(lines: list[str], index: int) -> bool:
    line = lines[index]
    if len(line) > 300 or not _ATTRIBUTION_START.search(line):
        return False
    if _ATTRIBUTION_END.search(line):
        return True
    # Gmail wraps a long attribution over two lines.
    following = lines[index + 1] if index + 1 < len(lines) else ""
    return bool(line.strip()) and len(following) < 120 and bool(_ATTRIBUTION_END.search(following))


def _answered_inline_from(lines: list[str]) -> list[bool]:
    """For each line: do quoted lines below it have new text after them (an inline answer)?

    An Outlook-style attribution without ">" quoting counts as history all the way down.
    """
    answered = [False] * (len(lines) + 1)
    text_below = False
    for index in range(len(lines) - 1, -1, -1):
        stripped = lines[index].strip()
        is_quote = stripped.startswith(">")
        answered[index] = answered[index + 1] or (is_quote and text_below)
        is_text = stripped and not is_quote and not _SIGNATURE.match(lines[index])
        if is_text and not _ATTRIBUTION_END.search(stripped):
            text_below = True
    return answered


def _signature_line(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if _SIGNATURE.match(line):
            return index
    return len(lines)


def _trailing_quote_start(lines: list[str]) -> int:
    start = len(lines)
    for index in range(len(lines) - 1, -1, -1):
        stripped = lines[index].strip()
        if stripped.startswith(">"):
            start = index
        elif stripped:
            break
    return start
