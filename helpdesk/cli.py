"""The ``helpdesk`` console command.

``helpdesk db upgrade`` (Flask-Migrate), ``helpdesk org load FILE``,
``helpdesk demo``, ``helpdesk user create``, ``helpdesk serve``,
``helpdesk tickets autoclose``, ``helpdesk reports rebuild-time-spent`` and
``helpdesk tickets intake`` and ``helpdesk mail send``. Each command commits once at
the end, but ``mail send``, which records each mail as sent as soon as it is, and
``reports rebuild-time-spent`` and ``tickets intake``, which commit a batch at a time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from helpdesk import create_app
from helpdesk.accounts.models import Role, User
from helpdesk.config import ConfigError
from helpdesk.core.clock import utcnow
from helpdesk.extensions import db
from helpdesk.mail.commands import ingest_command, poll_command
from helpdesk.org.loader import OrgFileError, load_file
from helpdesk.org.models import OrgUnit

DEMO_FILE = Path(__file__).resolve().parent.parent / "examples" / "demo-org.yaml"
DEMO_PASSWORD = "helpdesk-demo"


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_version_option=False)
def main() -> None:
    """Helpdesk: a tiered IT helpdesk."""


def run() -> None:
    """The console script: a setting in the environment that cannot be used is one line
    naming it (exit 78, EX_CONFIG), not a traceback."""
    try:
        main()
    except ConfigError as exc:
        click.echo(f"helpdesk: {exc}", err=True)
        sys.exit(78)


@main.group()
def org() -> None:
    """The organisation: departments, groups, services, users."""


@org.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@with_appcontext
def org_load(file: Path) -> None:
    """Load (or update) the organisation described in FILE (YAML)."""
    try:
        summary = load_file(file)
        db.session.commit()
    except OrgFileError as exc:
        db.session.rollback()
        click.echo(str(exc), err=True)
        click.echo("Nothing was loaded.", err=True)
        sys.exit(1)
    click.echo(f"Loaded {summary.calendars} calendars, {summary.sla_policies} SLA policies, "
               f"{summary.org_units} departments, {summary.groups} groups, "
               f"{summary.services} services, {summary.users} users, "
               f"{summary.routing_rules} routing rules from {file}.")


def _print_demo_logins() -> None:
    users = db.session.scalars(
        select(User).where(User.email.like("%@demo.example")).order_by(User.role, User.email)
    ).all()
    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
    for user in users:
        groups = ", ".join(g.name for g in user.groups)
        click.echo(f"  {user.role.value:<10} {user.email:<32} {user.name}"
                   + (f"  [{groups}]" if groups else ""))


@main.command()
@with_appcontext
def demo() -> None:
    """Load the demo university and a few tickets (once), then print the logins."""
    from helpdesk.demo import create_demo_tickets

    if db.session.scalar(select(OrgUnit).where(OrgUnit.code == "kemi")) is None:
        load_file(DEMO_FILE)
        create_demo_tickets(now=utcnow())
        db.session.commit()
        click.echo(f"Demo organisation loaded from {DEMO_FILE.name}.")
    else:
        click.echo("Demo organisation already loaded.")
    _print_demo_logins()


@main.group()
def user() -> None:
    """People who use the helpdesk."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.REQUESTER.value)
@click.option("--org-unit", default=None, help="Code of the user's department.")
@click.option("--locale", type=click.Choice(["sv", "en"]), default=None)
@click.password_option()
@with_appcontext
def user_create(email: str, name: str, role: str, org_unit: str | None, locale: str | None,
                password: str) -> None:
    """Create a user who can log in."""
    email = email.strip().lower()
    if db.session.scalar(select(User).where(User.email == email)):
        raise click.ClickException(f"a user with the address {email} exists already")
    unit = None
    if org_unit:
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == org_unit))
        if unit is None:
            raise click.ClickException(f"no department with the code {org_unit}")
    if len(password) < 8:
        raise click.ClickException("the password must be at least 8 characters")
    new = User(email=email, name=name, role=Role(role), org_unit=unit, locale=locale, active=True)
    new.set_password(password)
    db.session.add(new)
    db.session.commit()
    click.echo(f"Created {role} {email}.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--scheduler/--no-scheduler", default=True, show_default=True,
              help="Run the scheduler (SLA sweep, auto-close) in this process too.")
