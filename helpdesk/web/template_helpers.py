"""Functions and labels the templates use, translated at render time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import format_datetime, get_locale, gettext

from helpdesk.core.i18n import N_
from helpdesk.core.labels import EVENT_LABELS, LIFECYCLE_LABELS, STATUS_LABELS

HISTORY_LABELS = {
    "created": N_("Ticket created"),
    "routed": N_("Routed"),
    "taken": N_("Taken"),
    "assigned": N_("Assigned"),
    "asked_requester": N_("Asked the requester"),
    "requester_replied": N_("Requester replied"),
    "replied": N_("Public reply"),
    "noted": N_("Internal note"),
    "escalated": N_("Escalated"),
    "returned_to_level_1": N_("Returned to level 1"),
    "resolved": N_("Resolved"),
    "reopened": N_("Reopened"),
    "confirmed": N_("Solution confirmed"),
    "auto_closed": N_("Closed automatically"),
    "cancelled": N_("Cancelled"),
    "consulted": N_("Group consulted"),
    "consultation_answered": N_("Consultation answered"),
    "consultation_closed": N_("Consultation closed"),
}

TYPE_LABELS = {"incident": N_("Incident"), "service_request": N_("Service request")}
CHANNEL_LABELS = {"web": N_("Web"), "email": N_("E-mail"), "api": N_("API"), "phone": N_("Phone")}
LEVEL_LABELS = {1: N_("High"), 2: N_("Medium"), 3: N_("Low")}
CONSULTATION_LABELS = {"open": N_("Open"), "answered": N_("Answered"), "closed": N_("Closed")}


def label(table: dict[Any, str], key: Any) -> str:
    key = getattr(key, "value", key)
    return gettext(table[key]) if key in table else str(key)


def localized(obj: Any, attr: str) -> str:
    """An organisation's own text in the reader's language, where it gave one."""
    if str(get_locale()) == "en":
        english = getattr(obj, f"{attr}_en", None)
        if english:
            return str(english)
    return str(getattr(obj, attr) or "")


def local_time(value: datetime | None) -> str:
    return format_datetime(value, "yyyy-MM-dd HH:mm") if value else ""


def translate_params(template: str, params: dict[str, Any] | None) -> str:
    text = gettext(template)
    return text % params if params else text


GLOBALS = {
    "get_locale": get_locale,
    "label": label,
    "localized": localized,
    "translate_params": translate_params,
    "STATUS_LABELS": STATUS_LABELS,
    "EVENT_LABELS": EVENT_LABELS,
    "HISTORY_LABELS": HISTORY_LABELS,
    "TYPE_LABELS": TYPE_LABELS,
    "CHANNEL_LABELS": CHANNEL_LABELS,
    "LEVEL_LABELS": LEVEL_LABELS,
    "LIFECYCLE_LABELS": LIFECYCLE_LABELS,
    "CONSULTATION_LABELS": CONSULTATION_LABELS,
}
FILTERS = {"local_time": local_time}
