"""Errors as ``application/problem+json`` (RFC 9457), with field-level details."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, json, request
from flask_babel import gettext
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from helpdesk.core.concurrency import WriteLockTimeout, is_lost_race
from helpdesk.core.errors import DomainError
from helpdesk.extensions import db
from helpdesk.web.template_helpers import local_time

PROBLEM_TYPE = "application/problem+json"
TITLES = {
    400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
    405: "Method not allowed", 409: "Conflict", 412: "Precondition failed",
    413: "Content too large", 415: "Unsupported media type", 416: "Range not satisfiable",
    422: "Unprocessable content",
    429: "Too many requests", 500: "Internal server error", 503: "Service unavailable",
}
LOST_RACE = ("Someone else saved this ticket at the same moment; nothing of yours was saved. "
             "Try again.")
BUSY = "The helpdesk was too busy to take this change; nothing was saved. Try again."


class ApiProblem(Exception):
    """Stop the request with this problem."""

    def __init__(self, status: int, detail: str, *, errors: dict[str, list[str]] | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    @classmethod
    def from_domain(cls, status: int, exc: DomainError, **extra: Any) -> ApiProblem:
        return cls(status, exc.render(gettext, local_time), **extra)


def problem_response(problem: ApiProblem) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": TITLES.get(problem.status, "Error"),
                            "status": problem.status, "detail": problem.detail}
    if problem.errors:
        body["errors"] = {field: [gettext(m) for m in messages]
                          for field, messages in problem.errors.items()}
    body.update(problem.extra)
    response = Response(json.dumps(body), status=problem.status, mimetype=PROBLEM_TYPE)
    response.headers.update(problem.headers)
    return response


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _from_http(exc: HTTPException) -> Response:
    status = exc.code or 500
    headers = {}
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    return problem_response(ApiProblem(status, exc.description or TITLES.get(status, ""),
                                       headers=headers))


def take_over_errors(app: Flask) -> None:
    """Under /api/ the app's HTML error pages become problems; elsewhere nothing changes."""
    app.register_error_handler(ApiProblem, problem_response)
    for code in (400, 404, 405, 413, 500):
        handlers = app.error_handler_spec[None][code]
        for exc_class, page in list(handlers.items()):
            def handler(exc: Exception, page: Callable[[Exception], Any] = page) -> Any:
                if is_api_request():
                    if isinstance(exc, HTTPException):
                        return _from_http(exc)
                    return problem_response(ApiProblem(500, TITLES[500]))
                return page(exc)

            app.register_error_handler(exc_class, handler)

    # Every other HTTP error (a download's 416, say) has no page of ours: the problem under
    # /api/, werkzeug's own answer elsewhere. Redirects never come here (Flask's rule).
    def any_other(exc: HTTPException) -> Any:
        return _from_http(exc) if is_api_request() else exc

    app.register_error_handler(HTTPException, any_other)
    for race in (OperationalError, StaleDataError):
        app.register_error_handler(race, _lost_race_or(app.error_handler_spec[None][None][race]))


def _lost_race_or(page: Callable[[Exception], Any]) -> Callable[[Exception], Any]:
    """A race lost, or the wait for SQLite's write lock given up, where no operation
    caught it (before the view, or at the commit): the problem, not the UI's page."""
    def handler(exc: Exception) -> Any:
        if not is_api_request():
            return page(exc)
        if not is_lost_race(exc):
            raise exc
        db.session.rollback()
        if isinstance(exc, WriteLockTimeout):
            return problem_response(ApiProblem(503, BUSY, headers={"Retry-After": "1"}))
        return problem_response(ApiProblem(409, LOST_RACE))

    return handler
