"""Calendars, SLA policies, OLAs and the clocks they run on tickets.

A clock row is the current state of one promise on one ticket (first response,
resolution, or a group's OLA). Its start/pause/resume/stop history is in the
ticket's TicketEvents; ``elapsed_us`` and ``segment_started_at`` are what that
history adds up to, kept on the row so the sweep never has to replay it.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.core.types import UTCDateTime, value_enum
from helpdesk.extensions import db
from helpdesk.sla.calendar import BusinessCalendar

if TYPE_CHECKING:
    from helpdesk.tickets.models import Ticket
    from helpdesk.tiers.models import SupportGroup
    from helpdesk.vendors.models import VendorHandoff



def _time(text: str) -> time:
    # "24:00" is the end of the day, written time(0) in the calendar's convention.
    return time(0) if text == "24:00" else time.fromisoformat(text)


class Calendar(db.Model):  # type: ignore[name-defined]
    """Business hours as data; ``business_calendar()`` gives the pure calendar."""

    __tablename__ = "calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Stockholm")
    # {"0": [["08:00", "17:00"]], ...}: weekday (0 = Monday) -> local intervals.
    weekly_hours: Mapped[dict[str, list[list[str]]]] = mapped_column(JSON)
    holiday_country: Mapped[str | None] = mapped_column(String(8))
    holiday_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    extra_closed_days: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    extra_open_days: Mapped[dict[str, list[list[str]]]] = mapped_column(JSON, default=dict)
    shortened_close: Mapped[str | None] = mapped_column(String(5))

    def business_calendar(self) -> BusinessCalendar:
        # Equal definitions give equal (hashable) calendars, which share the year tables.
        return BusinessCalendar(
            self.name,
            weekly_hours={
                int(day): tuple((_time(a), _time(b)) for a, b in spans)
                for day, spans in self.weekly_hours.items()
            },
            timezone=self.timezone,
            holiday_country=self.holiday_country,
            holiday_categories=tuple(self.holiday_categories or ()),
            extra_closed_days={date.fromisoformat(d): why
                               for d, why in (self.extra_closed_days or {}).items()},
            extra_open_days={
                date.fromisoformat(d): tuple((_time(a), _time(b)) for a, b in spans)
                for d, spans in (self.extra_open_days or {}).items()
            },
            shortened_close=_time(self.shortened_close) if self.shortened_close else None,
            half_day_categories=("bank",) if self.shortened_close else (),
        )


class Metric(enum.StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"
    OLA_TAKE = "ola_take"  # how long the ticket waits in a group's queue before someone takes it
    OLA_HANDLE = "ola_handle"  # how long the group keeps it before passing it on or resolving
    # A vendor's underpinning contract (UC), on a handoff: first answer, and solution.
    UC_RESPONSE = "uc_response"
    UC_RESOLUTION = "uc_resolution"


SLA_METRICS = frozenset({Metric.FIRST_RESPONSE, Metric.RESOLUTION})
OLA_METRICS = frozenset({Metric.OLA_TAKE, Metric.OLA_HANDLE})
UC_METRICS = frozenset({Metric.UC_RESPONSE, Metric.UC_RESOLUTION})


class SlaPolicy(db.Model):  # type: ignore[name-defined]
    """Targets per priority, when to warn, what pauses the clock, and what a breach does."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id"))
    warning_percent: Mapped[int] = mapped_column(Integer, default=75)
    # {"1": {"first_response": 30, "resolution": 240}, ...}: business minutes per priority.
    targets: Mapped[dict[str, dict[str, int]]] = mapped_column(JSON)
    # Workflow states in which the customer's clocks do not run.
    paused_states: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["waiting_for_customer"])
    # {"warning": ["notify"], "breach": ["notify", "raise_priority"]}
    effects: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    # Reports: the service credits a month under target earns, per metric (reports/credits.py):
    # {"resolution": {"target_percent": 95, "credit_percent_per_point": 2, "max_credit_percent": 10}}
    service_credits: Mapped[dict[str, dict[str, float]] | None] = mapped_column(JSON)

    calendar: Mapped[Calendar] = relationship()

    def target_minutes(self, priority: int, metric: str) -> int | None:
        return (self.targets or {}).get(str(priority), {}).get(metric)


class OlaPolicy(db.Model):  # type: ignore[name-defined]
    """A support group's own promise to the others: take it, then pass it on or solve it."""

    __tablename__ = "ola_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("support_groups.id"), unique=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id"))
    take_minutes: Mapped[int | None] = mapped_column(Integer)
    handle_minutes: Mapped[int | None] = mapped_column(Integer)
    warning_percent: Mapped[int] = mapped_column(Integer, default=75)
    # {"breach": ["notify", "escalate"]}: escalate = functional escalation to the next tier.
    effects: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)

    group: Mapped[SupportGroup] = relationship()
    calendar: Mapped[Calendar] = relationship()


class ClockStatus(enum.StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


class SlaClock(db.Model):  # type: ignore[name-defined]
    __tablename__ = "sla_clocks"
    __table_args__ = (
        # The sweep's only question: which clocks need attention by now?
        Index("ix_sla_clocks_attention", "next_attention_at"),
        Index("ix_sla_clocks_ticket", "ticket_id", "metric"),
        # Reports: the clocks decided (stopped) in a period.
        Index("ix_sla_clocks_stopped", "stopped_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    metric: Mapped[Metric] = mapped_column(value_enum(Metric, 20))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("support_groups.id"))
    sla_policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id"))
    ola_policy_id: Mapped[int | None] = mapped_column(ForeignKey("ola_policies.id"))
    # A UC clock runs for one vendor handoff, under the handoff's contract.
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("vendor_handoffs.id"))
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id"))
    target_us: Mapped[int] = mapped_column(BigInteger)
    warning_percent: Mapped[int] = mapped_column(Integer)
    status: Mapped[ClockStatus] = mapped_column(value_enum(ClockStatus, 10))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Business time counted before the running segment (or in total, when not running).
    elapsed_us: Mapped[int] = mapped_column(BigInteger, default=0)
    segment_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attention_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="clocks")
    calendar: Mapped[Calendar] = relationship()
    group: Mapped[SupportGroup | None] = relationship()
    sla_policy: Mapped[SlaPolicy | None] = relationship()
    ola_policy: Mapped[OlaPolicy | None] = relationship()
    handoff: Mapped[VendorHandoff | None] = relationship()

    @property
    def state(self) -> str:
        """running, paused, met or breached: what a person asks about a clock."""
        if self.breached_at is not None:
            return "breached"
        if self.status == ClockStatus.STOPPED:
            return "met"
        return self.status.value

    @property
    def effects(self) -> dict[str, list[str]]:
        policy: Any = self.sla_policy or self.ola_policy or (
            self.handoff.contract if self.handoff is not None else None)
        return dict(policy.effects or {}) if policy else {}


class AlertKind(enum.StrEnum):
    WARNING = "warning"
    BREACH = "breach"


class SlaAlert(db.Model):  # type: ignore[name-defined]
    """A warning or breach that happened. The constraint makes each one happen once."""

    __tablename__ = "sla_alerts"
    __table_args__ = (UniqueConstraint("clock_id", "kind", name="uq_sla_alerts_clock_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("sla_clocks.id"))
    kind: Mapped[AlertKind] = mapped_column(value_enum(AlertKind, 10))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(100))

    clock: Mapped[SlaClock] = relationship()
