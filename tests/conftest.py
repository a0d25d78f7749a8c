"""Fixtures and factories shared by every test.

Database tests run once per backend: SQLite always, PostgreSQL when
HELPDESK_TEST_POSTGRES_URL is set. A missing PostgreSQL skips with a reason on
a developer's machine and fails under CI=true. The schema is built once per
session and backend; each test runs inside a transaction rolled back at the end
(views' commits only release a savepoint).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import create_engine, make_url, select
from sqlalchemy.orm import scoped_session, sessionmaker
from werkzeug.security import generate_password_hash

from helpdesk import create_app
from helpdesk.accounts.models import Role, User
from helpdesk.catalogue.models import Level1Choice, Lifecycle, Service
from helpdesk.config import Settings
from helpdesk.extensions import db
from helpdesk.mail.models import Mailbox
from helpdesk.org.models import OrgUnit
from helpdesk.tickets.models import Ticket, TicketType
from helpdesk.tickets.operations import create_ticket
from helpdesk.tiers.models import GroupKind, SupportGroup

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get("HELPDESK_TEST_POSTGRES_URL", "")
PASSWORD = "correct horse battery"
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)

# Real outside services, each in its own module.
pytest_plugins = ["tests.services.imap", "tests.services.smtp"]


def require_service(available: bool, reason: str) -> None:
    """Skip a test whose outside service is missing; under CI that is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def _backend_params() -> list[Any]:
    return ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def scratch_postgres_database(purpose: str) -> Iterator[str]:
    """A database of its own on the test server, dropped afterwards.

    Test runs, helpers and CI may share one PostgreSQL server; a database per
    session keeps their schemas from trampling each other.
    """
    require_service(bool(POSTGRES_URL),
                    "HELPDESK_TEST_POSTGRES_URL is not set (no PostgreSQL to test against)")
    server = make_url(POSTGRES_URL)
    name = f"helpdesk_{purpose}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def build_app(backend: str, instance: Path, url: str | None = None) -> Flask:
    """An app on ``url``; without one, on an SQLite file in ``instance``."""
    if url is None:
        if backend == "postgresql":
            raise ValueError("a PostgreSQL app needs the url of a scratch database")
        url = f"sqlite:///{instance / 'test.sqlite3'}"
    os.environ["HELPDESK_INSTANCE_DIR"] = str(instance)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                      "WTF_CSRF_ENABLED": False})
    app.config["HELPDESK"].instance_dir = instance
    return app


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with scratch_postgres_database("test") as url:
        yield url


@contextmanager
def app_with_tables(backend: str, instance: Path, url: str | None = None) -> Iterator[Flask]:
    """``build_app`` with every table made, its connections closed afterwards."""
    application = build_app(backend, instance, url)
    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session", params=_backend_params())
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp(f"instance-{request.param}")
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    with app_with_tables(request.param, instance, url) as application:
        yield application


