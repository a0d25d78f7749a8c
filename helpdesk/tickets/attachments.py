"""Attachments live on disk under the instance folder, never in the database.

Files are stored under a random key, so no name a user chose ever becomes a
path; the original name is kept only to offer it again on download.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from helpdesk.tickets.models import Attachment
from helpdesk.tickets.upload_policy import check_size

_CHUNK = 64 * 1024
_LONGEST_NAME = 200


@dataclass(frozen=True)
class Upload:
    """A file someone sent, before it is stored."""

    filename: str
    content_type: str
    stream: IO[bytes]


def safe_filename(name: str) -> str:
    """The name to show and offer on download: no folders, no control characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    # Also the marks that turn text right to left: "report\u202efdp.exe" shows as
    # "reportexe.pdf".
    name = re.sub(r"[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", name).strip(" .")
    if len(name) > _LONGEST_NAME:
        # Shortened before its ending, which says what the file is.
        stem, dot, ending = name.rpartition(".")
        name = (f"{stem[:_LONGEST_NAME - len(ending) - 1]}.{ending}"
                if dot and len(ending) <= 10 else name[:_LONGEST_NAME])
    return name or "attachment"


_NEW_FILES = "helpdesk_new_attachment_files"


def forget_on_rollback(session: Session, path: Path) -> None:
    """Delete ``path`` again if the transaction that stored it rolls back."""
    session.info.setdefault(_NEW_FILES, []).append(path)


@event.listens_for(Session, "after_commit")
def _keep_files(session: Session) -> None:
    session.info.pop(_NEW_FILES, None)


@event.listens_for(Session, "after_soft_rollback")
def _remove_files(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is not None:
        return  # a savepoint inside the request's transaction; the files may still be kept
    for path in session.info.pop(_NEW_FILES, []):
        path.unlink(missing_ok=True)


def storage_path(root: Path, storage_key: str) -> Path:
    return root / storage_key[:2] / storage_key


def store(upload: Upload, *, root: Path, max_bytes: int, now: datetime) -> Attachment:
    """Write the file and return an unsaved Attachment row describing it."""
    key = secrets.token_hex(16)
    path = storage_path(root, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    name = safe_filename(upload.filename)
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("wb") as out:
            while chunk := upload.stream.read(_CHUNK):
                size += len(chunk)
                check_size(name, size, max_bytes)
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        # Too large, the disk full, the client gone: no part of a file stays behind.
        path.unlink(missing_ok=True)
        raise
    return Attachment(
        filename=name,
        content_type=(upload.content_type or "application/octet-stream")[:127],
        size=size,
        sha256=digest.hexdigest(),
        storage_key=key,
        created_at=now,
    )
