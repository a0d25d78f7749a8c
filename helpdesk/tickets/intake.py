"""Asynchronous ticket intake: accept a ticket request now, create the ticket moments later.

A monitoring system that opens a hundred incidents in a second, or an e-service
platform that forwards a morning's cases at once, should not wait while each ticket
is routed, clocked and acknowledged. Such a caller asks for ``Prefer: respond-async``
(RFC 7240): the request is checked as a creation would be, stored here as one row,
and answered with 202 Accepted and the address of this row. The drain turns pending
rows into tickets in batches, through ``create_ticket``, with the time the request
was accepted: the SLA clocks count from then, not from when the drain got to it.

A request the drain cannot turn into a ticket (the service was retired in between,
say) is kept as rejected, with the reason in Swedish and English: nothing is lost
silently. One the database could not take just then (a connection lost, a deadlock)
stays pending for the next drain: the request itself is not at fault. Processed rows
are kept for ``KEEP_PROCESSED`` so the caller can read them.
"""

from __future__ import annotations

import enum
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import force_locale, gettext
from sqlalchemy import JSON, ForeignKey, Index, delete, insert, select
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from helpdesk.accounts.models import User
from helpdesk.catalogue.models import Service
from helpdesk.catalogue.queries import service_to_order
from helpdesk.config import Settings
from helpdesk.core import bulk
from helpdesk.core.concurrency import is_transient, write_intent
from helpdesk.core.errors import DomainError
from helpdesk.core.i18n import N_
from helpdesk.core.types import UTCDateTime, value_enum
from helpdesk.extensions import db
from helpdesk.tickets.history import record
from helpdesk.tickets.models import Channel, Ticket, TicketType
from helpdesk.tickets.operations import checked_request, create_ticket, service_for_new_ticket
from helpdesk.tickets.references import reserve_references

log = logging.getLogger(__name__)

# What a caller may still read about a processed request; the drain forgets older rows.
KEEP_PROCESSED = timedelta(days=7)
# The drain runs every second: a request made a ticket this long after it was accepted waited
# for a reason (no drain running, a rejection tried again), which its ticket's history says.
LATE = timedelta(minutes=1)
# Tickets per transaction; larger batches gain little, as the per-ticket work dominates by
# then. On SQLite a batch holds the database's write lock while it runs (some 25 ms for
# 10), which the API's writes wait out: batches of 20 left requests accepted beside the
# drain a p95 of 45 ms, of 10 one of 28 ms, of 5 cost a third of the drain's rate.
BATCH = 50
BATCH_SQLITE = 10
# Between SQLite batches: longer than the 0.5 ms in which a waiting API write tries for the
# lock again (core.concurrency), so one that waits gets in even if the drain's own work
# before its next batch is quick; no longer, as a drain catching up on a backlog would idle
# (pausing as long as each batch took cost it more than half its rate).
SQLITE_PAUSE = 0.002
LANGUAGES = ("sv", "en")
BROKEN = N_("The ticket could not be created because of an error on our side. Please send the "
            "request again.")


class IntakeStatus(enum.StrEnum):
    PENDING = "pending"
    CREATED = "created"
    REJECTED = "rejected"


