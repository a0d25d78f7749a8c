"""How many API requests a token has made lately, counted for every app process on this
machine together.

gunicorn runs several worker processes, and a count each kept alone would let a token
make that many times its limit. The processes share the count through a small SQLite
file of its own (by default ``instance/api-rate.sqlite3``), not the helpdesk's
database: on SQLite, a write there on every request (reads too) would queue behind
every ticket being saved, for the database's one write lock.

The count is kept by the second: a row per token and second in which it made requests,
so checking the last 60 seconds sums at most 60 rows, however high the limit.
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
from pathlib import Path

from helpdesk.core.concurrency import LOCK_WAIT_MS, take_write_lock

WINDOW_SECONDS = 60
_PURGE_EVERY = 1000  # hits between sweeps of the seconds that no token needs any more

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hits (
    token TEXT NOT NULL,
    second INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (token, second)
) WITHOUT ROWID
"""


class RateLimiter:
    """At most ``limit`` requests by one token in any 60 seconds (to the second)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # the process's threads share its one connection
        self._held: tuple[int, sqlite3.Connection] | None = None
        self._hits_since_purge = 0

    def hit(self, token: str, limit: int, now: float) -> int | None:
        """Count a request by ``token`` at ``now`` (seconds since the epoch) if the limit
        allows it: None. Otherwise nothing is counted, and the answer is the whole
        seconds until the token may send again (a request refused does not count)."""
        second = math.floor(now)
        with self._lock:
            conn = self._connection()
            take_write_lock(conn)  # so that two processes cannot both take the last request
            with conn:
                conn.execute("DELETE FROM hits WHERE token = ? AND second <= ?",
                             (token, second - WINDOW_SECONDS))
                made, first = conn.execute(
                    "SELECT coalesce(sum(count), 0), min(second) FROM hits WHERE token = ?",
                    (token,)).fetchone()
                if made >= limit:
                    return max(1, math.ceil(first + WINDOW_SECONDS - now))
                conn.execute("INSERT INTO hits (token, second, count) VALUES (?, ?, 1) "
                             "ON CONFLICT (token, second) DO UPDATE SET count = count + 1",
                             (token, second))
                self._hits_since_purge += 1
                if self._hits_since_purge >= _PURGE_EVERY:  # tokens that went quiet
                    self._hits_since_purge = 0
                    conn.execute("DELETE FROM hits WHERE second <= ?", (second - WINDOW_SECONDS,))
        return None

    def _connection(self) -> sqlite3.Connection:
        # One connection per process: one opened before gunicorn forks its workers must
        # not be shared by them.
        if self._held is not None and self._held[0] == os.getpid():
            return self._held[1]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = _open(self.path)
        except sqlite3.DatabaseError:
            # Counts of the last minute are all the file holds: a damaged one is replaced
            # rather than refusing every API request.
            for stale in (self.path, *(self.path.with_name(self.path.name + s)
                                       for s in ("-wal", "-shm"))):
                stale.unlink(missing_ok=True)
            conn = _open(self.path)
        self._held = (os.getpid(), conn)
        return conn


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # losing the last counts in a power cut is fine
        conn.execute(_SCHEMA)
    except sqlite3.DatabaseError:
        conn.close()
        raise
    return conn