@pytest.fixture
def session(app: Flask) -> Iterator[Any]:
    """The test's own transaction: everything it writes is rolled back afterwards."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        # A plain SQLAlchemy session: Flask-SQLAlchemy's own would pick the engine, not our bind.
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                         query_cls=db.Query),
            scopefunc=_app_ctx_id,
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app: Flask, session: Any) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def settings(app: Flask) -> Settings:
    return app.config["HELPDESK"]


@pytest.fixture
def now() -> datetime:
    return NOW


class Factory:
    """Builds just the rows a test asks for, with sensible defaults."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def org_unit(self, code: str | None = None, local_helpdesk: SupportGroup | None = None) -> OrgUnit:
        n = self._next()
        unit = OrgUnit(code=code or f"unit{n}", name=f"Avdelning {n}", name_en=f"Department {n}",
                       local_helpdesk=local_helpdesk)
        db.session.add(unit)
        db.session.flush()
        return unit

    def user(self, role: Role = Role.REQUESTER, org_unit: OrgUnit | None = None,
             groups: tuple[SupportGroup, ...] = (), name: str | None = None,
             locale: str | None = "en") -> User:
        n = self._next()
        user = User(email=f"{role.value}{n}@test.example", name=name or f"{role.value.title()} {n}",
                    role=role, org_unit=org_unit, locale=locale, active=True)
        # A cheap hash: scrypt would cost ~80 ms a user; logins still check it for real.
        user.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        db.session.add(user)
        for group in groups:
            group.members.append(user)
        db.session.flush()
        return user

    def agent(self, *groups: SupportGroup, role: Role = Role.AGENT) -> User:
        return self.user(role=role, groups=groups)

    def group(self, tier: int = 1, kind: GroupKind | None = None, code: str | None = None) -> SupportGroup:
        n = self._next()
        default_kind = {1: GroupKind.SERVICE_DESK, 2: GroupKind.CENTRAL_SUPPORT,
                        3: GroupKind.EXPERT_GROUP}[tier]
        group = SupportGroup(code=code or f"group{n}", name=f"Grupp {n}", name_en=f"Group {n}",
                             tier=tier, kind=kind or default_kind)
        db.session.add(group)
        db.session.flush()
        return group

    def service(self, level1: Level1Choice = Level1Choice.LOCAL_HELPDESK,
                level1_group: SupportGroup | None = None, level2: SupportGroup | None = None,
                level3: tuple[SupportGroup, ...] = (), lifecycle: Lifecycle = Lifecycle.ACTIVE,
                category: str = "", code: str | None = None) -> Service:
        n = self._next()
        service = Service(code=code or f"service{n}", name=f"Tjänst {n}", name_en=f"Service {n}",
                          description="", category=category, lifecycle=lifecycle, level1=level1,
                          level1_group=level1_group, level2_group=level2,
                          level3_groups=list(level3))
        db.session.add(service)
        db.session.flush()
        return service

    def mailbox(self, service: Service, group: SupportGroup | None = None, **imap: Any) -> Mailbox:
        n = self._next()
        settings = {"imap_port": 143, "imap_folder": "INBOX", "imap_ssl": False, **imap}
        mailbox = Mailbox(code=f"box{n}", address=f"support{n}@helpdesk.test", service=service,
                          group=group, active=True, **settings)
        db.session.add(mailbox)
        db.session.flush()
        return mailbox

    def ticket(self, requester: User, service: Service, now: datetime = NOW, **kwargs: Any) -> Ticket:
        fields: dict[str, Any] = {"subject": "Skrivaren skriver inte ut",
                                  "description": "Inget händer när jag skriver ut.",
                                  "impact": 2, "urgency": 2, "ticket_type": TicketType.INCIDENT}
        fields.update(kwargs)
        return create_ticket(requester=requester, service=service, now=now,
                             settings=self.settings, **fields)

    def api_token(self, user: User, scope: str = "write", now: datetime = NOW,
                  expires_at: datetime | None = None) -> str:
        """A personal API token's secret (the API's tests)."""
        from helpdesk.api.tokens import Scope, create_token

        return create_token(user, name=f"token {self._next()}", scope=Scope(scope), now=now,
                            expires_at=expires_at)[1]

    def catalogue_service(self, level2: SupportGroup, *, lifecycle: Lifecycle = Lifecycle.ACTIVE,
                          **entry: Any) -> Service:
        """A service that has passed the publication gate: route, routines, SLA decision."""
        service = self.service(Level1Choice.LOCAL_HELPDESK, level2=level2, lifecycle=lifecycle)
        service.routines = {"level1": "Ask what happened.", "level2": "Check the server."}
        service.no_sla = True
        for name, value in entry.items():
            setattr(service, name, value)
        db.session.flush()
        return service


@pytest.fixture
def factory(session: Any, settings: Settings) -> Factory:
    return Factory(settings)


class TieredOrg:
    """A small organisation with every tier, for flow tests."""

    def __init__(self, f: Factory) -> None:
        self.desk = f.group(1, GroupKind.SERVICE_DESK, code="desk")
        self.local = f.group(1, GroupKind.LOCAL_HELPDESK, code="local")
        self.level2 = f.group(2, code="level2")
        self.level3 = f.group(3, code="level3")
        self.other3 = f.group(3, code="other3")
        self.with_helpdesk = f.org_unit("chem", local_helpdesk=self.local)
        self.without_helpdesk = f.org_unit("admin")
        self.service = f.service(Level1Choice.LOCAL_HELPDESK, level2=self.level2,
                                 level3=(self.level3,), code="mail")
        self.requester = f.user(Role.REQUESTER, org_unit=self.with_helpdesk, name="Anna Requester")
        self.other_requester = f.user(Role.REQUESTER, org_unit=self.with_helpdesk)
        self.local_agent = f.agent(self.local)
        self.desk_agent = f.agent(self.desk)
        self.level2_agent = f.agent(self.level2)
        self.level3_agent = f.agent(self.level3)
        self.other3_agent = f.agent(self.other3)
        self.admin = f.user(Role.ADMIN)


@pytest.fixture
def org(factory: Factory) -> TieredOrg:
    return TieredOrg(factory)


def login(client: FlaskClient, user: User) -> None:
    client.post("/logout")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, "login failed"


def first(model: Any, **where: Any) -> Any:
    return db.session.scalars(select(model).filter_by(**where)).first()