class TicketIntake(db.Model):  # type: ignore[name-defined]
    __tablename__ = "ticket_intake"
    __table_args__ = (Index("ix_ticket_intake_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The checked request: service code, subject, description, impact, urgency, type,
    # confidential, as the API's creation schema loaded them.
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[IntakeStatus] = mapped_column(value_enum(IntakeStatus, 10),
                                                 default=IntakeStatus.PENDING)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    # Why a rejected request did not become a ticket, by language: {"sv": …, "en": …}.
    reason: Mapped[dict[str, str] | None] = mapped_column(JSON)

    requester: Mapped[User] = relationship()
    ticket: Mapped[Ticket | None] = relationship()
    retries: Mapped[list[IntakeRetry]] = relationship(
        order_by="IntakeRetry.id", cascade="all, delete-orphan", passive_deletes=True)

    def reason_in(self, language: str) -> str | None:
        return _in_language(self.reason, language)


class IntakeRetry(db.Model):  # type: ignore[name-defined]
    """An administrator gave a rejected request back to the drain: who, when, and the
    rejection given up, which the request itself no longer shows."""

    __tablename__ = "ticket_intake_retries"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("ticket_intake.id", ondelete="CASCADE"),
                                           index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The rejection's reason by language, as it stood: {"sv": …, "en": …}.
    reason: Mapped[dict[str, str] | None] = mapped_column(JSON)

    by: Mapped[User] = relationship()

    def reason_in(self, language: str) -> str | None:
        return _in_language(self.reason, language)


def _in_language(reason: dict[str, str] | None, language: str) -> str | None:
    if not reason:
        return None
    return reason.get(language) or reason.get("en")


def accept_request(requester: User, request: dict[str, Any], *, now: datetime) -> TicketIntake:
    """Store a checked ticket request for the drain (``request`` as the creation schema
    loaded it). The checks creation makes before it writes anything are made now, so that
    a caller hears of a wrong service at once; DomainError says why."""
    # The answers are kept checked, as the portal keeps them: the form may change before
    # the drain runs.
    _service, answers = checked_request(request["service"], requester, TicketType(request["type"]),
                                        request.get("answers") or {})
    kept = {key: value for key, value in request.items() if key != "answers"}
    values = {"requester_id": requester.id, "request": {**kept, "form_answers": answers},
              "accepted_at": now,
              "status": IntakeStatus.PENDING.value}
    if db.engine.dialect.name == "sqlite":
        # What was read is done with: the row goes in by a transaction of its own, so that
        # the database's write lock is held for one INSERT, not for the reading before it
        # (the API takes it up front for its other writes, see ``write_intent``).
        db.session.commit()
    table = TicketIntake.__table__
    intent = write_intent.set(True)
    try:
        new_id = db.session.execute(
            insert(table).values(values).returning(table.c.id)).scalar_one()
    finally:
        write_intent.reset(intent)
    return TicketIntake(id=new_id, **{**values, "status": IntakeStatus.PENDING})


def intake_of(requester: User, intake_id: int) -> TicketIntake | None:
    """The request if ``requester`` sent it; nobody else learns that it exists."""
    intake = db.session.get(TicketIntake, intake_id, options=[joinedload(TicketIntake.ticket)])
    return intake if intake is not None and intake.requester_id == requester.id else None


@dataclass(frozen=True)
class DrainResult:
    created: int = 0
    rejected: int = 0

    def __add__(self, other: DrainResult) -> DrainResult:
        return DrainResult(self.created + other.created, self.rejected + other.rejected)


def drain(*, now: Callable[[], datetime], settings: Settings, batch: int | None = None,
          limit: int | None = None, stop: Callable[[], bool] = lambda: False) -> DrainResult:
    """Turn pending requests into tickets, a batch per transaction, until none is left (or
    ``limit`` requests are done, or ``stop()`` says so between batches). Several drains may
    run at once: each claims its own rows."""
    sqlite = db.engine.dialect.name == "sqlite"
    batch = batch or (BATCH_SQLITE if sqlite else BATCH)
    total = DrainResult()
    while (limit is None or total.created + total.rejected < limit) and not stop():
        size = batch if limit is None else min(batch, limit - total.created - total.rejected)
        done = _drain_batch(now=now(), settings=settings, size=size)
        total += done
        if done.created + done.rejected < size:
            break
        if sqlite:
            # Writers poll for SQLite's write lock, they do not queue: a moment without it
            # lets a waiting API write in before the next batch (see SQLITE_PAUSE).
            time.sleep(SQLITE_PAUSE)
    return total


def _claim(size: int, only: int | None = None) -> list[TicketIntake]:
    """Pending requests for this drain alone: on PostgreSQL locked, skipping those another
    drain holds; on SQLite the write lock, taken before this read, keeps them ours."""
    query = (select(TicketIntake).where(TicketIntake.status == IntakeStatus.PENDING)
             .order_by(TicketIntake.id).limit(size))
    if only is not None:
        query = query.where(TicketIntake.id == only)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(db.session.scalars(query))


class _TryLater(Exception):
    """The database could not take the work just now: the requests stay pending."""


def _drain_batch(*, now: datetime, settings: Settings, size: int) -> DrainResult:
    """A batch's requests made tickets or rejected; fewer than claimed (so that the drain
    stops until its next run) if the database failed for the moment."""
    token = write_intent.set(True)  # SQLite: take the write lock before reading the claim
    try:
        rows = _claim(size)
        if not rows:
            _forget_processed(now)
            db.session.commit()
            return DrainResult()
        claimed = [row.id for row in rows]
        try:
            result = _committed(rows, now=now, settings=settings)
        except _TryLater:
            return DrainResult()
        if result is not None:
            return result
        # A failure no check foresaw: each request alone, so one bad request rejects only itself.
        done = DrainResult()
        for intake_id in claimed:
            try:
                done += _create_one(intake_id, now=now, settings=settings)
            except _TryLater:
                break
        return done
    finally:
        write_intent.reset(token)


def _committed(rows: list[TicketIntake], *, now: datetime, settings: Settings) -> DrainResult | None:
    """The requests made tickets and committed; None (all rolled back) if that failed, or
    _TryLater if the database, not the requests, was at fault."""
    ids = [row.id for row in rows]
    try:
        result = _create_all(rows, now=now, settings=settings)
        db.session.commit()
        return result
    except Exception as exc:
        db.session.rollback()
        if is_transient(exc):
            log.warning("ticket requests %s left pending for the next drain: %s", ids, exc)
            raise _TryLater from exc
        log.exception("ticket requests %s could not be created", ids)
        return None


def _create_one(intake_id: int, *, now: datetime, settings: Settings) -> DrainResult:
    """One request in a transaction of its own; if even that fails, it is rejected (but
    _TryLater, the request left pending, when the database was at fault)."""
    rows = _claim(1, only=intake_id)
    if not rows:  # done meanwhile by another drain, or held by one now
        db.session.rollback()
        return DrainResult()
    result = _committed(rows, now=now, settings=settings)
    if result is not None:
        return result
    rows = _claim(1, only=intake_id)
    if not rows:
        db.session.rollback()
        return DrainResult()
    _reject(rows[0], DomainError(BROKEN), now)
    db.session.commit()
    return DrainResult(rejected=1)


def _create_all(rows: list[TicketIntake], *, now: datetime, settings: Settings) -> DrainResult:
    requesters = _requesters({row.requester_id for row in rows})
    services = {code: service_to_order(code) for code in {row.request["service"] for row in rows}}
    # Checked before any number is taken: a rejected request leaves no gap in the numbering.
    ready: list[tuple[TicketIntake, Service]] = []
    for row in rows:
        try:
            service = service_for_new_ticket(row.request["service"], requesters[row.requester_id],
                                             TicketType(row.request["type"]), find=services.get)
        except DomainError as exc:
            _reject(row, exc, now)
            continue
        ready.append((row, service))
    years = Counter(row.accepted_at.year for row, _ in ready)
    # A drain catching up after an outage finds every row late: their retries in one read.
    last_retries = _last_retries([row.id for row, _ in ready if now - row.accepted_at > LATE])
    created: list[tuple[TicketIntake, Ticket]] = []
    # One flush for the whole batch: nothing below reads back what an earlier ticket wrote.
    with db.session.no_autoflush, bulk.inserted_together():
        reserve_references(years)
        for row, service in ready:
            request = row.request
            ticket = create_ticket(
                requester=requesters[row.requester_id], service=service,
                subject=request["subject"], description=request["description"],
                impact=request["impact"], urgency=request["urgency"],
                ticket_type=TicketType(request["type"]), confidential=request["confidential"],
                channel=Channel.API, now=row.accepted_at, made_at=now, settings=settings,
                form_answers=request.get("form_answers"))
            if now - row.accepted_at > LATE:
                _record_made_late(ticket, row, now, last_retries.get(row.id))
            created.append((row, ticket))
    db.session.flush()
    for row, ticket in created:
        row.ticket_id = ticket.id
        row.status = IntakeStatus.CREATED
        row.processed_at = now
    return DrainResult(created=len(created), rejected=len(rows) - len(ready))


def _last_retries(intake_ids: list[int]) -> dict[int, IntakeRetry]:
    if not intake_ids:
        return {}
    retries = db.session.scalars(select(IntakeRetry).where(IntakeRetry.intake_id.in_(intake_ids))
                                 .options(joinedload(IntakeRetry.by)).order_by(IntakeRetry.id))
    return {retry.intake_id: retry for retry in retries}  # the latest per request wins


def _record_made_late(ticket: Ticket, row: TicketIntake, now: datetime,
                      retry: IntakeRetry | None) -> None:
    """The ticket's history shows it created when its request was accepted, as its clocks
    count from then; this line says when it was really made, and who tried it again."""
    record(ticket, "made_from_request", actor=retry.by if retry else None, now=now,
           request=row.id, retried=retry is not None)


def _requesters(ids: set[int]) -> dict[int, User]:
    # Each with the unit and its local helpdesk that routing reads.
    from helpdesk.org.models import OrgUnit

    users = db.session.scalars(select(User).where(User.id.in_(sorted(ids))).options(
        joinedload(User.org_unit).joinedload(OrgUnit.local_helpdesk)))
    return {user.id: user for user in users}


def _reject(row: TicketIntake, exc: DomainError, now: datetime) -> None:
    reason = {}
    for language in LANGUAGES:
        with force_locale(language):
            reason[language] = exc.render(gettext)
    row.status = IntakeStatus.REJECTED
    row.reason = reason
    row.processed_at = now


def _forget_processed(now: datetime) -> None:
    db.session.execute(delete(TicketIntake).where(TicketIntake.processed_at < now - KEEP_PROCESSED))
