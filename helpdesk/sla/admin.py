"""Writing calendars, SLA policies and OLAs: the administrator's screens and the org file.

Both write through the ``apply_*`` functions here, so a calendar or policy changed
either way moves the clocks already running on it in the same way: from ``now`` on,
with the business time counted so far kept (``clocks.recompute``). The input is in
the shape ``helpdesk.org.schemas`` gives (CalendarSchema, SlaPolicySchema,
OlaSchema); the admin forms produce the same shape. Operations flush; the caller
commits.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from helpdesk.catalogue.models import Service
from helpdesk.core.errors import DomainError, InvalidInput
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.org.schemas import WEEKDAYS
from helpdesk.sla import clocks
from helpdesk.sla.models import Calendar, ClockStatus, OlaPolicy, SlaClock, SlaPolicy
from helpdesk.tiers.models import SupportGroup
from helpdesk.vendors.models import VendorContract


def calendar_row_values(item: dict[str, Any]) -> dict[str, Any]:
    """A calendar in the org file's shape, in the shape the Calendar row stores."""
    holidays = item["holidays"]
    return {
        "name": item["name"],
        "timezone": item["timezone"],
        "weekly_hours": {str(WEEKDAYS.index(day)): spans
                         for day, spans in item["weekly_hours"].items()},
        "holiday_country": holidays["country"] if holidays else None,
        "holiday_categories": list(holidays["categories"]) if holidays else [],
        "extra_closed_days": {d.isoformat(): why for d, why in item["extra_closed_days"].items()},
        "extra_open_days": {d.isoformat(): spans for d, spans in item["extra_open_days"].items()},
        "shortened_close": item["shortened_close"],
    }


def running_clocks(condition: Any) -> list[SlaClock]:
    """Clocks that have not stopped (running or paused) and match ``condition``."""
    return list(db.session.scalars(
        select(SlaClock).where(condition, SlaClock.status != ClockStatus.STOPPED)).all())


# The writers the org loader shares --------------------------------------------------------


def apply_calendar(calendar: Calendar, item: dict[str, Any], now: datetime) -> int:
    """Write a calendar; clocks on it count by the new one from ``now``. Returns how many."""
    before = clocks.business_calendar(calendar) if calendar.id else None
    for attr, value in calendar_row_values(item).items():
        setattr(calendar, attr, value)
    db.session.flush()
    # The name is only a label: renaming a calendar changes no clock.
    if before is None or replace(before, name=calendar.name) == calendar.business_calendar():
        return 0
    moved = running_clocks(SlaClock.calendar_id == calendar.id)
    for clock in moved:
        clocks.recompute(clock, now, reason="calendar", old_calendar=before)
    return len(moved)


def apply_sla_policy(policy: SlaPolicy, item: dict[str, Any], calendar: Calendar,
                     now: datetime) -> int:
    """Write a policy; its running clocks follow changed targets, calendar and warning
    threshold from ``now``, keeping the time already counted. Returns how many moved."""
    old_targets = dict(policy.targets or {})
    old_calendar = policy.calendar if policy.id else None
    old_warning = policy.warning_percent
    policy.name, policy.warning_percent = item["name"], item["warning_percent"]
    policy.calendar = calendar
    policy.paused_states = list(item["paused_states"])
    policy.targets = {
        name[1:]: {metric: minutes for metric, minutes in targets.items() if minutes}
        for name, targets in item["targets"].items()
    }
    policy.effects = {kind: list(names) for kind, names in item["effects"].items()}
    db.session.flush()
    calendar_moved = old_calendar is not None and old_calendar.id != calendar.id
    if not old_targets or (old_targets == policy.targets and not calendar_moved
                           and old_warning == policy.warning_percent):
        return 0
    moved = 0
    for clock in running_clocks(SlaClock.sla_policy_id == policy.id):
        minutes = policy.target_minutes(clock.ticket.priority, clock.metric.value)
        clock.warning_percent = policy.warning_percent
        clocks.recompute(
            clock, now, reason="calendar" if calendar_moved else "policy",
            target_minutes=minutes, calendar=calendar if calendar_moved else None,
            old_calendar=clocks.business_calendar(old_calendar) if calendar_moved and old_calendar
            else None)
        moved += 1
    return moved


def apply_ola(group: SupportGroup, item: dict[str, Any], calendar: Calendar) -> OlaPolicy:
    """Write a group's OLA. New targets apply to clocks started from now on."""
    ola = db.session.scalar(select(OlaPolicy).where(OlaPolicy.group_id == group.id))
    ola = ola or OlaPolicy(group=group)
    db.session.add(ola)
    ola.calendar = calendar
    ola.take_minutes, ola.handle_minutes = item["take"], item["handle"]
    ola.warning_percent = item["warning_percent"]
    ola.effects = {kind: list(names) for kind, names in item["effects"].items()}
    return ola


