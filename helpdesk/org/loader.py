"""``helpdesk org load FILE``: an organisation kept as one YAML file.

The whole file is checked before anything is written, and written in one
transaction, so a broken file changes nothing. Every error names the file, the
path inside it (``services[3].level2_group``) and what is wrong. Loading again
updates what exists by code or e-mail address.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError
from sqlalchemy import delete, select

from helpdesk.accounts.models import Role, User
from helpdesk.catalogue import org_file as catalogue_file
from helpdesk.catalogue.models import Level1Choice, Lifecycle, RoutingRule, Service
from helpdesk.core.clock import utcnow
from helpdesk.extensions import db
from helpdesk.mail.models import Mailbox
from helpdesk.org.models import OrgUnit
from helpdesk.org.schemas import OrganisationSchema
from helpdesk.sla import admin as sla_admin
from helpdesk.sla.admin import calendar_row_values
from helpdesk.sla.models import Calendar, SlaPolicy
from helpdesk.tiers.models import GroupKind, SupportGroup
from helpdesk.vendors import loading as vendor_loading


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


class OrgFileError(ValueError):
    def __init__(self, filename: str, problems: list[Problem]) -> None:
        self.filename = filename
        self.problems = problems
        lines = [f"{filename}: {p.path}: {p.message}" if p.path else f"{filename}: {p.message}"
                 for p in problems]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class LoadSummary:
    calendars: int
    sla_policies: int
    org_units: int
    groups: int
    services: int
    users: int
    routing_rules: int
    vendors: int = 0


def _flatten(messages: Any, path: str = "") -> Iterator[Problem]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            if isinstance(key, int):
                child = f"{path}[{key}]"
            elif key == "_schema":
                child = path
            else:
                child = f"{path}.{key}" if path else str(key)
            yield from _flatten(value, child)
    elif isinstance(messages, list):
        for message in messages:
            yield from _flatten(message, path)
    else:
        yield Problem(path, str(messages))


def parse(text: str, filename: str) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise OrgFileError(filename, [Problem(where, f"not valid YAML: {exc}")]) from exc
    if not isinstance(raw, dict):
        raise OrgFileError(filename, [Problem("", "the file must hold a mapping at the top")])
    try:
        data: dict[str, Any] = OrganisationSchema().load(raw)
    except ValidationError as exc:
        raise OrgFileError(filename, sorted(_flatten(exc.messages), key=lambda p: p.path)) from exc
    problems = list(_cross_check(data))
    if problems:
        raise OrgFileError(filename, problems)
    return data


def _duplicates(items: list[dict[str, Any]], key: str, section: str) -> Iterator[Problem]:
    counts = Counter(item[key] for item in items)
    for index, item in enumerate(items):
        if counts[item[key]] > 1:
            yield Problem(f"{section}[{index}].{key}", f"{item[key]!r} appears more than once")


def _existing_codes(model: Any, column: Any) -> set[str]:
    return set(db.session.scalars(select(column)).all())


def _check_sla(data: dict[str, Any]) -> Iterator[Problem]:
    yield from _duplicates(data["calendars"], "code", "calendars")
    yield from _duplicates(data["sla_policies"], "code", "sla_policies")
    for i, item in enumerate(data["calendars"]):
        try:
            Calendar(code=item["code"], **calendar_row_values(item)).business_calendar()
        except ValueError as exc:
            yield Problem(f"calendars[{i}]", str(exc))
    calendars = {c["code"] for c in data["calendars"]} | _existing_codes(Calendar, Calendar.code)
    policies = {p["code"] for p in data["sla_policies"]} | _existing_codes(SlaPolicy,
                                                                            SlaPolicy.code)
    for i, policy in enumerate(data["sla_policies"]):
        if policy["calendar"] not in calendars:
            yield Problem(f"sla_policies[{i}].calendar", f"unknown calendar {policy['calendar']!r}")
    for i, group in enumerate(data["groups"]):
        ola = group["ola"]
        if ola and ola["calendar"] not in calendars:
            yield Problem(f"groups[{i}].ola.calendar", f"unknown calendar {ola['calendar']!r}")
    for i, service in enumerate(data["services"]):
        if service["sla_policy"] and service["sla_policy"] not in policies:
            yield Problem(f"services[{i}].sla_policy",
                          f"unknown SLA policy {service['sla_policy']!r}")


def _cross_check(data: dict[str, Any]) -> Iterator[Problem]:
    yield from _check_sla(data)
    yield from _check_vendors(data)
    yield from _duplicates(data["org_units"], "code", "org_units")
    yield from _duplicates(data["groups"], "code", "groups")
    yield from _duplicates(data["services"], "code", "services")
    yield from _duplicates(data["users"], "email", "users")
    groups = {g["code"]: g for g in data["groups"]}
    known_groups = set(groups) | _existing_codes(SupportGroup, SupportGroup.code)
    tier_of = {g["code"]: g["tier"] for g in data["groups"]}
    for group in db.session.scalars(select(SupportGroup)).all():
        tier_of.setdefault(group.code, group.tier)
    users = {u["email"] for u in data["users"]} | _existing_codes(User, User.email)
    units = {u["code"] for u in data["org_units"]} | _existing_codes(OrgUnit, OrgUnit.code)
    services = {s["code"] for s in data["services"]} | _existing_codes(Service, Service.code)

    def group_ref(path: str, code: str | None, tier: int | None = None) -> Iterator[Problem]:
        if code is None:
            return
        if code not in known_groups:
            yield Problem(path, f"unknown group {code!r}")
        elif tier is not None and tier_of.get(code) != tier:
            yield Problem(path, f"group {code!r} is at tier {tier_of.get(code)}, not {tier}")

    for i, unit in enumerate(data["org_units"]):
        helpdesk = unit["local_helpdesk"]
        yield from group_ref(f"org_units[{i}].local_helpdesk", helpdesk, 1)
        if helpdesk in groups and groups[helpdesk]["kind"] != GroupKind.LOCAL_HELPDESK.value:
            yield Problem(f"org_units[{i}].local_helpdesk",
                          f"group {helpdesk!r} is not a local_helpdesk")
    for i, group in enumerate(data["groups"]):
        for j, member in enumerate(group["members"]):
            if member not in users:
                yield Problem(f"groups[{i}].members[{j}]", f"unknown user {member!r}")
        if group["lead"] and group["lead"] not in users:
            yield Problem(f"groups[{i}].lead", f"unknown user {group['lead']!r}")
    needs_desk = False
    for i, service in enumerate(data["services"]):
        yield from group_ref(f"services[{i}].level1_group", service["level1_group"], 1)
        yield from group_ref(f"services[{i}].level2_group", service["level2_group"], 2)
        for j, code in enumerate(service["level3_groups"]):
            yield from group_ref(f"services[{i}].level3_groups[{j}]", code, 3)
        needs_desk |= service["level1"] != Level1Choice.GROUP.value
    has_desk = any(g["kind"] == GroupKind.SERVICE_DESK.value for g in data["groups"]) or (
        db.session.scalar(select(SupportGroup.id).where(SupportGroup.kind == GroupKind.SERVICE_DESK))
        is not None
    )
    if needs_desk and not has_desk:
        yield Problem("groups", "services route to the central service desk, but no group "
                                "has kind service_desk")
    # The catalogue's entries: orderers, approvers and the publication gate.
    for path, problem in catalogue_file.check_entries(data["services"], users):
        yield Problem(path, problem)
    for i, user in enumerate(data["users"]):
        if user["org_unit"] and user["org_unit"] not in units:
            yield Problem(f"users[{i}].org_unit", f"unknown org unit {user['org_unit']!r}")
    yield from _duplicates(data["mailboxes"], "code", "mailboxes")
    yield from _duplicates(data["mailboxes"], "address", "mailboxes")
    for i, mailbox in enumerate(data["mailboxes"]):
        if mailbox["service"] not in services:
            yield Problem(f"mailboxes[{i}].service", f"unknown service {mailbox['service']!r}")
        yield from group_ref(f"mailboxes[{i}].group", mailbox["group"], 1)
    for i, rule in enumerate(data["routing_rules"]):
        yield from group_ref(f"routing_rules[{i}].group", rule["group"], 1)
        if rule["service"] and rule["service"] not in services:
            yield Problem(f"routing_rules[{i}].service", f"unknown service {rule['service']!r}")
        if rule["org_unit"] and rule["org_unit"] not in units:
            yield Problem(f"routing_rules[{i}].org_unit", f"unknown org unit {rule['org_unit']!r}")


def _check_vendors(data: dict[str, Any]) -> Iterator[Problem]:
    for path, message in vendor_loading.check(data):
        yield Problem(path, message)


def _upsert(model: Any, key: str, value: str) -> Any:
    obj = db.session.scalar(select(model).where(getattr(model, key) == value))
    if obj is None:
        obj = model(**{key: value})
        db.session.add(obj)
    return obj


def load_file(path: Path) -> LoadSummary:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OrgFileError(str(path), [Problem("", f"cannot read the file: {exc}")]) from exc
    return load(parse(text, str(path)))


def _load_sla(data: dict[str, Any], now: datetime) -> None:
    """Calendars and policies; clocks already running follow a changed one from ``now``."""
    for item in data["calendars"]:
        sla_admin.apply_calendar(_upsert(Calendar, "code", item["code"]), item, now)
    for item in data["sla_policies"]:
        calendar = db.session.scalars(select(Calendar).where(Calendar.code == item["calendar"])).one()
        policy = _upsert(SlaPolicy, "code", item["code"])
        sla_admin.apply_sla_policy(policy, item, calendar, now)
        # Reports: the policy's service-credit rule (none unless the file gives one).
        policy.service_credits = item["service_credits"]


def _load_ola(group: SupportGroup, item: dict[str, Any] | None) -> None:
    if item is None:
        sla_admin.delete_ola(group)
        return
    calendar = db.session.scalars(select(Calendar).where(Calendar.code == item["calendar"])).one()
    sla_admin.apply_ola(group, item, calendar)


def _load_mailbox(item: dict[str, Any], service: Service, group: SupportGroup | None) -> None:
    mailbox = _upsert(Mailbox, "code", item["code"])
    mailbox.address, mailbox.service, mailbox.group = item["address"].lower(), service, group
    mailbox.active = item["active"]
    imap = item["imap"] or {}
    mailbox.imap_host, mailbox.imap_user = imap.get("host"), imap.get("user")
    mailbox.imap_port, mailbox.imap_ssl = imap.get("port", 143), imap.get("ssl", False)
    mailbox.imap_password_env = imap.get("password_env")
    mailbox.imap_folder = imap.get("folder", "INBOX")


def load(data: dict[str, Any], now: datetime | None = None) -> LoadSummary:
    """Write a checked organisation; the caller commits (or rolls back) once."""
    _load_sla(data, now or utcnow())
    by_email: dict[str, User] = {}
    units: dict[str, OrgUnit] = {}
    for item in data["org_units"]:
        unit = _upsert(OrgUnit, "code", item["code"])
        unit.name, unit.name_en = item["name"], item["name_en"]
        units[item["code"]] = unit
    for item in data["users"]:
        user = _upsert(User, "email", item["email"])
        user.name, user.role, user.locale = item["name"], Role(item["role"]), item["locale"]
        user.active = True
        if item["org_unit"]:
            user.org_unit = units.get(item["org_unit"]) or _upsert(OrgUnit, "code", item["org_unit"])
        if item["password"]:
            user.set_password(item["password"])
        by_email[item["email"]] = user

    def user_by(email: str) -> User:
        return by_email.get(email) or db.session.scalars(select(User).where(User.email == email)).one()

    groups: dict[str, SupportGroup] = {}
    for item in data["groups"]:
        support_group = _upsert(SupportGroup, "code", item["code"])
        support_group.name, support_group.name_en = item["name"], item["name_en"]
        support_group.tier, support_group.kind = item["tier"], GroupKind(item["kind"])
        support_group.email = item["email"]
        support_group.lead = user_by(item["lead"]) if item["lead"] else None
        support_group.members = [user_by(email) for email in item["members"]]
        groups[item["code"]] = support_group
    db.session.flush()
    for item in data["groups"]:
        _load_ola(groups[item["code"]], item["ola"])

    def group(code: str | None) -> SupportGroup | None:
        if code is None:
            return None
        return groups.get(code) or db.session.scalars(
            select(SupportGroup).where(SupportGroup.code == code)).one()

    for item in data["org_units"]:
        units[item["code"]].local_helpdesk = group(item["local_helpdesk"])
    services: dict[str, Service] = {}
    for item in data["services"]:
        service = _upsert(Service, "code", item["code"])
        for attr in ("name", "name_en", "description", "description_en", "category"):
            setattr(service, attr, item[attr])
        service.lifecycle = Lifecycle(item["lifecycle"])
        service.level1 = Level1Choice(item["level1"])
        service.level1_group = group(item["level1_group"])
        service.level2_group = group(item["level2_group"])
        service.level3_groups = [g for g in map(group, item["level3_groups"]) if g]
        service.sla_policy = db.session.scalar(
            select(SlaPolicy).where(SlaPolicy.code == item["sla_policy"])
        ) if item["sla_policy"] else None
        catalogue_file.load_entry(service, item, user_by)  # the rest of the catalogue entry
        services[item["code"]] = service
    db.session.flush()
    if data["routing_rules"]:
        db.session.execute(delete(RoutingRule))
    for position, item in enumerate(data["routing_rules"]):
        db.session.add(RoutingRule(
            position=position,
            group=group(item["group"]),
            service=services.get(item["service"]) if item["service"] else None,
            category=item["category"],
            org_unit=units.get(item["org_unit"]) if item["org_unit"] else None,
        ))
    for item in data["mailboxes"]:
        _load_mailbox(item, services.get(item["service"]) or db.session.scalars(
            select(Service).where(Service.code == item["service"])).one(), group(item["group"]))
    db.session.flush()
    vendors = vendor_loading.load(data)
    return LoadSummary(
        calendars=len(data["calendars"]), sla_policies=len(data["sla_policies"]),
        org_units=len(data["org_units"]), groups=len(data["groups"]),
        services=len(data["services"]), users=len(data["users"]),
        routing_rules=len(data["routing_rules"]), vendors=vendors,
    )
