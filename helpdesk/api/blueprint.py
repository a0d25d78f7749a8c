"""The API's blueprint: every endpoint under /api/v1 needs a token, but the description."""

from __future__ import annotations

from flask import Blueprint, g, request

from helpdesk.api.auth import SAFE_METHODS, authenticate_request
from helpdesk.core.concurrency import write_intent

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC_ENDPOINTS = frozenset({"api.openapi_document", "api.reference"})


@bp.before_request
def _authenticate() -> None:
    if request.method not in SAFE_METHODS:
        g.write_intent = write_intent.set(True)  # before the first query begins the transaction
    if request.endpoint not in PUBLIC_ENDPOINTS:
        authenticate_request()


@bp.teardown_request
def _forget_write_intent(_exc: BaseException | None) -> None:
    if "write_intent" in g:
        write_intent.reset(g.pop("write_intent"))
