"""Text from a mail's raw bytes, whatever charset they claim (or do not claim).

Labels lie (Latin-1 that is Windows-1252, GB2312 that is GB18030), are unknown or
missing, and headers carry raw 8-bit bytes: every such problem is repaired by a
guess and noted in :class:`Notes`, the problems met while reading one mail. Pure:
stdlib only.
"""

from __future__ import annotations

import codecs
import re

MAX_DEFECTS = 100


class Notes:
    """The problems met while reading one mail, each once, in order."""

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


def decode_text(data: bytes, charset: str | None, where: str, notes: Notes) -> str:
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


def clean(text: str, where: str, notes: Notes) -> str:
    """No raw-byte surrogates (they cannot be stored) and no NUL characters."""
    if _SURROGATES.search(text):
        notes.add(f"{where}: raw 8-bit bytes; guessed UTF-8 or Windows-1252")
        text = _decode_unknown(text.encode("utf-8", "surrogateescape"))
    return text.replace("\x00", "")


def collapse(text: str) -> str:
    return " ".join(text.split())
