"""One post's deadline covers finding the receiver's address too."""

from __future__ import annotations

import socket
import threading
import time

from helpdesk.webhooks import http_post


def test_a_resolver_that_does_not_answer_is_cut_off_at_the_deadline(monkeypatch, receiver):
    # The system's resolver waits seconds per server and address family; one that never
    # answers is stood in for by a lookup that blocks until the test ends.
    released = threading.Event()
    real_lookup = socket.getaddrinfo

    def silent_resolver(host, *args, **kwargs):
        if host == "hooks.example":
            released.wait(30)
        return real_lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", silent_resolver)
    monkeypatch.setattr(http_post, "POST_DEADLINE_SECONDS", 0.5)
    try:
        began = time.monotonic()
        answer = http_post.post("http://hooks.example/hook", b"{}", {})
        took = time.monotonic() - began
    finally:
        released.set()
    assert answer == (None, "No answer within 0.5 s.")
    assert took < 2
    # A resolver that answers leaves the post its whole time.
    assert http_post.post(receiver.url, b"{}", {"Content-Type": "application/json"}) == (204, None)


def test_a_host_name_the_resolver_cannot_take_says_why(receiver):
    # A label over 63 characters: the lookup fails at once, with the codec's reason (not as
    # a connection that timed out). Addresses saved today are refused before this.
    status, error = http_post.post(f"http://{'a' * 64}.example/hook", b"{}", {})
    assert status is None
    assert error.startswith("UnicodeError"), error
