"""Taking SQLite's write lock: a waiter gets it once it is free, and gives up in time."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from helpdesk.core.concurrency import (
    LOCK_WAIT_MS,
    WriteLockTimeout,
    is_busy,
    is_lost_race,
    is_transient,
    take_write_lock,
)


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
    return connection


@pytest.fixture
def two_connections(tmp_path: Path) -> tuple[sqlite3.Connection, sqlite3.Connection]:
    holder, waiter = _connect(tmp_path / "lock.sqlite3"), _connect(tmp_path / "lock.sqlite3")
    holder.execute("CREATE TABLE t (n INTEGER)")
    return holder, waiter


def test_the_waiter_writes_after_the_holder_commits(two_connections):
    holder, waiter = two_connections
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")
    release = threading.Timer(0.05, holder.execute, args=("COMMIT",))
    release.start()
    take_write_lock(waiter)
    waiter.execute("INSERT INTO t VALUES (2)")
    waiter.execute("COMMIT")
    release.join()
    assert [n for (n,) in holder.execute("SELECT n FROM t ORDER BY n")] == [1, 2]


def test_a_lock_never_released_is_refused_after_the_wait(two_connections):
    holder, waiter = two_connections
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(WriteLockTimeout, match="locked") as refused:
        take_write_lock(waiter, wait_ms=30)
    assert is_lost_race(refused.value)  # the API answers 503: nothing done, send it again
    assert not waiter.in_transaction


def test_statements_after_it_wait_as_long_as_before(two_connections):
    _holder, waiter = two_connections
    take_write_lock(waiter)
    waiter.execute("COMMIT")
    assert waiter.execute("PRAGMA busy_timeout").fetchone() == (LOCK_WAIT_MS,)


def test_another_failure_is_not_taken_for_a_busy_lock(two_connections):
    _holder, waiter = two_connections
    waiter.execute("BEGIN")
    with pytest.raises(OperationalError, match="within a transaction") as failed:
        take_write_lock(waiter)
    assert not isinstance(failed.value, WriteLockTimeout)


def test_a_busy_lock_is_worth_trying_again_and_a_broken_rule_is_not(two_connections):
    holder, waiter = two_connections
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(WriteLockTimeout) as busy:
        take_write_lock(waiter, wait_ms=10)
    holder.execute("COMMIT")
    holder.execute("CREATE UNIQUE INDEX one_n ON t (n)")
    holder.execute("INSERT INTO t VALUES (1)")
    try:
        holder.execute("INSERT INTO t VALUES (1)")
    except sqlite3.IntegrityError as exc:
        duplicate = IntegrityError("INSERT INTO t VALUES (1)", (), exc)
    assert is_transient(busy.value)
    assert not is_transient(duplicate)
    assert not is_transient(RuntimeError("a fault in the code"))


def test_a_lock_another_writer_holds_is_busy_and_a_snapshot_it_made_stale_a_lost_race(
        two_connections):
    holder, waiter = two_connections
    waiter.execute("BEGIN")
    waiter.execute("SELECT n FROM t").fetchall()  # read first, as a page's save does
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.OperationalError) as taken:  # refused at once, not waited
        waiter.execute("INSERT INTO t VALUES (2)")
    holder.execute("COMMIT")
    with pytest.raises(sqlite3.OperationalError) as stale:
        waiter.execute("INSERT INTO t VALUES (2)")
    waiter.execute("ROLLBACK")
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(WriteLockTimeout) as waited:
        take_write_lock(waiter, wait_ms=10)

    busy = OperationalError("INSERT INTO t VALUES (2)", (), taken.value)
    lost = OperationalError("INSERT INTO t VALUES (2)", (), stale.value)
    assert is_busy(busy) and is_busy(waited.value)
    assert not is_busy(lost) and is_lost_race(lost)
    assert is_lost_race(busy)  # what callers that tell no difference keep seeing
    assert not is_busy(RuntimeError("database is locked"))


def test_a_full_database_is_worth_trying_again(tmp_path):
    connection = sqlite3.connect(tmp_path / "full.sqlite3", isolation_level=None)
    connection.execute("CREATE TABLE t (data BLOB)")
    connection.execute("PRAGMA max_page_count=2")  # as a full disk would leave it
    with pytest.raises(sqlite3.OperationalError, match="full") as full:
        connection.execute("INSERT INTO t VALUES (?)", (b"x" * 100_000,))
    assert is_transient(OperationalError("INSERT INTO t", (), full.value))
