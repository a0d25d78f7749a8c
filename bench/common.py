"""What every benchmark starts from: the application on a database holding the demo organisation."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, make_url

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo-org.yaml"


def demo_app(url: str, instance: Path) -> Flask:
    """The app on ``url``, migrated, with the demo organisation loaded and committed."""
    os.environ["HELPDESK_INSTANCE_DIR"] = str(instance)
    from flask_migrate import upgrade

    from helpdesk import create_app
    from helpdesk.extensions import db
    from helpdesk.org.loader import load_file

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
        load_file(DEMO)
        db.session.commit()
    return app


@contextmanager
def scratch_postgres(url: str, purpose: str) -> Iterator[str]:
    """A new database on the server ``url`` names, dropped afterwards.

    The database in ``url`` itself may hold other data, so a benchmark never builds in it.
    """
    base = make_url(url)
    name = f"{base.database or 'helpdesk'}_{purpose}_{os.getpid()}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def on_each_database(run: Callable[[str, str, Path], None], purpose: str) -> None:
    """``run(label, url, instance)`` on SQLite, then on a scratch PostgreSQL database when
    HELPDESK_BENCH_POSTGRES_URL names a server."""
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "sqlite"
        run("sqlite", f"sqlite:///{instance / 'bench.sqlite3'}", instance)
        pg_url = os.environ.get("HELPDESK_BENCH_POSTGRES_URL")
        if pg_url:
            with scratch_postgres(pg_url, purpose) as url:
                run("postgresql", url, Path(tmp) / "pg")
        else:
            print("[postgresql] skipped: HELPDESK_BENCH_POSTGRES_URL is not set")
