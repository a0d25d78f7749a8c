"""The API's blueprint: every endpoint under /api/v1 needs a token, but the description."""

from __future__ import annotations

from flask import Blueprint, request

from helpdesk.api.auth import authenticate_request

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC_ENDPOINTS = frozenset({"api.openapi_document", "api.reference"})


@bp.before_request
def _authenticate() -> None:
    if request.endpoint not in PUBLIC_ENDPOINTS:
        authenticate_request()
