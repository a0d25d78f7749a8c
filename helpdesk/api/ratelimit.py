"""How many API requests a token has made lately, counted for every app process on this
machine together.

gunicorn runs several worker processes, and a count each kept alone would let a token
make that many times its limit. The processes share the count through a small SQLite
file of its own (by default ``instance/api-rate.sqlite3``), not the helpdesk's
database: on SQLite, a write there on every request (reads too) would queue behind
every ticket being saved, for the database's one write lock.

The count is kept by the second: a row per token and second in which it made requests,
so checking the last 60 seconds sums at most 60 rows, however high the limit.

The limit protects the helpdesk and must never stop it: when the file stays locked for
longer than a request should wait to be counted (a process stuck holding it, a backup
copying it), the request goes through uncounted, and the log says so now and then.
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from helpdesk.core.concurrency import WriteLockTimeout, take_write_lock

WINDOW_SECONDS = 60
# How long a request waits for the file before it goes through uncounted. A count takes
# well under a millisecond, so a wait this long means the file is stuck, not busy; and
# the helpdesk's own database lock waits 5 s, which no request should add to.
COUNT_WAIT_MS = 1000
_WARN_EVERY_SECONDS = 60  # one warning a minute at most, however many requests go uncounted
_PURGE_EVERY = 1000  # hits between sweeps of the seconds that no token needs any more

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hits (
    token TEXT NOT NULL,
    second INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (token, second)
) WITHOUT ROWID
"""


@dataclass(frozen=True)
class Count:
    """A request counted against its token's limit, and what the token has left.

    ``wait`` is None when the request may go; else the whole seconds until the token may
    send again (a request refused does not count). ``remaining`` is how many more requests
    the token may make now; ``reset`` the whole seconds until the oldest request counted
    leaves the window, when one more may go (the window slides: there is no moment when
    the whole limit comes back at once)."""

    wait: int | None
    remaining: int
    reset: int


class RateLimiter:
    """At most ``limit`` requests by one token in any 60 seconds (to the second)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # the process's threads share its one connection
        self._held: tuple[int, sqlite3.Connection] | None = None
        self._hits_since_purge = 0
        self._uncounted = 0  # since the last warning
        self._warned_at: float | None = None

    def hit(self, token: str, limit: int, now: float) -> Count | None:
        """Count a request by ``token`` at ``now`` (seconds since the epoch) if the limit
        allows it. None, uncounted, when the file stays locked longer than COUNT_WAIT_MS:
        then nothing is known of the token's count."""
        second = math.floor(now)
        with self._lock:
            try:
                conn = self._connection()
                # So that two processes cannot both take the last request.
                take_write_lock(conn, wait_ms=COUNT_WAIT_MS)
            except (WriteLockTimeout, _FileBusy):
                self._let_through_uncounted()
                return None
            with conn:
                conn.execute("DELETE FROM hits WHERE token = ? AND second <= ?",
                             (token, second - WINDOW_SECONDS))
                made, first = conn.execute(
                    "SELECT coalesce(sum(count), 0), min(second) FROM hits WHERE token = ?",
                    (token,)).fetchone()
                # The oldest second still counted, this request's own if it is the first.
                oldest = second if first is None else first
                until_oldest_leaves = max(1, math.ceil(oldest + WINDOW_SECONDS - now))
                if made >= limit:
                    return Count(wait=until_oldest_leaves, remaining=0,
                                 reset=until_oldest_leaves)
                conn.execute("INSERT INTO hits (token, second, count) VALUES (?, ?, 1) "
                             "ON CONFLICT (token, second) DO UPDATE SET count = count + 1",
                             (token, second))
                self._hits_since_purge += 1
                if self._hits_since_purge >= _PURGE_EVERY:  # tokens that went quiet
                    self._hits_since_purge = 0
                    conn.execute("DELETE FROM hits WHERE second <= ?", (second - WINDOW_SECONDS,))
        return Count(wait=None, remaining=limit - made - 1, reset=until_oldest_leaves)

    def _let_through_uncounted(self) -> None:
        self._uncounted += 1
        moment = time.monotonic()
        if self._warned_at is not None and moment - self._warned_at < _WARN_EVERY_SECONDS:
            return
        logger.warning("The API rate-limit file %s stayed locked for over %d ms: %d request(s) "
                       "let through uncounted since the last warning.", self.path, COUNT_WAIT_MS,
                       self._uncounted)
        self._warned_at, self._uncounted = moment, 0

    def _connection(self) -> sqlite3.Connection:
        # One connection per process: one opened before gunicorn forks its workers must
        # not be shared by them.
        if self._held is not None and self._held[0] == os.getpid():
            return self._held[1]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = _open(self.path)
        except sqlite3.DatabaseError as exc:
            if _is_busy(exc):
                # Another process is writing it (making it, say): not damaged, only taken.
                raise _FileBusy from exc
            # Counts of the last minute are all the file holds: a damaged one is replaced
            # rather than refusing every API request.
            for stale in (self.path, *(self.path.with_name(self.path.name + s)
                                       for s in ("-wal", "-shm"))):
                stale.unlink(missing_ok=True)
            conn = _open(self.path)
        self._held = (os.getpid(), conn)
        return conn


class _FileBusy(Exception):
    """The file could not be opened for the lock another connection holds on it."""


def _is_busy(exc: sqlite3.DatabaseError) -> bool:
    return exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        # Opening waits no longer than a count would (take_write_lock sets its own wait).
        conn.execute(f"PRAGMA busy_timeout={COUNT_WAIT_MS}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # losing the last counts in a power cut is fine
        conn.execute(_SCHEMA)
    except sqlite3.DatabaseError:
        conn.close()
        raise
    return conn
