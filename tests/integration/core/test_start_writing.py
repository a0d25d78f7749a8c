"""Where a creation starts writing on SQLite (``start_writing``): a transaction that has only
read takes the write lock there; one that holds it already, or has written, is left as it
is, so that nothing it did is committed half-way. SQLite only: PostgreSQL has no
database-wide write lock.

The app runs on a file of its own with real transactions, and a second connection plays
another process.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from helpdesk.accounts.models import User
from helpdesk.core.concurrency import start_writing, write_intent
from helpdesk.core.errors import DatabaseBusy
from helpdesk.extensions import db
from tests.conftest import Factory, OtherWriter, app_with_tables


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    with app_with_tables("sqlite", tmp_path) as application:
        with application.app_context():
            Factory(application.config["HELPDESK"]).user(name="Anna")
            db.session.commit()
            db.session.remove()
        yield application


@pytest.fixture
def other(other_process: OtherWriter) -> sqlite3.Connection:
    """The other process's connection, refused at once where it would wait for the lock."""
    other_process.connection.execute("PRAGMA busy_timeout=0")
    return other_process.connection


def locked_out(other: sqlite3.Connection) -> bool:
    """Whether another process is kept from writing now."""
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return True
    other.execute("ROLLBACK")
    return False


def names(app: Flask) -> list[str]:
    with app.app_context():
        try:
            return list(db.session.scalars(select(User.name)))
        finally:
            db.session.remove()


def test_a_transaction_that_read_takes_the_lock_and_keeps_what_it_read(app, other):
    with app.app_context():
        anna = db.session.scalars(select(User)).one()
        assert not locked_out(other)  # reading keeps nobody waiting
        start_writing(db.session())
        assert locked_out(other)
        assert anna.name == "Anna"  # still loaded, no query needed
        db.session.rollback()
        db.session.remove()
    assert not locked_out(other)


def test_a_transaction_that_has_written_is_not_committed_half_way(app, other):
    with app.app_context():
        db.session.execute(update(User).values(name="Anna Andersson"))
        start_writing(db.session())
        db.session.rollback()  # the operation failed after all: nothing of it is kept
        db.session.remove()
    assert names(app) == ["Anna"]


def test_a_transaction_begun_to_write_is_left_as_it_is(app, other):
    token = write_intent.set(True)
    try:
        with app.app_context():
            db.session.scalars(select(User)).one()
            start_writing(db.session())
            assert locked_out(other)
            db.session.rollback()
            db.session.remove()
    finally:
        write_intent.reset(token)


def test_a_lock_that_stays_taken_is_busy_and_the_transaction_rolled_back(app, other):
    with app.app_context():
        db.session.scalars(select(User)).one()
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(DatabaseBusy):
            start_writing(db.session())
        assert not db.session().in_transaction()
        db.session.remove()


def test_a_save_that_read_first_waits_for_a_writer_who_commits_meanwhile(app, other):
    # Without the lock taken before the flush, SQLite refuses the save at once: its snapshot
    # is older than the other writer's commit ("database is locked").
    with app.app_context():
        anna = db.session.scalars(select(User)).one()
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE users SET locale = 'sv'")
        release = threading.Timer(0.3, other.execute, args=("COMMIT",))
        release.start()
        anna.name = "Anna Andersson"
        db.session.commit()
        release.join()
        db.session.remove()
    assert names(app) == ["Anna Andersson"]


def test_a_flush_after_a_write_keeps_the_transaction_whole(app, other):
    with app.app_context():
        anna = db.session.scalars(select(User)).one()
        db.session.execute(update(User).values(locale="sv"))
        anna.name = "Anna Andersson"
        db.session.flush()
        db.session.rollback()
        db.session.remove()
    assert names(app) == ["Anna"]
