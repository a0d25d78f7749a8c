"""The scheduler process: wakes the sweep and the other jobs, one leader at a time.

Several scheduler processes may run against one database (one per host, say).
Each tick, a process tries to take or renew the lease; only the holder runs the
jobs, inside the same transaction as the lease update, so the lease row stays
locked while it works. If the holder dies, its lease runs out and another
process takes over at its next tick. No timer lives only in memory: every due
time is a column, so a restart finds all the work still there.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from helpdesk.config import Settings, positive_seconds
from helpdesk.core import lease
from helpdesk.core.clock import utcnow
from helpdesk.extensions import db
from helpdesk.sla.sweep import SweepResult, sweep_all
from helpdesk.tickets.operations import auto_close_resolved

log = logging.getLogger(__name__)
LEASE = "scheduler"
# Mails per mailbox and poll: a big backlog is read over several polls, within the lease.
POLL_LIMIT = 200


@dataclass(frozen=True)
class Timing:
    tick: timedelta  # how often each process tries the lease
    lease: timedelta  # how long a lease lasts without renewal (takeover time)
    sweep: timedelta  # how often the leader sweeps
    mail_poll: timedelta = timedelta(minutes=1)  # how often the leader reads the IMAP mailboxes
    # How often every process creates the tickets of requests accepted for later (the API's
    # Prefer: respond-async): not the leader's alone, as each claims its own requests.
    intake: timedelta = timedelta(seconds=1)

    @classmethod
    def from_environment(cls) -> Timing:
        def seconds(name: str, default: float) -> timedelta:
            return timedelta(seconds=positive_seconds(name, default))

        return cls(tick=seconds("HELPDESK_SCHEDULER_TICK_SECONDS", 10),
                   lease=seconds("HELPDESK_SCHEDULER_LEASE_SECONDS", 30),
                   sweep=seconds("HELPDESK_SWEEP_SECONDS", 30),
                   mail_poll=seconds("HELPDESK_MAIL_POLL_SECONDS", 60),
                   intake=seconds("HELPDESK_INTAKE_SECONDS", 1))


@dataclass(frozen=True)
class TickResult:
    leader: bool
    swept: SweepResult | None = None
    closed: tuple[str, ...] = ()


class Leader:
    """One process's turn-taking: ``tick`` is what the timer calls."""

    def __init__(self, app: Flask, timing: Timing, holder: str | None = None) -> None:
        self.app = app
        self.timing = timing
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._last_sweep: datetime | None = None
        self._last_poll: datetime | None = None

    def tick(self, now: datetime | None = None) -> TickResult:
        with self.app.app_context():
            moment = now or utcnow()
            try:
                if not lease.acquire(LEASE, self.holder, moment, self.timing.lease):
                    db.session.rollback()
                    return TickResult(leader=False)
                result = TickResult(leader=True)
                if self._last_sweep is None or moment - self._last_sweep >= self.timing.sweep:
                    settings: Settings = self.app.config["HELPDESK"]
                    swept = sweep_all(now=moment, settings=settings, worker=self.holder)
                    closed = auto_close_resolved(now=moment, settings=settings)
                    result = TickResult(leader=True, swept=swept, closed=tuple(closed))
                db.session.commit()
                if self._last_poll is None or moment - self._last_poll >= self.timing.mail_poll:
                    self._last_poll = moment
                    self._poll_mailboxes()
                if result.swept is not None:
                    self._queue_report_mails(moment)
                self._send_mail(moment)
                # Each post signed when it is sent: ``moment`` came before the sweep, the
                # mailboxes and the mail. A fixed ``now`` is a test's, kept for every post.
                self._send_webhooks(utcnow if now is None else lambda: moment)
                if result.swept is not None:
                    self._last_sweep = moment
                    if result.swept.warnings or result.swept.breaches or result.closed:
                        log.info("%s: %d warnings, %d breaches, %d closed", self.holder,
                                 len(result.swept.warnings), len(result.swept.breaches),
                                 len(result.closed))
                return result
            except Exception:
                db.session.rollback()
                log.exception("scheduler tick failed; the next tick tries again")
                return TickResult(leader=False)
            finally:
                db.session.remove()


    def _poll_mailboxes(self) -> None:
        """Each mailbox on its own: one that cannot be reached does not hold up the others.
        Each commits as it stores (the lease stays ours until it runs out)."""
        from helpdesk.mail.imap import MailboxUnavailable, active_mailboxes, poll

        settings: Settings = self.app.config["HELPDESK"]
        for mailbox in active_mailboxes():
            try:
                result = poll(mailbox, settings=settings, now=utcnow, limit=POLL_LIMIT)
            except MailboxUnavailable as exc:
                log.warning("%s", exc)
                continue
            if result.fetched:
                log.info("%s: %d mails fetched", mailbox.code, result.fetched)


    def _send_mail(self, moment: datetime) -> None:
        """The outbox, every tick: what the last changes queued goes out within seconds."""
        from helpdesk.mail.sender import send_due

        settings: Settings = self.app.config["HELPDESK"]
        if settings.mail.smtp_host:
            result = send_due(now=moment, settings=settings)
            if result.sent or result.stopped:
                log.info("%s", result.summary())


    def _queue_report_mails(self, moment: datetime) -> None:
        """Reports: the subscribed mails of a finished week or month, with the sweep's pace.
        Its own transaction: a report that fails to render never holds up the sweep."""
        from helpdesk.reports.subscriptions import send_due as queue_report_mails

        try:
            queued = queue_report_mails(now=moment, settings=self.app.config["HELPDESK"])
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("report mails failed; the next sweep tries again")
            return
        if queued:
            log.info("%d report mails queued", queued)

    def _send_webhooks(self, clock: Callable[[], datetime]) -> None:
        """Webhook deliveries, every tick, as the outbox's mail."""
        from helpdesk.webhooks.sender import send_due

        result = send_due(clock=clock)
        if result.delivered or result.retrying or result.failed:
            log.info("webhooks: %d delivered, %d to retry, %d given up", result.delivered,
                     result.retrying, result.failed)


def create_accepted_tickets(app: Flask) -> int:
    """The intake job: tickets for the requests accepted since the last run."""
    from helpdesk.tickets.intake import drain

    with app.app_context():
        try:
            result = drain(now=utcnow, settings=app.config["HELPDESK"])
        except Exception:
            db.session.rollback()
            log.exception("ticket intake failed; the next run tries again")
            return 0
        finally:
            db.session.remove()
    if result.created or result.rejected:
        log.info("intake: %d tickets created, %d requests rejected", result.created,
                 result.rejected)
    return result.created


def freeze_startup_objects() -> None:
    """Keep what start-up built out of later garbage collections.

    A scheduler process lives for months, and what exists once the app is built
    (mappers, compiled queries, translations) lives as long; without this every full
    collection walks all of it again, a few tens of milliseconds in the middle of a sweep.
    """
    gc.collect()
    gc.freeze()


def build(app: Flask, *, background: bool, timing: Timing | None = None) -> tuple[BaseScheduler, Leader]:
    timing = timing or Timing.from_environment()
    freeze_startup_objects()
    leader = Leader(app, timing)
    scheduler: BaseScheduler = BackgroundScheduler() if background else BlockingScheduler()
    scheduler.add_job(leader.tick, "interval", seconds=timing.tick.total_seconds(),
                      next_run_time=datetime.now().astimezone(), max_instances=1, coalesce=True,
                      id="tick")
    scheduler.add_job(create_accepted_tickets, "interval", args=[app],
                      seconds=timing.intake.total_seconds(), max_instances=1, coalesce=True,
                      id="intake")
    return scheduler, leader
