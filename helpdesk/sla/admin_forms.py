"""What the administrator's calendar, SLA policy and OLA forms accept.

A form is flat: one input per value, one checkbox (``<prefix>-<value>``) per
choice. After checking it, ``post_load`` gives the shape the organisation file's
CalendarSchema, SlaPolicySchema and OlaSchema give, so ``helpdesk.sla.admin``
writes a form exactly as it writes the file. The hours and durations are read
by the org file's own fields (``Spans``, ``Minutes``). Every error message is
marked for translation and has no placeholders.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from helpdesk.core.i18n import N_
from helpdesk.org.schemas import CODE, EFFECT_KINDS, WEEKDAYS, Minutes, Spans
from helpdesk.sla import holiday_rules
from helpdesk.sla.models import Calendar, OlaPolicy, SlaPolicy
from helpdesk.tickets.schemas import CHOOSE, REQUIRED, text
from helpdesk.workflows.definitions import RESOLVED, TERMINAL
from helpdesk.workflows.engine import WORKFLOWS

BAD_CODE = N_("Use 1–50 lower-case letters, digits, - or _.")
BAD_HOURS = N_("Write opening hours like 08:00-12:00, 13:00-17:00 (or leave empty: closed).")
BAD_DURATION = N_("Write minutes like 90, or hours like 4h or 1h 30min.")
BAD_PERCENT = N_("Write a whole number from 1 to 99.")
BAD_ZONE = N_("Not a time zone; write one like Europe/Stockholm.")
BAD_COUNTRY = N_("No public holidays are known for this country code with the chosen kinds.")
BAD_TIME = N_("Write a time like 14:00, or leave it empty.")
BAD_CLOSED_DAYS = N_("Write one day a line: a date like 2026-12-23, then why it is closed.")
BAD_OPEN_DAYS = N_("Write one day a line: a date like 2026-12-27, then its hours like 10:00-14:00.")
DAY_TWICE = N_("Each day may appear only once.")
OPEN_AND_CLOSED = N_("A day cannot be both an extra closed day and an extra open day.")
NO_HOURS = N_("Give the opening hours of at least one weekday.")
NO_HOLIDAY_KIND = N_("Choose at least one kind of holiday.")
NO_TARGET = N_("Give at least one target.")

HOLIDAY_CATEGORIES = ("public", "de_facto", "bank", "optional")
SLA_EFFECTS = ("notify", "raise_priority")
OLA_EFFECTS = ("notify", "raise_priority", "escalate")
PRIORITIES = (1, 2, 3, 4)
SLA_METRIC_NAMES = ("first_response", "resolution")


def pausable_states() -> tuple[str, ...]:
    """Workflow states a clock may pause in: all but solved and finished ones."""
    names: dict[str, None] = {}
    for workflow in WORKFLOWS.values():
        for state in workflow.states:
            if not state.tags & {RESOLVED, TERMINAL}:
                names[state.name] = None
    return tuple(names)


def _opening_hours_make_sense(spans: list[list[str]]) -> bool:
    """Real times, each span ending after it starts, no overlaps: as the calendar checks."""
    probe = Calendar(name="", timezone="UTC", weekly_hours={"0": spans}, holiday_country=None)
    try:
        probe.business_calendar()
    except ValueError:
        return False
    return True


class Hours(Spans):
    """"08:00-12:00, 13:00-17:00"; not given means closed."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[list[str]]:
        value = str(value).replace("–", "-").strip()
        try:
            spans = super()._deserialize(value, attr, data, **kwargs)
        except ValidationError:
            raise ValidationError(BAD_HOURS) from None
        if not _opening_hours_make_sense(spans):
            raise ValidationError(BAD_HOURS)
        return spans


