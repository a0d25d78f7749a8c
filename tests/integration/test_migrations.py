"""The migrations build exactly the schema the models describe, and take it down again."""

from __future__ import annotations

import logging

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from helpdesk import create_app
from helpdesk.extensions import db
from tests.support import BACKENDS, fresh_database

# helpdesk/migrations/env.py is Flask-Migrate's template: it tries the deprecated
# ``db.get_engine()`` first and falls back to ``db.engine`` once that is gone.
pytestmark = pytest.mark.filterwarnings(
    "ignore:'get_engine' is deprecated:DeprecationWarning")


@pytest.fixture(autouse=True)
def keep_logging_as_it_was():
    """Alembic's env.py runs ``logging.config.fileConfig``, which silences every logger
    that exists already; put them back so later tests still see their log records."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    loggers = {name: (lg.disabled, lg.level) for name, lg in logging.Logger.manager.loggerDict.items()
               if isinstance(lg, logging.Logger)}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, (disabled, lvl) in loggers.items():
        lg = logging.getLogger(name)
        lg.disabled, lg.level = disabled, lvl


@pytest.fixture(params=BACKENDS)
def empty_app(request, tmp_path, monkeypatch):
    """An app on a database of its own that has no tables yet."""
    with fresh_database(request.param, tmp_path, "migrations") as url:
        monkeypatch.setenv("HELPDESK_INSTANCE_DIR", str(tmp_path / "instance"))
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            assert inspect(db.engine).get_table_names() == []
            try:
                yield app
            finally:
                db.session.remove()
                db.engine.dispose()


def test_upgrade_builds_exactly_the_models_schema(empty_app, request):
    flask_migrate.upgrade()

    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), db.metadata)
        tables = set(inspect(conn).get_table_names())
    assert differences == []
    assert tables == {*db.metadata.tables, "alembic_version"}


def test_downgrade_to_base_leaves_no_tables(empty_app):
    flask_migrate.upgrade()
    flask_migrate.downgrade(revision="base")

    with db.engine.connect() as conn:
        # Alembic keeps its own (now empty) bookkeeping table; nothing of ours is left.
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        assert MigrationContext.configure(conn).get_current_revision() is None


def test_upgrade_after_downgrade_works_again(empty_app, request):
    flask_migrate.upgrade()
    flask_migrate.downgrade(revision="base")
    flask_migrate.upgrade()
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), db.metadata) == []


def test_a_departments_local_helpdesk_must_be_an_existing_group(empty_app, request):
    flask_migrate.upgrade()
    with db.engine.connect() as conn:
        keys = inspect(conn).get_foreign_keys("org_units")
    assert [(k["constrained_columns"], k["referred_table"]) for k in keys] == [
        (["local_helpdesk_id"], "support_groups")]


def test_upgrading_keeps_addresses_in_lower_case_so_the_index_finds_a_sender(empty_app):
    from sqlalchemy import text

    flask_migrate.upgrade(revision="0d40cbe684a7")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO users (email, name, role, active) "
                          "VALUES ('Anna.Andersson@Kemi.Example.SE', 'Anna', 'requester', true)"))
    flask_migrate.upgrade()
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT email FROM users")).scalars().all() == [
            "anna.andersson@kemi.example.se"]



def test_upgrading_keeps_the_webhooks_and_their_deliveries_then_go_with_their_subscription(
        empty_app):
    from sqlalchemy import text

    flask_migrate.upgrade(revision="e3a7c51f9b06")
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO webhook_subscriptions (id, name, url, secret, events, active, "
            "created_at) VALUES (1, 'x', 'http://x.example/', 's', '[\"ticket.created\"]', "
            "true, '2026-12-01 10:00:00+00:00')"))
        conn.execute(text(
            "INSERT INTO webhook_deliveries (id, subscription_id, event, payload, created_at, "
            "attempts) VALUES (7, 1, 'ticket.created', '{}', '2026-12-01 10:00:00+00:00', 0)"))
    flask_migrate.upgrade()

    with db.engine.begin() as conn:
        assert conn.execute(text("SELECT id, name FROM webhook_subscriptions")).all() == [
            (1, "x")]
        # Every subscription there was still sends every ticket.
        assert conn.execute(text("SELECT group_codes FROM webhook_subscriptions")).scalar() in (
            [], "[]")
        assert conn.execute(text("SELECT id, subscription_id FROM webhook_deliveries")).all() == [
            (7, 1)]
    flask_migrate.downgrade(revision="e3a7c51f9b06")  # and back: the rows stay again
    with db.engine.begin() as conn:
        assert conn.execute(text("SELECT id, subscription_id FROM webhook_deliveries")).all() == [
            (7, 1)]
    flask_migrate.upgrade()
    with db.engine.begin() as conn:
        [key] = [k for k in inspect(conn).get_foreign_keys("webhook_deliveries")
                 if k["referred_table"] == "webhook_subscriptions"]
        assert key["options"].get("ondelete") == "CASCADE"
        conn.execute(text("DELETE FROM webhook_subscriptions"))
        assert conn.execute(text("SELECT count(*) FROM webhook_deliveries")).scalar() == 0


def test_a_migrated_sqlite_database_never_hands_a_webhook_id_out_twice(tmp_path, monkeypatch):
    """AUTOINCREMENT: SQLite keeps the highest id it gave in sqlite_sequence, and gives the
    next one after it even once that row is deleted."""
    from sqlalchemy import text

    def next_id_after_a_delete(conn) -> int:
        conn.execute(text(
            "INSERT INTO webhook_subscriptions (name, url, secret, events, group_codes, active, "
            "created_at) VALUES ('x', 'http://x.example/', 's', '[]', '[]', 1, "
            "'2026-12-01 10:00:00+00:00')"))
        conn.execute(text("DELETE FROM webhook_subscriptions"))
        conn.execute(text(
            "INSERT INTO webhook_subscriptions (name, url, secret, events, group_codes, active, "
            "created_at) VALUES ('y', 'http://y.example/', 's', '[]', '[]', 1, "
            "'2026-12-01 10:00:00+00:00')"))
        return int(conn.execute(text("SELECT id FROM webhook_subscriptions")).scalar_one())

    monkeypatch.setenv("HELPDESK_INSTANCE_DIR", str(tmp_path / "instance"))
    app = create_app({"TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'ids.sqlite3'}"})
    with app.app_context():
        try:
            flask_migrate.upgrade()
            with db.engine.begin() as conn:
                assert next_id_after_a_delete(conn) == 2
                assert {"webhook_subscriptions", "webhook_deliveries"} <= set(
                    conn.execute(text("SELECT name FROM sqlite_sequence")).scalars())
                conn.execute(text("DELETE FROM webhook_subscriptions"))
            flask_migrate.downgrade(revision="e3a7c51f9b06")
            with db.engine.begin() as conn:
                tables = conn.execute(text(
                    "SELECT sql FROM sqlite_master WHERE name LIKE 'webhook_%' "
                    "AND type = 'table'")).scalars().all()
            assert len(tables) == 2
            assert not any("AUTOINCREMENT" in sql for sql in tables)
        finally:
            db.session.remove()
            db.engine.dispose()
