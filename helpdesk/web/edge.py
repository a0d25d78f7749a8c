"""The edge between HTTP and the operations: who acts, when, and one commit.

Views call ``actor()``, ``now()`` and ``settings()`` here and pass the values
down, so nothing below the web layer reads the request, the user or the clock.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, make_response, request, send_file
from flask_babel import gettext
from flask_login import current_user, login_required
from marshmallow import Schema, ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage

from helpdesk.accounts.models import User
from helpdesk.config import Settings
from helpdesk.core import concurrency
from helpdesk.core.clock import utcnow
from helpdesk.core.concurrency import is_busy, is_lost_race
from helpdesk.core.errors import BUSY, DatabaseBusy, DomainError, InvalidInput, StaleTicket
from helpdesk.core.i18n import N_
from helpdesk.core.labels import EVENT_LABELS
from helpdesk.extensions import db
from helpdesk.tickets import upload_policy
from helpdesk.tickets.attachments import Upload, safe_filename, storage_path
from helpdesk.tickets.models import Attachment
from helpdesk.web.template_helpers import local_time

F = TypeVar("F", bound=Callable[..., Any])


def actor() -> User:
    return cast(User, current_user._get_current_object())


now = utcnow


def local_zone() -> ZoneInfo:
    """Where the helpdesk is: the zone its pages show times in."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def today() -> date:
    """The date where the helpdesk is (in Sweden a UTC date is yesterday's until 01:00 or
    02:00)."""
    return now().astimezone(local_zone()).date()


def settings() -> Settings:
    return cast(Settings, current_app.config["HELPDESK"])


def staff_required(view: F) -> F:
    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_staff:
            abort(404)
        return view(*args, **kwargs)

    return cast(F, wrapper)


@login_required
def administrators_only() -> None:
    """For a blueprint's ``before_request``: its pages are the administrators'; anyone else
    finds nothing there."""
    from helpdesk.accounts.permissions import require_admin
    from helpdesk.core.errors import NotFound

    try:
        require_admin(actor())
    except NotFound:
        abort(404)


def load_form(schema: Schema) -> dict[str, Any]:
    """Validate the posted form; raise InvalidInput naming each bad field."""
    raw = {key: value for key, value in request.form.items() if key != "csrf_token"}
    try:
        return cast(dict[str, Any], schema.load(raw))
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
        raise InvalidInput({k: [str(m) for m in v] for k, v in messages.items()}) from exc


def checked_uploads(field: str = "attachments") -> list[Upload]:
    """The files sent under ``field``, each taken by the upload policy (FileRefused names
    the first that is not); an empty file input, as a browser sends it, is no file."""
    files: list[FileStorage] = request.files.getlist(field)
    limit = settings().max_attachment_bytes
    taken = []
    for f in files:
        f.stream.seek(0, os.SEEK_END)
        size = f.stream.tell()
        f.stream.seek(0)
        if not f.filename and not size:
            continue
        name = safe_filename(f.filename or "")
        upload_policy.check_size(name, size, limit)
        taken.append(Upload(filename=name, content_type=upload_policy.stored_type(name),
                            stream=f.stream))
    return taken


def uploads(field: str = "attachments") -> list[Upload]:
    """``checked_uploads`` for a form: a refused file is a field error on the page."""
    try:
        return checked_uploads(field)
    except upload_policy.FileRefused as exc:
        raise InvalidInput({field: [error_text(exc)]}, status=exc.status) from exc


def download(attachment: Attachment) -> Response:
    """An attachment as a file to save: never shown in our origin, where an HTML or SVG
    file someone sent could run as our page."""
    path = storage_path(settings().instance_dir / "attachments", attachment.storage_key)
    response = send_file(path, mimetype="application/octet-stream", as_attachment=True,
                         download_name=attachment.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    return response


def hold_write_lock() -> None:
    """From here on the request saves: on SQLite it waits for the write lock now, as the
    API's writes do. Otherwise another writer holding it (mail ingest saving other tickets)
    would have the save refused at once, and a commit of theirs meanwhile would leave what
    was read unwritable. What was read stays loaded: a change of the same ticket since is
    still refused by its version. DatabaseBusy if the lock stays taken."""
    concurrency.wait_to_write(db.session())


def too_busy(page: tuple[str, int]) -> Response:
    """A form sent back as 503 after DatabaseBusy, with what was typed in it: nobody else's
    change is in the way, so the same form, sent again, is taken (as the API's 503 says)."""
    busy = make_response(page[0], 503)
    busy.headers["Retry-After"] = "1"
    return busy


def commit() -> None:
    """Commit the request's one transaction; a lost race becomes a stale-page error, a
    database too busy to take it DatabaseBusy."""
    try:
        db.session.commit()
    except (StaleDataError, OperationalError) as exc:
        db.session.rollback()
        if is_busy(exc):
            raise DatabaseBusy(BUSY) from exc
        if not is_lost_race(exc):
            raise
        raise StaleTicket(
            N_("Someone else saved this ticket at the same moment. "
               "Reload the ticket to see the change; what you typed is kept below.")
        ) from exc


def request_is_post() -> bool:
    return request.method == "POST"


def posted() -> dict[str, str]:
    """What the user typed, to put back into a form that was refused."""
    return {key: value for key, value in request.form.items() if key != "csrf_token"}


def event_label(event: str) -> str:
    return EVENT_LABELS.get(event, event)


def error_text(exc: DomainError) -> str:
    """A refusal in the reader's language, with times in local time."""
    return exc.render(gettext, local_time)