class Duration(Minutes):
    """90, "4h" or "1h 30min"; not given means no target."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(load_default=None, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        value = str(value).strip()
        try:
            return super()._deserialize(int(value) if value.isdigit() else value, attr, data,
                                        **kwargs)
        except ValidationError:
            raise ValidationError(BAD_DURATION) from None


class DayLines(fields.Field):
    """One day a line, "2026-12-23 Julstängt": date -> the rest of the line (or hours)."""

    def __init__(self, *, hours: bool, **kwargs: Any) -> None:
        super().__init__(load_default=dict, **kwargs)
        self.hours = hours
        self.error = BAD_OPEN_DAYS if hours else BAD_CLOSED_DAYS

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dict[date, Any]:
        days: dict[date, Any] = {}
        for line in str(value).splitlines():
            if not line.strip():
                continue
            day_text, *rest_of_line = line.split(None, 1)
            rest = rest_of_line[0] if rest_of_line else ""
            try:
                day = date.fromisoformat(day_text)
            except ValueError:
                raise ValidationError(self.error) from None
            if day in days:
                raise ValidationError(DAY_TWICE)
            if not rest.strip():
                raise ValidationError(self.error)
            days[day] = self._hours(rest) if self.hours else rest.strip()
        return days

    def _hours(self, text: str) -> list[list[str]]:
        try:
            spans: list[list[str]] = Hours().deserialize(text)
        except ValidationError:
            raise ValidationError(self.error) from None
        return spans


def _percent() -> fields.Integer:
    return fields.Integer(load_default=75, validate=validate.Range(1, 99, error=BAD_PERCENT),
                          error_messages={"invalid": BAD_PERCENT, "null": BAD_PERCENT})


def _code() -> fields.String:
    return fields.String(required=True, validate=validate.Regexp(CODE.regex, error=BAD_CODE),
                         error_messages={"required": REQUIRED, "null": REQUIRED})


def _calendar_code() -> fields.String:
    return fields.String(required=True, validate=validate.Length(1, 50, error=CHOOSE),
                         error_messages={"required": CHOOSE, "null": CHOOSE})


def _choices(values: tuple[str, ...]) -> fields.List:
    return fields.List(fields.String(validate=validate.OneOf(values, error=CHOOSE)),
                       load_default=list)


class _Form(Schema):
    """Checkbox groups arrive as one ``<prefix>-<value>`` field each; read them as lists."""

    CHECKBOXES: ClassVar[tuple[tuple[str, str, tuple[str, ...]], ...]] = ()  # field, prefix, values

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _gather(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        # An empty input means "not given", as leaving the key out of the org file does.
        gathered = {key: value for key, value in data.items() if str(value).strip()}
        for name, prefix, values in self.CHECKBOXES:
            gathered[name] = [value for value in values if data.get(f"{prefix}-{value}")]
        return gathered


def _effect_boxes(names: tuple[str, ...]) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    return tuple((f"{kind}_effects", kind, names) for kind in EFFECT_KINDS)


def _a_time_zone(value: str) -> None:
    try:
        ZoneInfo(value.strip())
    except (ValueError, KeyError) as exc:  # KeyError: ZoneInfoNotFoundError
        raise ValidationError(BAD_ZONE) from exc


def _a_closing_time(value: str) -> None:
    """When shortened days close: 14:00, not midnight."""
    value = value.strip()
    if not (re.fullmatch(r"\d\d:\d\d", value) and value not in ("00:00", "24:00")
            and _opening_hours_make_sense([["00:00", value]])):
        raise ValidationError(BAD_TIME)


class CalendarForm(_Form):
    CHECKBOXES = (("holiday_categories", "holiday", HOLIDAY_CATEGORIES),)

    code = _code()
    name = text(200)
    timezone = fields.String(load_default="Europe/Stockholm", validate=_a_time_zone)
    hours_mon = Hours(load_default=list)
    hours_tue = Hours(load_default=list)
    hours_wed = Hours(load_default=list)
    hours_thu = Hours(load_default=list)
    hours_fri = Hours(load_default=list)
    hours_sat = Hours(load_default=list)
    hours_sun = Hours(load_default=list)
    holiday_country = fields.String(load_default="")
    holiday_categories = _choices(HOLIDAY_CATEGORIES)
    extra_closed_days = DayLines(hours=False)
    extra_open_days = DayLines(hours=True)
    shortened_close = fields.String(load_default="", validate=_a_closing_time)

    @validates_schema
    def _check(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        if not any(data[f"hours_{day}"] for day in WEEKDAYS):
            errors["weekly_hours"] = [NO_HOURS]
        country = data["holiday_country"].strip().upper()
        if country and not data["holiday_categories"]:
            errors["holiday_categories"] = [NO_HOLIDAY_KIND]
        elif country:
            try:
                holiday_rules.check(country, tuple(data["holiday_categories"]))
            except ValueError:
                errors["holiday_country"] = [BAD_COUNTRY]
        if set(data["extra_open_days"]) & set(data["extra_closed_days"]):
            errors["extra_open_days"] = [OPEN_AND_CLOSED]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _as_org_file(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        country = data["holiday_country"].strip().upper()
        return {
            "code": data.get("code"),
            "name": data["name"].strip(),
            "timezone": data["timezone"].strip(),
            "weekly_hours": {day: data[f"hours_{day}"] for day in WEEKDAYS
                             if data[f"hours_{day}"]},
            "holidays": ({"country": country, "categories": data["holiday_categories"]}
                         if country else None),
            "extra_closed_days": data["extra_closed_days"],
            "extra_open_days": data["extra_open_days"],
            "shortened_close": data["shortened_close"].strip() or None,
        }


class SlaPolicyForm(_Form):
    CHECKBOXES = (("paused_states", "paused", pausable_states()), *_effect_boxes(SLA_EFFECTS))

    code = _code()
    name = text(200)
    calendar = _calendar_code()
    warning_percent = _percent()
    paused_states = _choices(pausable_states())
    p1_first_response = Duration()
    p1_resolution = Duration()
    p2_first_response = Duration()
    p2_resolution = Duration()
    p3_first_response = Duration()
    p3_resolution = Duration()
    p4_first_response = Duration()
    p4_resolution = Duration()
    warning_effects = _choices(SLA_EFFECTS)
    breach_effects = _choices(SLA_EFFECTS)

    @validates_schema
    def _some_target(self, data: dict[str, Any], **_: Any) -> None:
        if not any(data[f"p{p}_{m}"] for p in PRIORITIES for m in SLA_METRIC_NAMES):
            raise ValidationError({"targets": [NO_TARGET]})

    @post_load
    def _as_org_file(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {
            "code": data.get("code"),
            "name": data["name"].strip(),
            "calendar": data["calendar"],
            "warning_percent": data["warning_percent"],
            "paused_states": data["paused_states"],
            "targets": {f"P{p}": {m: data[f"p{p}_{m}"] for m in SLA_METRIC_NAMES}
                        for p in PRIORITIES},
            "effects": {kind: data[f"{kind}_effects"] for kind in EFFECT_KINDS},
        }


class OlaForm(_Form):
    CHECKBOXES = _effect_boxes(OLA_EFFECTS)

    calendar = _calendar_code()
    take = Duration()
    handle = Duration()
    warning_percent = _percent()
    warning_effects = _choices(OLA_EFFECTS)
    breach_effects = _choices(OLA_EFFECTS)

    @validates_schema
    def _some_target(self, data: dict[str, Any], **_: Any) -> None:
        if data["take"] is None and data["handle"] is None:
            raise ValidationError({"take": [NO_TARGET]})

    @post_load
    def _as_org_file(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {"calendar": data["calendar"], "take": data["take"], "handle": data["handle"],
                "warning_percent": data["warning_percent"],
                "effects": {kind: data[f"{kind}_effects"] for kind in EFFECT_KINDS}}


# What a form shows before anything is typed: a row's values, or sensible defaults ---------


def duration_text(minutes: int | None) -> str:
    if not minutes:
        return ""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours}h {rest}min"
    return f"{hours}h" if hours else str(rest)


def _spans_text(spans: list[list[str]]) -> str:
    return ", ".join(f"{a}-{b}" for a, b in spans)


def _checked(prefix: str, values: list[str]) -> dict[str, str]:
    return {f"{prefix}-{value}": "on" for value in values}


def _checked_effects(effects: dict[str, list[str]]) -> dict[str, str]:
    boxes: dict[str, str] = {}
    for kind, names in (effects or {}).items():
        boxes.update(_checked(kind, names))
    return boxes


def calendar_values(calendar: Calendar | None) -> dict[str, str]:
    if calendar is None:
        return {"timezone": "Europe/Stockholm", "holiday_country": "SE",
                **{f"hours_{day}": "08:00-17:00" for day in WEEKDAYS[:5]},
                **_checked("holiday", ["public", "de_facto"])}
    return {
        "code": calendar.code, "name": calendar.name, "timezone": calendar.timezone,
        **{f"hours_{day}": _spans_text(calendar.weekly_hours.get(str(i), []))
           for i, day in enumerate(WEEKDAYS)},
        "holiday_country": calendar.holiday_country or "",
        **_checked("holiday", list(calendar.holiday_categories or [])),
        "extra_closed_days": "\n".join(f"{day} {why}" for day, why
                                       in sorted((calendar.extra_closed_days or {}).items())),
        "extra_open_days": "\n".join(f"{day} {_spans_text(spans)}" for day, spans
                                     in sorted((calendar.extra_open_days or {}).items())),
        "shortened_close": calendar.shortened_close or "",
    }


def policy_values(policy: SlaPolicy | None) -> dict[str, str]:
    if policy is None:
        return {"warning_percent": "75", **_checked("paused", ["waiting_for_customer"]),
                **_checked_effects({"warning": ["notify"], "breach": ["notify"]})}
    return {
        "code": policy.code, "name": policy.name, "calendar": policy.calendar.code,
        "warning_percent": str(policy.warning_percent),
        **_checked("paused", list(policy.paused_states or [])),
        **{f"p{p}_{m}": duration_text(policy.target_minutes(p, m))
           for p in PRIORITIES for m in SLA_METRIC_NAMES},
        **_checked_effects(policy.effects),
    }


def ola_values(ola: OlaPolicy | None) -> dict[str, str]:
    if ola is None:
        return {"warning_percent": "75", **_checked_effects({"breach": ["notify"]})}
    return {"calendar": ola.calendar.code, "take": duration_text(ola.take_minutes),
            "handle": duration_text(ola.handle_minutes),
            "warning_percent": str(ola.warning_percent), **_checked_effects(ola.effects)}
