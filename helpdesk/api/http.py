"""Reading requests and writing answers: JSON in, JSON out, ETags, one commit."""

from __future__ import annotations

from typing import Any, cast

from flask import Response, json, request
from marshmallow import Schema, ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from helpdesk.api.auth import api_user
from helpdesk.api.problems import BUSY, LOST_RACE, ApiProblem
from helpdesk.core.concurrency import is_lost_race
from helpdesk.core.errors import DatabaseBusy, InvalidInput, StaleTicket
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from helpdesk.web import edge

GIVEN_TWICE = N_("Given more than once.")


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    raw = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}

    def flat(value: Any) -> list[str]:
        if isinstance(value, dict):
            return [m for v in value.values() for m in flat(v)]
        if isinstance(value, list):
            return [m for v in value for m in flat(v)]
        return [str(value)]

    return {str(field): flat(value) for field, value in raw.items()}


def load_json(schema: Schema) -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise ApiProblem(415, "Send the body as application/json.")
    try:
        body = json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError) as exc:  # RecursionError: arrays nested thousands deep
        raise ApiProblem(400, "The body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise ApiProblem(422, "The body must be a JSON object.", errors={"_schema": ["Not an object."]})
    return load(schema, body)


def load(schema: Schema, data: Any, status: int = 422) -> dict[str, Any]:
    try:
        return cast(dict[str, Any], schema.load(data))
    except ValidationError as exc:
        raise ApiProblem(status, "Please correct the fields named in errors.",
                         errors=_messages(exc)) from exc


def load_query(schema: Schema) -> dict[str, Any]:
    # ?limit=1&limit=500 has no one meaning: refused, not read as its first value.
    repeated = sorted(name for name, values in request.args.lists() if len(values) > 1)
    if repeated:
        raise ApiProblem(400, "Give each query parameter once.",
                         errors={name: [GIVEN_TWICE] for name in repeated})
    return load(schema, request.args.to_dict(flat=True), status=400)


def prefers_async() -> bool:
    """Whether the caller sent ``Prefer: respond-async`` (RFC 7240), among other preferences."""
    preferences = request.headers.get("Prefer", "")
    return any(p.split(";")[0].split("=")[0].strip().lower() == "respond-async"
               for p in preferences.split(","))


def invalid(exc: InvalidInput) -> ApiProblem:
    return ApiProblem(422, "Please correct the fields named in errors.", errors=exc.errors)


def version_seen(ticket: Ticket) -> int:
    """The version the caller reads and sends back: staff the ticket's own, a requester
    that of what they can see (an internal note moves the one and not the other)."""
    return ticket.version if api_user().is_staff else ticket.public_version


def etag(ticket: Ticket) -> str:
    return f'"{version_seen(ticket)}"'


def check_if_match(ticket: Ticket) -> None:
    """With If-Match, the change applies only to the version the client has seen."""
    header = request.headers.get("If-Match")
    if header is None:
        return
    # A weak tag, W/"3", counts as "3": a proxy that compresses answers (nginx's gzip) makes
    # the ETag weak, and the version it names is exact all the same.
    tags = {t.strip().removeprefix("W/").strip('"') for t in header.split(",")}
    if "*" not in tags and str(version_seen(ticket)) not in tags:
        raise ApiProblem(412, f"The ticket has changed: it is at version {version_seen(ticket)}. "
                              "Fetch it again and retry.", headers={"ETag": etag(ticket)})


def flush() -> None:
    try:
        db.session.flush()
    except (StaleDataError, OperationalError) as exc:
        db.session.rollback()
        if not is_lost_race(exc):
            raise
        raise ApiProblem(409, LOST_RACE) from exc


def commit() -> None:
    try:
        edge.commit()
    except StaleTicket as exc:
        raise ApiProblem.from_domain(409, exc) from exc
    except DatabaseBusy as exc:
        raise ApiProblem(503, BUSY, headers={"Retry-After": "1"}) from exc


def answer(schema: Schema, obj: Any, status: int = 200, ticket: Ticket | None = None,
           headers: dict[str, str] | None = None, *, commit_first: bool = False) -> Response:
    """The JSON answer; with ``commit_first`` the change is committed after it is written
    out, so nothing is read back from the database that the operation just wrote."""
    if commit_first:
        flush()  # the ticket's new version
    body = json.dumps(schema.dump(obj))
    tag = etag(ticket) if ticket is not None else None
    if commit_first:
        commit()
    response = Response(body, status=status, mimetype="application/json")
    if tag is not None:
        response.headers["ETag"] = tag
    response.headers.update(headers or {})
    return response