# SLA: calendars, policies and OLAs (added for tests/integration/sla) ----------------------
# Rows in the shapes the org loader writes, so a test may reload the same calendar or policy
# from YAML (helpdesk.org.loader) and have the loader see "unchanged" or "changed" correctly.

from helpdesk.sla.models import Calendar, OlaPolicy, SlaPolicy  # noqa: E402

OFFICE_NAME = "Kontorstid 08–17"
# Business minutes per priority, as examples/demo-org.yaml's "standard" policy.
STANDARD_TARGETS = {"1": {"first_response": 30, "resolution": 240},
                    "2": {"first_response": 60, "resolution": 480},
                    "3": {"first_response": 240, "resolution": 1440},
                    "4": {"first_response": 480, "resolution": 2400}}


def _calendar(self: Factory, code: str = "kontorstid", *, always_open: bool = False,
              extra_closed_days: dict[str, str] | None = None) -> Calendar:
    """Mon–Fri 08–17 Stockholm with Swedish public and de-facto holidays, or 24/7."""
    if always_open:
        hours = {str(d): [["00:00", "24:00"]] for d in range(7)}
        name, country, categories = "Dygnet runt", None, []
    else:
        hours = {str(d): [["08:00", "17:00"]] for d in range(5)}
        name, country, categories = OFFICE_NAME, "SE", ["public", "de_facto"]
    calendar = Calendar(code=code, name=name, timezone="Europe/Stockholm", weekly_hours=hours,
                        holiday_country=country, holiday_categories=categories,
                        extra_closed_days=extra_closed_days or {}, extra_open_days={},
                        shortened_close=None)
    db.session.add(calendar)
    db.session.flush()
    return calendar


def _sla_policy(self: Factory, calendar: Calendar, *, code: str = "standard",
                targets: dict[str, dict[str, int]] | None = None, warning_percent: int = 75,
                paused_states: tuple[str, ...] = ("waiting_for_customer",),
                effects: dict[str, list[str]] | None = None) -> SlaPolicy:
    policy = SlaPolicy(code=code, name=code.title(), calendar=calendar,
                       warning_percent=warning_percent, targets=targets or STANDARD_TARGETS,
                       paused_states=list(paused_states), effects=effects or {})
    db.session.add(policy)
    db.session.flush()
    return policy


def _ola(self: Factory, group: SupportGroup, calendar: Calendar, *, take: int | None = 60,
         handle: int | None = 480, warning_percent: int = 75,
         effects: dict[str, list[str]] | None = None) -> OlaPolicy:
    ola = OlaPolicy(group=group, calendar=calendar, take_minutes=take, handle_minutes=handle,
                    warning_percent=warning_percent, effects=effects or {})
    db.session.add(ola)
    db.session.flush()
    return ola


Factory.calendar = _calendar  # type: ignore[attr-defined]
Factory.sla_policy = _sla_policy  # type: ignore[attr-defined]
Factory.ola = _ola  # type: ignore[attr-defined]


class SlaOrg:
    """``TieredOrg`` with SLA: its service ("mail") under the standard policy on the office
    calendar, a second service without SLA ("SLA saknas"), and an OLA on level 2 (take 1 h,
    handle 8 h). The local helpdesk has a Swedish-speaking lead; agents speak English."""

    def __init__(self, f: Factory, org: TieredOrg) -> None:
        self.org = org
        self.calendar = f.calendar()  # type: ignore[attr-defined]
        self.policy = f.sla_policy(self.calendar)  # type: ignore[attr-defined]
        org.service.sla_policy = self.policy
        self.no_sla_service = f.service(Level1Choice.LOCAL_HELPDESK, level2=org.level2,
                                        code="printing")
        self.level2_ola = f.ola(org.level2, self.calendar)  # type: ignore[attr-defined]
        self.local_lead = f.user(Role.AGENT, groups=(org.local,), name="Lena Lead", locale="sv")
        org.local.lead = self.local_lead
        db.session.flush()


@pytest.fixture
def sla_org(factory: Factory, org: TieredOrg) -> SlaOrg:
    return SlaOrg(factory, org)


@pytest.fixture
def lead(factory: Factory, sla_org: SlaOrg) -> User:
    """A group lead of the local helpdesk: the reader of the manager reports."""
    return factory.user(Role.LEAD, groups=(sla_org.org.local,), name="Lisa Lead")


# External vendors (added for tests/integration/vendors) -----------------------------------

from helpdesk.tickets.operations import take_ticket  # noqa: E402
from helpdesk.tiers.operations import escalate_ticket  # noqa: E402
from helpdesk.vendors.models import (  # noqa: E402
    ServiceVendor,
    Vendor,
    VendorContact,
    VendorContract,
)


