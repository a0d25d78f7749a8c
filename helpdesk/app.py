"""The application factory: configuration, extensions, blueprints, error pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, render_template, request, session
from flask_babel import gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.routing import IntegerConverter, Map

from helpdesk.config import Settings
from helpdesk.core.concurrency import (
    LOCK_WAIT_MS,
    began,
    is_busy,
    is_lost_race,
    take_lock_before_flush,
    take_write_lock,
    write_intent,
)
from helpdesk.core.i18n import N_
from helpdesk.extensions import babel, csrf, db, login_manager, migrate

LOCALES = ("sv", "en")
_PACKAGE_DIR = Path(__file__).resolve().parent


def _template_folder() -> Path:
    # A source checkout keeps templates/ at the top; a built wheel ships them inside.
    source = _PACKAGE_DIR.parent / "templates"
    return source if source.is_dir() else _PACKAGE_DIR / "_templates"


def select_locale() -> str | None:
    if current_user.is_authenticated and current_user.locale in LOCALES:
        return str(current_user.locale)
    if session.get("locale") in LOCALES:
        return str(session["locale"])
    return request.accept_languages.best_match(LOCALES)


def _sqlite_pragmas(app: Flask) -> None:
    """Make SQLite behave: foreign keys on, and real transactions with savepoints.

    pysqlite starts transactions lazily and breaks SAVEPOINT; taking over BEGIN
    ourselves is the documented SQLAlchemy recipe.
    """
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name != "sqlite":
            return

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
            cursor.close()

        # On every app's sessions, once: the listener looks at each session's own database.
        if not event.contains(db.session, "before_flush", take_lock_before_flush):
            event.listen(db.session, "before_flush", take_lock_before_flush)

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            if write_intent.get():
                take_write_lock(connection.connection.dbapi_connection)
            else:
                connection.exec_driver_sql("BEGIN")
            began(connection, writing=write_intent.get())


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in every route: a row id, so a number no column can hold is simply not
    found (404) instead of overflowing the database driver."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    settings = Settings.from_environment()
    app = Flask(
        __name__,
        template_folder=str(_template_folder()),
        static_folder=str(_PACKAGE_DIR / "static"),
        instance_path=str(settings.instance_dir),
    )
    app.config.update(settings.flask_config())
    if config:
        app.config.update(config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.config["SQLALCHEMY_DATABASE_URI"][len("sqlite:///") :]).parent.mkdir(
            parents=True, exist_ok=True
        )

    _import_models()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(_PACKAGE_DIR / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = ""
    _sqlite_pragmas(app)
    app.url_map.converters["int"] = RowIdConverter
    _register_blueprints(app)
    _register_error_pages(app)
    _register_template_helpers(app)
    from helpdesk.mail.notifications import register_notifications
    register_notifications()
    from helpdesk.reports.time_ledger import register_time_ledger
    register_time_ledger()
    # The REST API and outgoing webhooks.
    from helpdesk.api.setup import init_app as init_api
    init_api(app)
    return app


def _import_models() -> None:
    # Every model must be known to the metadata before Alembic or create_all looks.
    from helpdesk.accounts import models as _accounts  # noqa: F401
    from helpdesk.api import tokens as _api_tokens  # noqa: F401
    from helpdesk.catalogue import models as _catalogue  # noqa: F401
    from helpdesk.core import lease as _lease  # noqa: F401
    from helpdesk.core import outbox as _outbox  # noqa: F401
    from helpdesk.mail import models as _mail  # noqa: F401
    from helpdesk.org import models as _org  # noqa: F401
    from helpdesk.reports import models as _reports  # noqa: F401
    from helpdesk.sla import models as _sla  # noqa: F401
    from helpdesk.tickets import intake as _intake  # noqa: F401
    from helpdesk.tickets import models as _tickets  # noqa: F401
    from helpdesk.tiers import models as _tiers  # noqa: F401
    from helpdesk.vendors import models as _vendors  # noqa: F401
    from helpdesk.webhooks import models as _webhooks  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from helpdesk.accounts.views import bp as accounts_bp
    from helpdesk.catalogue.views import bp as catalogue_bp
    from helpdesk.mail.outbox_views import bp as outbox_bp
    from helpdesk.mail.quarantine_views import bp as mail_quarantine_bp
    from helpdesk.sla.admin_views import bp as sla_admin_bp
    from helpdesk.tickets.agent_views import bp as agent_tickets_bp
    from helpdesk.tickets.intake_views import bp as intake_admin_bp
    from helpdesk.tickets.portal_views import bp as portal_tickets_bp
    from helpdesk.tiers.views import bp as tiers_bp

    for blueprint in (accounts_bp, catalogue_bp, portal_tickets_bp, agent_tickets_bp, tiers_bp,
                      sla_admin_bp, outbox_bp, mail_quarantine_bp, intake_admin_bp):
        app.register_blueprint(blueprint)
    # External vendors: actions on the ticket page, and the administrators' register.
    from helpdesk.vendors.views import admin_bp as vendor_admin_bp
    from helpdesk.vendors.views import bp as vendors_bp

    app.register_blueprint(vendors_bp)
    app.register_blueprint(vendor_admin_bp)
    # Managers' SLA reports.
    from helpdesk.reports.views import bp as reports_bp

    app.register_blueprint(reports_bp)


def _register_error_pages(app: Flask) -> None:
    pages = {
        400: (N_("Bad request"), N_("The helpdesk could not understand what was sent.")),
        405: (N_("Not possible here"), N_("This address does not take that kind of request.")),
        500: (N_("Something went wrong"),
              N_("The helpdesk failed to do this. Nothing was saved; try again in a moment.")),
        404: (N_("Not found"), N_("There is nothing here, or you may not see it.")),
        403: (N_("Not allowed"), N_("You may not do this.")),
        413: (N_("Too large"), N_("The upload is larger than the helpdesk accepts.")),
        CSRFError: (
            N_("The form expired"),
            N_("The form was too old or not sent from this site. Go back, reload and try again."),
        ),
    }
    for key, (title, text) in pages.items():
        status = 400 if key is CSRFError else int(key)  # type: ignore[call-overload,unused-ignore]

        def handler(_error: Exception, status: int = status, title: str = title,
                    text: str = text) -> tuple[str, int]:
            return render_template("error.html", status=status, title=gettext(title),
                                   text=gettext(text)), status

        app.register_error_handler(key, handler)

    def lost_race(error: OperationalError | StaleDataError) -> tuple[str, int, dict[str, str]]:
        # A race lost while the operation was still writing (before the commit), or the
        # write lock busy with other writers' work: then nobody else saved this ticket.
        if not is_lost_race(error):
            raise error
        db.session.rollback()
        if is_busy(error):
            # Nobody's change was in the way: the same request, sent again, is taken. A
            # form comes back with what was sent, ready to send again; files cannot be put
            # back into a page, so a form that carried some is left to go back to.
            kept = None if request.method != "POST" or request.files else [
                (name, value) for name, value in request.form.items(multi=True)
                if name != "csrf_token"]
            return render_template("busy.html", kept=kept, again=request.full_path.rstrip("?")
                                   ), 503, {"Retry-After": "1"}
        return render_template(
            "error.html", status=409, title=gettext("Saved by someone else"),
            text=gettext("Someone else saved this ticket at the same moment. Go back, reload "
                         "the ticket and try again; nothing of yours was saved."),
        ), 409, {}

    app.register_error_handler(OperationalError, lost_race)
    app.register_error_handler(StaleDataError, lost_race)

    @app.teardown_request
    def _undo_a_failed_request(error: BaseException | None) -> None:
        # A request that failed (a 500) leaves nothing half-saved: not its rows, which
        # closing the session would drop anyway, and not the attachment files it stored,
        # which only a rollback removes (tickets.attachments).
        if error is not None:
            db.session.rollback()


def _register_template_helpers(app: Flask) -> None:
    from helpdesk.web import template_helpers

    app.jinja_env.globals.update(template_helpers.GLOBALS)
    app.jinja_env.filters.update(template_helpers.FILTERS)
