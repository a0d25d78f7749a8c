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