def _vendor(self: Factory, code: str, calendar: Calendar, *, case_pattern: str | None = None,
            solved_pattern: str | None = None, domains: tuple[str, ...] = (),
            response: int | None = 60, resolution: int | None = 480,
            effects: dict[str, list[str]] | None = None) -> Vendor:
    """A vendor at support@<code>.example with one contract (the same targets at every
    priority) and one contact, person@<code>.example."""
    vendor = Vendor(code=code, name=f"{code.title()} AB", support_email=f"support@{code}.example",
                    mail_domains=list(domains), case_pattern=case_pattern,
                    solved_pattern=solved_pattern, locale="en", instructions="",
                    contacts=[VendorContact(name="Person", email=f"person@{code}.example",
                                            role="Support")])
    targets = {str(p): {k: v for k, v in (("response", response), ("resolution", resolution))
                        if v is not None} for p in range(1, 5)}
    db.session.add(vendor)
    db.session.add(VendorContract(code=f"{code}-uc", vendor=vendor, name=f"{code.title()} UC",
                                  calendar=calendar, warning_percent=75, targets=targets,
                                  effects=effects or {}))
    db.session.flush()
    return vendor


def _vendor_route(self: Factory, service: Service, vendor: Vendor, from_level: int) -> ServiceVendor:
    route = ServiceVendor(service=service, vendor=vendor, contract=vendor.contracts[0],
                          from_level=from_level)
    db.session.add(route)
    db.session.flush()
    return route


Factory.vendor = _vendor  # type: ignore[attr-defined]
Factory.vendor_route = _vendor_route  # type: ignore[attr-defined]


class VendorOrg:
    """``SlaOrg`` with two vendors for its "mail" service: Acme from level 2 (first answer
    1 h, solution 3 working days: later than the SLA's resolution) and Beta from level 3
    (30 min, 2 h). A ticket of the service sits with level 2, taken by its agent."""

    def __init__(self, f: Factory, sla: SlaOrg, now: datetime) -> None:
        org = sla.org
        self.org, self.sla = org, sla
        self.acme = f.vendor("acme", sla.calendar, case_pattern=r"\bACME-(\d{4,})\b",  # type: ignore[attr-defined]
                             solved_pattern=r"(?i)\bresolved\b", domains=("acme-mail.example",),
                             response=60, resolution=3 * 9 * 60,
                             effects={"warning": ["notify"], "breach": ["notify"]})
        self.beta = f.vendor("beta", sla.calendar, case_pattern=r"(?i)case #(\d+)",  # type: ignore[attr-defined]
                             response=30, resolution=120)
        f.vendor_route(org.service, self.acme, 2)  # type: ignore[attr-defined]
        f.vendor_route(org.service, self.beta, 3)  # type: ignore[attr-defined]
        self.ticket = f.ticket(org.requester, org.service, now)
        escalate_ticket(self.ticket, to_group=org.level2, actor=org.local_agent, reason="L2",
                        now=now, settings=f.settings)
        take_ticket(self.ticket, actor=org.level2_agent, now=now, settings=f.settings)


@pytest.fixture
def vendor_org(factory: Factory, sla_org: SlaOrg, now: datetime) -> VendorOrg:
    return VendorOrg(factory, sla_org, now)


# Another writer on a test's SQLite file (added for the tests of saving while busy) ----------

import sqlite3  # noqa: E402
import threading  # noqa: E402


class OtherWriter:
    """Another process's connection to the test's SQLite file (an agent saving, mail
    ingest writing another ticket): it takes the write lock, writes, and keeps the lock
    until it commits."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def writes(self, sql: str = "UPDATE users SET name = name || '.'",
               params: tuple[Any, ...] = ()) -> None:
        self.connection.execute("BEGIN IMMEDIATE")
        self.connection.execute(sql, params)

    def changes_ticket(self, ticket_id: int) -> None:
        self.writes("UPDATE tickets SET version = version + 1, subject = subject || '.' "
                    "WHERE id = ?", (ticket_id,))

    def commits(self) -> None:
        if self.connection.in_transaction:
            self.connection.execute("COMMIT")

    def commits_after(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self.commits)
        timer.start()
        return timer


@pytest.fixture
def other_process(tmp_path: Path) -> Iterator[OtherWriter]:
    """Another writer on ``tmp_path / "test.sqlite3"``, the file of a test's own app."""
    other = OtherWriter(tmp_path / "test.sqlite3")
    yield other
    other.commits()
    other.connection.close()
