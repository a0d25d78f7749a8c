"""Which files a ticket takes, from the portal, the agent's page and the API alike.

Judged by the ending of the file's name, as the desktop that later opens the file will
judge it; the type a browser or a client declares says nothing the name does not. The
list says what is taken rather than what is not: a list of programs to refuse misses
whatever a desktop learns to run next (.xll, .msix, .url, .library-ms, …), and a file
nobody here has thought about is refused until someone adds its ending.

Mail is not judged here: a stranger's mail cannot be sent back to fix, so it keeps
what it carries (mail.ingest), and every download is a file to save, never shown in our
origin (``web.edge.download``).
"""

from __future__ import annotations

from typing import Any

from helpdesk.core.errors import DomainError
from helpdesk.core.i18n import N_

# Each ending taken, and the type the file is stored and described as.
ACCEPTED_ENDINGS: dict[str, str] = {
    # Documents; the Office formats without macros.
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "rtf": "application/rtf",
    # Text, logs and data.
    "txt": "text/plain",
    "log": "text/plain",
    "csv": "text/csv",
    "md": "text/markdown",
    "json": "application/json",
    # Screenshots, photos and screen recordings.
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "heic": "image/heic",
    "bmp": "image/bmp",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "mov": "video/quicktime",
    # Mail passed on, and archives.
    "eml": "message/rfc822",
    "msg": "application/vnd.ms-outlook",
    "zip": "application/zip",
    "7z": "application/x-7z-compressed",
    "gz": "application/gzip",
}
# A name without an ending ("syslog", "dmesg") is taken as text: no desktop runs a file
# by such a name.
NO_ENDING = "text/plain"


class FileRefused(DomainError):
    """A file the ticket does not take: ``status`` is 413 (too large) or 415 (its kind)."""

    def __init__(self, status: int, message: str, **params: Any) -> None:
        super().__init__(message, **params)
        self.status = status


def ending_of(filename: str) -> str | None:
    stem, dot, ending = filename.rpartition(".")
    return ending.lower() if dot and stem else None


def stored_type(filename: str) -> str:
    """The type of a file the ticket takes; FileRefused for one it does not."""
    ending = ending_of(filename)
    if ending is None:
        return NO_ENDING
    if ending not in ACCEPTED_ENDINGS:
        raise FileRefused(
            415, N_("Files ending in .%(ending)s are not taken (%(name)s). Send documents, "
                    "images, text, mail or archives: %(endings)s."),
            ending=ending, name=filename, endings=accepted_endings())
    return ACCEPTED_ENDINGS[ending]


def check_size(filename: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise FileRefused(413, N_("The file %(name)s is larger than %(limit)s MB."),
                          name=filename, limit=max_bytes // (1024 * 1024))


def accepted_endings() -> str:
    return ", ".join(f".{ending}" for ending in ACCEPTED_ENDINGS)
