"""Who calls the API: a bearer token, never a cookie; its scope; and its rate.

The token's user becomes ``current_user`` for the request only (nothing is written to
the session), so the views below and the language of messages work as in the UI,
while a browser's session cookie authenticates nothing here.
"""

from __future__ import annotations

import time
from typing import cast

from flask import Response, current_app, g, request

from helpdesk.accounts.models import User
from helpdesk.api.problems import ApiProblem
from helpdesk.api.ratelimit import WINDOW_SECONDS, RateLimiter
from helpdesk.api.tokens import ApiToken, Scope, authenticate
from helpdesk.core.clock import utcnow

RATE_POLICY = "per-token"  # the name the RateLimit fields give the one limit there is
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# RFC 6750, section 3: no error code when no token came at all (the client may not know
# it needs one); the reason when the token came but cannot be used.
_UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="helpdesk"'}
_INVALID_TOKEN = {"WWW-Authenticate": 'Bearer realm="helpdesk", error="invalid_token"'}
_INSUFFICIENT_SCOPE = {"WWW-Authenticate": 'Bearer realm="helpdesk", '
                                           f'error="insufficient_scope", scope="{Scope.WRITE}"'}


def authenticate_request() -> None:
    """The API blueprint's ``before_request``."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiProblem(401, "Send a personal API token: Authorization: Bearer <token>.",
                         headers=_UNAUTHORIZED)
    token = authenticate(secret.strip(), utcnow())
    if token is None:
        raise ApiProblem(401, "The token is unknown, revoked or expired.",
                         headers=_INVALID_TOKEN)
    limit = int(current_app.config["HELPDESK_API_RATE_PER_MINUTE"])
    limiter: RateLimiter = current_app.extensions["helpdesk_api_rate"]
    count = limiter.hit(token.token_hash, limit, time.time())
    if count is not None:
        g.api_rate = (limit, count.remaining, count.reset)
        if count.wait is not None:
            raise ApiProblem(429, f"More than {limit} requests a minute with this token.",
                             headers={"Retry-After": str(count.wait)})
    if request.method not in SAFE_METHODS and token.scope != Scope.WRITE:
        raise ApiProblem(403, "This token may only read (scope read).",
                         headers=_INSUFFICIENT_SCOPE)
    g.api_token = token
    g._login_user = token.user  # Flask-Login's current_user, for this request only


def add_rate_headers(response: Response) -> Response:
    """The API blueprint's ``after_request``: what the token has left, so a client can slow
    down before it is refused, in the two fields of the IETF draft "RateLimit header fields
    for HTTP" (draft-ietf-httpapi-ratelimit-headers): the policy, then the requests
    remaining (r) and the seconds until one more may go (t). Neither when the request was
    not counted (no token, or the count's file stuck)."""
    if "api_rate" in g:
        limit, remaining, reset = g.api_rate
        response.headers["RateLimit-Policy"] = f'"{RATE_POLICY}";q={limit};w={WINDOW_SECONDS}'
        response.headers["RateLimit"] = f'"{RATE_POLICY}";r={remaining};t={reset}'
    return response


def api_user() -> User:
    return cast(User, g.api_token.user)


def api_token() -> ApiToken:
    return cast(ApiToken, g.api_token)
