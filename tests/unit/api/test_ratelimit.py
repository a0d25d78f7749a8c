"""The API's rate limit: counted by the second, shared by every process on the machine."""

from __future__ import annotations

import logging
import multiprocessing
import sqlite3
import time
from pathlib import Path

from helpdesk.api.ratelimit import Count, RateLimiter
from helpdesk.core.concurrency import LOCK_WAIT_MS


def test_a_token_over_its_limit_waits_until_its_first_request_leaves_the_minute(tmp_path):
    limiter = RateLimiter(tmp_path / "rate.sqlite3")
    assert [limiter.hit("a", 3, now).wait for now in (100.5, 120.2, 130.0)] == [None, None, None]
    assert limiter.hit("a", 3, 130.4).wait == 30  # the request of 100.5 counts until 160
    assert limiter.hit("a", 3, 159.9).wait == 1
    assert limiter.hit("a", 3, 160.0).wait is None
    assert limiter.hit("a", 3, 160.1).wait == 20  # 120.2, counted in its second 120, is the oldest now


def test_a_count_says_how_many_requests_are_left_and_when_one_more_may_go(tmp_path):
    limiter = RateLimiter(tmp_path / "rate.sqlite3")
    # The first request, counted in its second 100, leaves the window at 160.
    assert limiter.hit("a", 3, 100.5) == Count(wait=None, remaining=2, reset=60)
    assert limiter.hit("a", 3, 130.0) == Count(wait=None, remaining=1, reset=30)
    assert limiter.hit("a", 3, 140.2) == Count(wait=None, remaining=0, reset=20)
    assert limiter.hit("a", 3, 150.0) == Count(wait=10, remaining=0, reset=10)
    # At 160 the first has left: one more may go, and the next to leave is that of 130.
    assert limiter.hit("a", 3, 160.0) == Count(wait=None, remaining=0, reset=30)


def test_a_refused_request_does_not_count(tmp_path):
    limiter = RateLimiter(tmp_path / "rate.sqlite3")
    limiter.hit("a", 1, 10.0)
    for now in range(11, 70):  # a client that keeps trying while refused
        assert limiter.hit("a", 1, float(now)).wait is not None
    assert limiter.hit("a", 1, 70.0).wait is None


def test_tokens_are_counted_apart(tmp_path):
    limiter = RateLimiter(tmp_path / "rate.sqlite3")
    assert limiter.hit("a", 1, 5.0).wait is None
    assert limiter.hit("a", 1, 5.0).wait is not None
    assert limiter.hit("b", 1, 5.0).wait is None


def _hit_many(path: Path, count: int, start, allowed) -> None:
    limiter = RateLimiter(path)
    start.wait()
    made = sum(limiter.hit("shared", 50, 1000.0).wait is None for _ in range(count))
    with allowed.get_lock():
        allowed.value += made


def test_processes_share_the_count_and_never_let_more_through_together(tmp_path):
    path = tmp_path / "rate.sqlite3"
    parent = RateLimiter(path)
    assert parent.hit("shared", 50, 1000.0).wait is None  # opened here before the fork
    fork = multiprocessing.get_context("fork")
    start, allowed = fork.Event(), fork.Value("i", 0)
    workers = [fork.Process(target=_hit_many, args=(path, 30, start, allowed)) for _ in range(4)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert allowed.value == 49  # 4 x 30 tried, the limit of 50 less the parent's one
    assert parent.hit("shared", 50, 1000.0).wait is not None


def test_a_process_forked_after_the_first_count_opens_its_own_connection(tmp_path):
    path = tmp_path / "rate.sqlite3"
    parent = RateLimiter(path)
    parent.hit("a", 10, 1.0)
    fork = multiprocessing.get_context("fork")
    start, allowed = fork.Event(), fork.Value("i", 0)
    start.set()
    child = fork.Process(target=lambda: _hit_many_with(parent, allowed))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    assert allowed.value == 1
    assert parent.hit("a", 2, 1.0).wait is not None  # the child's request counted: 2 made


def _hit_many_with(limiter: RateLimiter, allowed) -> None:
    if limiter.hit("a", 10, 1.0).wait is None:
        allowed.value += 1


def test_a_damaged_file_is_replaced(tmp_path):
    path = tmp_path / "rate.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    limiter = RateLimiter(path)
    assert limiter.hit("a", 1, 1.0).wait is None
    assert limiter.hit("a", 1, 1.0).wait is not None


def test_the_file_keeps_only_the_last_minute(tmp_path):
    path = tmp_path / "rate.sqlite3"
    limiter = RateLimiter(path)
    limiter.hit("quiet", 10, 0.0)
    for now in range(1000, 2200):  # a busy token, a request a second for 20 minutes
        limiter.hit("busy", 10**6, float(now))
    with sqlite3.connect(path) as conn:
        rows = dict(conn.execute("SELECT token, count(*) FROM hits GROUP BY token").fetchall())
    assert rows == {"busy": 60}


def test_a_file_locked_too_long_lets_requests_through_uncounted_and_says_so_once(tmp_path,
                                                                                caplog):
    path = tmp_path / "rate.sqlite3"
    limiter = RateLimiter(path)
    assert limiter.hit("a", 1, 1.0).wait is None  # the limit used up
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process, stuck with the write lock
    try:
        with caplog.at_level(logging.WARNING, logger="helpdesk.api.ratelimit"):
            started = time.monotonic()
            let_through = [limiter.hit("a", 1, 1.0), limiter.hit("a", 1, 1.0)]
            waited = time.monotonic() - started
    finally:
        other.close()
    assert let_through == [None, None]  # not counted, so not refused either
    assert waited < 2 * LOCK_WAIT_MS / 1000
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "uncounted" in warnings[0].getMessage()
    assert limiter.hit("a", 1, 1.0).wait is not None  # the lock released, the count goes on


def test_a_file_another_process_is_making_is_not_taken_for_a_damaged_one(tmp_path):
    path = tmp_path / "rate.sqlite3"
    maker = sqlite3.connect(path, isolation_level=None)  # not yet in WAL mode
    maker.execute("CREATE TABLE hits (token TEXT NOT NULL, second INTEGER NOT NULL, "
                  "count INTEGER NOT NULL, PRIMARY KEY (token, second)) WITHOUT ROWID")
    maker.execute("BEGIN IMMEDIATE")
    maker.execute("INSERT INTO hits VALUES ('a', 1, 1)")
    try:
        limiter = RateLimiter(path)
        assert limiter.hit("a", 1, 1.0) is None  # let through uncounted: the file is taken
        maker.execute("COMMIT")  # the file was left in place: the other process's work is kept
    finally:
        maker.close()
    assert limiter.hit("a", 1, 1.0).wait is not None  # its count of 1 is the limit