def delete_ola(group: SupportGroup) -> bool:
    """The group promises nothing more; False if it had no OLA.

    Its clocks keep their history and count on to the target they started with,
    but no longer belong to a policy, so a warning or breach triggers nothing.
    """
    ola = db.session.scalar(select(OlaPolicy).where(OlaPolicy.group_id == group.id))
    if ola is None:
        return False
    for clock in db.session.scalars(select(SlaClock).where(SlaClock.ola_policy_id == ola.id)):
        clock.ola_policy = None
    db.session.delete(ola)
    db.session.flush()
    return True


def delete_calendar(calendar: Calendar) -> None:
    """Delete a calendar nothing counts by (one made by mistake, say); DomainError says how
    many policies, OLAs, vendor contracts and clocks still do. A clock keeps the calendar
    it counted by for good: its explanation is worked out from it."""
    uses = {name: _count(select(model.id).where(model.calendar_id == calendar.id))
            for name, model in (("policies", SlaPolicy), ("olas", OlaPolicy),
                                ("contracts", VendorContract), ("clocks", SlaClock))}
    if any(uses.values()):
        raise DomainError(CALENDAR_IN_USE, name=calendar.name, **uses)
    db.session.delete(calendar)
    db.session.flush()


def delete_sla_policy(policy: SlaPolicy) -> None:
    """Delete an SLA policy no service and no clock has; DomainError says how many do."""
    uses = {"services": _count(select(Service.id).where(Service.sla_policy_id == policy.id)),
            "clocks": _count(select(SlaClock.id).where(SlaClock.sla_policy_id == policy.id))}
    if any(uses.values()):
        raise DomainError(POLICY_IN_USE, name=policy.name, **uses)
    db.session.delete(policy)
    db.session.flush()


def _count(query: Select[Any]) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


# What the admin screens call --------------------------------------------------------------

CODE_TAKEN = N_("This code is used already; choose another.")
CALENDAR_IN_USE = N_("The calendar %(name)s is still in use (SLA policies: %(policies)s, OLAs: "
                     "%(olas)s, vendor contracts: %(contracts)s, clocks: %(clocks)s), so it is "
                     "kept. A calendar can be deleted only while nothing counts by it.")
POLICY_IN_USE = N_("The SLA policy %(name)s is still in use (services: %(services)s, clocks: "
                   "%(clocks)s), so it is kept. A policy can be deleted only while no service "
                   "and no clock has it.")
NO_CALENDAR = N_("Choose a calendar.")
NOT_A_CALENDAR = N_("These hours and days do not make a calendar; check the opening hours.")


def _calendar_by_code(code: str) -> Calendar:
    calendar = db.session.scalar(select(Calendar).where(Calendar.code == code))
    if calendar is None:
        raise InvalidInput({"calendar": [NO_CALENDAR]})
    return calendar


def save_calendar(item: dict[str, Any], *, calendar: Calendar | None, now: datetime) -> int:
    """Create (``calendar=None``, code in ``item``) or change a calendar.

    Returns how many running clocks were recomputed.
    """
    try:
        Calendar(code="check", **calendar_row_values(item)).business_calendar()
    except ValueError as exc:
        raise InvalidInput({"weekly_hours": [NOT_A_CALENDAR]}) from exc
    if calendar is None:
        if db.session.scalar(select(Calendar.id).where(Calendar.code == item["code"])):
            raise InvalidInput({"code": [CODE_TAKEN]})
        calendar = Calendar(code=item["code"])
        db.session.add(calendar)
    return apply_calendar(calendar, item, now)


def save_sla_policy(item: dict[str, Any], *, policy: SlaPolicy | None, now: datetime) -> int:
    """Create (``policy=None``, code in ``item``) or change an SLA policy.

    Returns how many running clocks were recomputed.
    """
    calendar = _calendar_by_code(item["calendar"])
    if policy is None:
        if db.session.scalar(select(SlaPolicy.id).where(SlaPolicy.code == item["code"])):
            raise InvalidInput({"code": [CODE_TAKEN]})
        policy = SlaPolicy(code=item["code"])
        db.session.add(policy)
    return apply_sla_policy(policy, item, calendar, now)


def save_ola(group: SupportGroup, item: dict[str, Any]) -> OlaPolicy:
    """Give a group an OLA, or change the one it has."""
    ola = apply_ola(group, item, _calendar_by_code(item["calendar"]))
    db.session.flush()
    return ola
