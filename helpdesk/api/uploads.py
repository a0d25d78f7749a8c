"""Files sent to the API: refused early when too large or of a kind we do not take."""

from __future__ import annotations

import mimetypes
import os

from werkzeug.datastructures import FileStorage

from helpdesk.api.problems import ApiProblem
from helpdesk.tickets.attachments import Upload, safe_filename
from helpdesk.web import edge

# Documents, images, text, mail and archives; nothing a browser or a desktop would run.
ALLOWED_TYPES = (
    "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain", "text/csv",
    "application/pdf", "application/zip", "message/rfc822", "application/json",
    "application/msword", "application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.", "text/markdown",
)
# Programs and scripts by their name's ending, whatever type they are sent as (not every
# machine's table of types knows them all).
PROGRAM_ENDINGS = frozenset({
    "exe", "com", "bat", "cmd", "msi", "msp", "scr", "pif", "cpl", "dll", "lnk", "reg", "hta",
    "ps1", "psm1", "vbs", "vbe", "js", "jse", "wsf", "wsh", "jar", "sh", "app", "html", "htm",
    "svg",
})


def allowed_type(content_type: str) -> bool:
    return any(content_type == t or (t.endswith(".") and content_type.startswith(t))
               for t in ALLOWED_TYPES)


def allowed_file(name: str, content_type: str) -> bool:
    """The declared type is taken, and so is the type the name says: "setup.exe" sent as
    text/plain is still a program to whoever downloads and opens it. A name whose ending
    says nothing known is judged by its declared type alone."""
    if name.rpartition(".")[2].lower() in PROGRAM_ENDINGS:
        return False
    named, _encoding = mimetypes.guess_type(name, strict=False)
    return allowed_type(content_type) and (named is None or allowed_type(named))


def checked_uploads(files: list[FileStorage]) -> list[Upload]:
    limit = edge.settings().max_attachment_bytes
    uploads = []
    for f in files:
        name = safe_filename(f.filename or "attachment")
        f.stream.seek(0, os.SEEK_END)
        size = f.stream.tell()
        f.stream.seek(0)
        if size > limit:
            raise ApiProblem(413, f"The file {name} is larger than {limit // (1024 * 1024)} MB.",
                             errors={"attachments": [f"{name}: too large"]})
        if not allowed_file(name, f.mimetype or ""):
            raise ApiProblem(415, f"Files of type {f.mimetype or 'unknown'} are not taken ({name}).",
                             errors={"attachments": [f"{name}: type not taken"]})
        uploads.append(Upload(filename=name, content_type=f.mimetype, stream=f.stream))
    return uploads
