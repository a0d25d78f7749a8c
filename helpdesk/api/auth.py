"""Who calls the API: a bearer token, never a cookie; its scope; and its rate.

The token's user becomes ``current_user`` for the request only (nothing is written to
the session), so the views below and the language of messages work as in the UI,
while a browser's session cookie authenticates nothing here.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import cast

from flask import current_app, g, request

from helpdesk.accounts.models import User
from helpdesk.api.problems import ApiProblem
from helpdesk.api.tokens import ApiToken, Scope, authenticate
from helpdesk.core.clock import utcnow

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="helpdesk"'}


class RateLimiter:
    """At most ``limit`` requests in any 60 seconds per token, counted in this process.

    Each app process counts alone, so with N processes a token gets at most N times the
    limit: it protects the database from a runaway client, it is not a quota.
    """

    WINDOW = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def hit(self, key: str, limit: int, now: float) -> int | None:
        """None if allowed; else the whole seconds until a request is allowed again."""
        with self._lock:
            times = self._seen.setdefault(key, deque())
            while times and times[0] <= now - self.WINDOW:
                times.popleft()
            if len(times) >= limit:
                return max(1, math.ceil(times[0] + self.WINDOW - now))
            times.append(now)
            if len(self._seen) > 10000:  # forget idle tokens now and then
                self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > now - self.WINDOW}
        return None


limiter = RateLimiter()


def authenticate_request() -> None:
    """The API blueprint's ``before_request``."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiProblem(401, "Send a personal API token: Authorization: Bearer <token>.",
                         headers=_UNAUTHORIZED)
    token = authenticate(secret.strip(), utcnow())
    if token is None:
        raise ApiProblem(401, "The token is unknown, revoked or expired.", headers=_UNAUTHORIZED)
    limit = int(current_app.config["HELPDESK_API_RATE_PER_MINUTE"])
    wait = limiter.hit(token.token_hash, limit, time.monotonic())
    if wait is not None:
        raise ApiProblem(429, f"More than {limit} requests a minute with this token.",
                         headers={"Retry-After": str(wait)})
    if request.method not in SAFE_METHODS and token.scope != Scope.WRITE:
        raise ApiProblem(403, "This token may only read (scope read).")
    g.api_token = token
    g._login_user = token.user  # Flask-Login's current_user, for this request only


def api_user() -> User:
    return cast(User, g.api_token.user)


def api_token() -> ApiToken:
    return cast(ApiToken, g.api_token)