@with_appcontext
def serve(host: str, port: int, scheduler: bool) -> None:
    """Serve the helpdesk (the embedded default: one process, threads, its own scheduler)."""
    from flask import current_app
    from werkzeug.serving import run_simple

    from helpdesk.sla.scheduler import build

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if scheduler:
        jobs, leader = build(app, background=True)
        jobs.start()
        click.echo(f"Scheduler {leader.holder} started (it acts while it holds the lease).")
    click.echo(f"Helpdesk on http://{host}:{port}/  (Ctrl-C stops it)")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


@main.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduler alone; several may run, one acts at a time (database lease)."""
    import logging

    from flask import current_app

    from helpdesk.sla.scheduler import build

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    jobs, leader = build(current_app._get_current_object(),  # type: ignore[attr-defined]
                         background=False)
    click.echo(f"Scheduler {leader.holder} running (Ctrl-C stops it).")
    jobs.start()


@main.group()
def sla() -> None:
    """SLA clocks."""


@sla.command("sweep")
@with_appcontext
def sla_sweep() -> None:
    """Record every warning and breach that is due now (what the scheduler does each tick)."""
    from flask import current_app

    from helpdesk.sla.sweep import sweep_all

    result = sweep_all(now=utcnow(), settings=current_app.config["HELPDESK"], worker="cli")
    db.session.commit()
    click.echo(f"Examined {result.examined} clocks: {len(result.warnings)} warnings, "
               f"{len(result.breaches)} breaches recorded.")


@main.group()
def tickets() -> None:
    """Jobs on tickets (the scheduler runs them on its own later)."""


@tickets.command("autoclose")
@with_appcontext
def tickets_autoclose() -> None:
    """Close tickets that were resolved more than the configured days ago."""
    from flask import current_app

    from helpdesk.tickets.operations import auto_close_resolved

    closed = auto_close_resolved(now=utcnow(), settings=current_app.config["HELPDESK"])
    db.session.commit()
    click.echo(f"Closed {len(closed)} resolved tickets" + (f": {', '.join(closed)}" if closed else "."))


@tickets.command("intake")
@click.option("--every", type=click.FloatRange(min=0.05), default=None,
              help="Keep going: look for new requests this often, in seconds (a dedicated "
                   "intake worker beside the scheduler, which also does this each second).")
@with_appcontext
def tickets_intake(every: float | None) -> None:
    """Create the tickets of the API requests accepted with Prefer: respond-async.

    A worker (``--every``) stops on SIGTERM or Ctrl-C once the batch under way is
    committed, so stopping it never leaves work half done or waiting for a retry."""
    import signal
    import threading

    from flask import current_app

    from helpdesk.tickets.intake import drain

    stopping = threading.Event()
    if every is not None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda _signum, _frame: stopping.set())
    while True:
        result = drain(now=utcnow, settings=current_app.config["HELPDESK"], stop=stopping.is_set)
        db.session.remove()
        if every is None or result.created or result.rejected:
            click.echo(f"{result.created} tickets created, {result.rejected} requests rejected.")
        if every is None:
            return
        if stopping.wait(every):
            click.echo("Stopped.")
            return


@main.group()
def reports() -> None:
    """Manager reports."""


@reports.command("rebuild-time-spent")
@with_appcontext
def reports_rebuild_time_spent() -> None:
    """Work out where every resolved ticket's time went again, from the tickets' histories
    (after an upgrade from a version without the report; resolutions keep it up to date)."""
    from helpdesk.reports.time_ledger import rebuild

    click.echo(f"Wrote where the time went for {rebuild()} resolved tickets.")


@main.group("mail")
def mail_group() -> None:
    """Mail in and out."""


from helpdesk.api.commands import api_group  # noqa: E402 - the API's commands

main.add_command(api_group)
mail_group.add_command(ingest_command)
mail_group.add_command(poll_command)


@mail_group.command("send")
@with_appcontext
def mail_send() -> None:
    """Send the outbox's mail that is due now (each one is recorded as sent at once).

    Exits with 1 when the mail server could not be reached, or the database was too busy
    to take a claim or a mail's outcome, so cron or a timer notices.
    """
    from flask import current_app

    from helpdesk.mail.sender import send_due

    result = send_due(now=utcnow(), settings=current_app.config["HELPDESK"])
    click.echo(result.summary())
    if result.stopped:
        sys.exit(1)
