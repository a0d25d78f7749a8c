"""The API's blueprint: every endpoint under /api/v1 needs a token, but the description."""

from __future__ import annotations

from flask import Blueprint, g, request

from helpdesk.api.auth import SAFE_METHODS, add_rate_headers, authenticate_request
from helpdesk.api.problems import ApiProblem
from helpdesk.core.concurrency import hold_write_lock, write_intent
from helpdesk.core.i18n import N_
from helpdesk.extensions import db

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC_ENDPOINTS = frozenset({"api.openapi_document", "api.reference"})
READS_QUERY = frozenset({"api.tickets_list"})
NO_SUCH_PARAMETER = N_("There is no such query parameter here.")


@bp.before_request
def _authenticate() -> None:
    if request.endpoint not in PUBLIC_ENDPOINTS:
        authenticate_request()  # a refused token (401, 403, 429) never waits for a lock
        _refuse_unknown_query()
    # A ticket request accepted for later reads first and then writes its one row in a
    # transaction of its own (tickets.intake); a ticket created directly reads, routes and
    # counts its SLA targets first, and takes the lock when it starts writing
    # (``tickets.operations.create_ticket``).
    if request.method not in SAFE_METHODS and request.endpoint != "api.ticket_create":
        g.write_intent = write_intent.set(True)
        _read_body()
        hold_write_lock(db.session())


def _refuse_unknown_query() -> None:
    """Only the ticket list reads its query (and refuses what it does not know): anywhere
    else a query parameter is refused too, so that a filter the API does not have, say
    GET /services?lifecycle=active, is never silently ignored."""
    if request.args and request.endpoint not in READS_QUERY:
        raise ApiProblem(400, "This endpoint takes no query parameters.",
                         errors={name: [NO_SUCH_PARAMETER] for name in request.args})


def _read_body() -> None:
    """The whole body, before SQLite's write lock is taken: a client sending slowly, on a
    poor line or on purpose, must not keep every other writer waiting. Files are spooled to
    disk by the form parser; the rest is at most MAX_CONTENT_LENGTH, kept for the view."""
    if request.mimetype == "multipart/form-data":
        request.files  # noqa: B018 - parsing the form is the point
    else:
        request.get_data(cache=True)


bp.after_request(add_rate_headers)


@bp.teardown_request
def _forget_write_intent(_exc: BaseException | None) -> None:
    if "write_intent" in g:
        write_intent.reset(g.pop("write_intent"))
