"""One webhook post over HTTP, bounded in time however its receiver behaves.

A socket timeout bounds each wait, not the whole: a receiver that trickles its answer a
byte every few seconds, or never ends a TLS handshake, would hold the post (and the
scheduler's tick it runs in) as long as it liked. A watchdog shuts the connection down
at the deadline instead, and the post fails then with NO_ANSWER. Looking up the
receiver's address counts against the same deadline.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from helpdesk.core.i18n import N_

TIMEOUT_SECONDS = 10  # a receiver silent this long (connecting, reading, writing) fails
# A whole post, however slowly its receiver trickles the answer: a byte every few seconds
# never meets TIMEOUT_SECONDS.
POST_DEADLINE_SECONDS = 30
NO_ANSWER = N_("No answer within %(seconds)s s.")
_NO_ANSWER_SHAPE = re.compile(
    re.escape(NO_ANSWER).replace(re.escape("%(seconds)s"), r"(?P<seconds>[0-9.]+)"))


def no_answer(seconds: float) -> str:
    """The error of a post that reached its deadline, as it is stored (in English)."""
    return NO_ANSWER % {"seconds": f"{seconds:g}"}


def no_answer_seconds(error: str) -> str | None:
    """The deadline ``error`` names if it is :func:`no_answer`'s, for the page to say it in
    the reader's language; None for any other error."""
    match = _NO_ANSWER_SHAPE.fullmatch(error)
    return match["seconds"] if match else None


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
    """POST ``body``: the answer's status, and an error to show (None for a 2xx)."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    seconds = POST_DEADLINE_SECONDS
    with _Deadline(seconds) as deadline:
        status, error = _answer(_opener(deadline), request)
        in_time = deadline.finish()
    return (status, error) if in_time else (None, no_answer(seconds))


class _Deadline:
    """One post's whole time. At the deadline a watchdog shuts the post's connection down,
    so whatever waits on it (reading a trickled answer, writing to a receiver that does not
    read, a TLS handshake) fails at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []
        self._passed = False
        self._finished = False
        self._watchdog = threading.Timer(seconds, self._shut_down)
        self._watchdog.daemon = True

    def __enter__(self) -> _Deadline:
        self._watchdog.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.finish()
        self._watchdog.cancel()
        with self._lock:
            for sock in self._watched:
                sock.close()
            self._watched.clear()

    def finish(self) -> bool:
        """Ends the watch: whether the answer came in time. One that came after the
        deadline may look whole when it was not (a shut connection ends its headers)."""
        with self._lock:
            self._finished = True
            return not self._passed

    def connect(self, address: tuple[str, int], timeout: float | None = None,
                source_address: tuple[str, int] | None = None) -> socket.socket:
        """``socket.create_connection`` within the deadline, which would give each of the
        host's addresses the whole ``timeout``; the socket is watched once it is open."""
        host, port = address
        failure: OSError = TimeoutError(f"no connection within {self.seconds:g} s")
        for family, kind, proto, _name, where in self._addresses(host, port):
            left = self._ends - time.monotonic()
            if left <= 0:
                break
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(left if timeout is None else min(timeout, left))
                if source_address:
                    sock.bind(source_address)
                sock.connect(where)
            except OSError as exc:
                sock.close()
                failure = exc
                continue
            sock.settimeout(timeout)
            self._watch(sock)
            return sock
        raise failure

    def _addresses(self, host: str, port: int) -> list[Any]:
        """The host's addresses, looked up within the deadline. The system's resolver has
        timeouts of its own, several for each server it asks and each address family: a
        resolver that does not answer would otherwise hold the post well past its time.
        The lookup is left to finish in its thread; nothing waits for it then."""
        found: list[Any] = []
        failed: list[Exception] = []

        def look_up() -> None:
            try:
                found.extend(socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM))
            except Exception as exc:  # any error, raised again below in the post's thread
                failed.append(exc)

        lookup = threading.Thread(target=look_up, daemon=True)
        lookup.start()
        lookup.join(max(0.0, self._ends - time.monotonic()))
        if lookup.is_alive():
            self._shut_down()  # the deadline is over, whether or not its watchdog has fired
            raise TimeoutError(f"no address for {host} within {self.seconds:g} s")
        if failed:
            raise failed[0]
        return found

    def _watch(self, sock: socket.socket) -> None:
        # A duplicate: TLS takes the socket's descriptor over from the object we are given,
        # and a shut-down through any descriptor of it ends the connection.
        with self._lock:
            self._watched.append(sock.dup())
            if self._passed:
                _shut(self._watched[-1])

    def _shut_down(self) -> None:
        with self._lock:
            if self._finished:
                return
            self._passed = True
            for sock in self._watched:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # the other end may have closed it already
        sock.shutdown(socket.SHUT_RDWR)


class _WatchedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, *, deadline: _Deadline, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        # http.client's own seam for how its socket is made (a proxy's too).
        self._create_connection = deadline.connect


class _WatchedHTTPSConnection(_WatchedHTTPConnection, http.client.HTTPSConnection):
    pass


class _WatchedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection, req)

    def _connection(self, host: str, **kwargs: Any) -> http.client.HTTPConnection:
        return _WatchedHTTPConnection(host, deadline=self.deadline, **kwargs)


class _WatchedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection, req)

    def _connection(self, host: str, **kwargs: Any) -> http.client.HTTPConnection:
        return _WatchedHTTPSConnection(host, deadline=self.deadline, **kwargs)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would follow a 301-303 with a GET that carries no body, and the 200 at the
    # end would count as delivered. A redirect is a failed post: the URL needs changing.
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


def _opener(deadline: _Deadline) -> urllib.request.OpenerDirector:
    """urllib's usual opener (proxies from the environment too), its connections watched
    by ``deadline``, following no redirect."""
    return urllib.request.build_opener(_NoRedirects, _WatchedHTTPHandler(deadline),
                                       _WatchedHTTPSHandler(deadline))


def _answer(opener: urllib.request.OpenerDirector,
            request: urllib.request.Request) -> tuple[int | None, str | None]:
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, None
    except urllib.error.HTTPError as exc:
        moved = exc.headers.get("Location") if 300 <= exc.code < 400 else None
        return exc.code, f"HTTP {exc.code} {exc.reason}" + (f" -> {moved}" if moved else "")
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))
    except (http.client.HTTPException, ValueError) as exc:  # e.g. an answer that is not HTTP
        return None, f"{type(exc).__name__}: {exc}"
