"""Functions and labels the templates use, translated at render time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import format_datetime, get_locale, gettext

from helpdesk.core.i18n import N_
from helpdesk.core.labels import EFFECT_LABELS, EVENT_LABELS, LIFECYCLE_LABELS, STATUS_LABELS
from helpdesk.mail.authors import mail_author
from helpdesk.mail.quoting import split_reply
from helpdesk.tickets import upload_policy
from helpdesk.tickets.history import STAFF_ONLY_KINDS
from helpdesk.tickets.models import TicketEvent
from helpdesk.web.markdown import render_markdown

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
    "priority_changed": N_("Priority changed"),
    "priority_raised": N_("Priority raised after an SLA breach"),
    "sla_warning": N_("SLA at risk"),
    "sla_breach": N_("SLA breached"),
    "mail_note": N_("Mail from someone other than the requester"),
    "mail_bounced": N_("A mail to the requester could not be delivered"),
    "follow_up_of": N_("Follow-up to an earlier ticket"),
    "followed_up_by": N_("Followed up by a new ticket"),
    "made_from_request": N_("Made a ticket from a request accepted earlier"),
    # The approval of orders (catalogue)
    "approval_requested": N_("Sent for approval"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    # External vendors (helpdesk.vendors)
    "handed_to_vendor": N_("Handed to a vendor"),
    "vendor_replied": N_("The vendor replied"),
    "vendor_solved": N_("The vendor reported a solution"),
    "handoff_recalled": N_("Handoff recalled"),
    "written_to_vendor": N_("Written to the vendor"),
    "vendor_case_number": N_("The vendor's case number noted"),
}

METRIC_LABELS = {
    "first_response": N_("First response"),
    "resolution": N_("Resolution"),
    "ola_take": N_("Taken from the queue (OLA)"),
    "ola_handle": N_("Passed on or resolved (OLA)"),
    "uc_response": N_("Vendor's first answer (UC)"),
    "uc_resolution": N_("Vendor's solution (UC)"),
}
CLOCK_STATE_LABELS = {
    "running": N_("Running"),
    "paused": N_("Paused"),
    "met": N_("Met"),
    "breached": N_("Breached"),
}
CLOCK_REASON_LABELS = {
    "weekend": N_("weekend"),
    "priority": N_("the priority changed"),
    "calendar": N_("the calendar changed"),
    "policy": N_("the SLA policy changed"),
    "reopened": N_("the ticket was reopened"),
    "public_reply": N_("first public reply"),
    "taken": N_("taken"),
    "passed_on": N_("passed on to another group"),
    "vendor_replied": N_("the vendor answered"),
    "vendor_solved": N_("the vendor reported a solution"),
    "handoff_recalled": N_("the handoff was recalled"),
}
SLA_STATE_LABELS = {"ok": N_("On time"), "at_risk": N_("At risk"), "breached": N_("Breached")}

TYPE_LABELS = {"incident": N_("Incident"), "service_request": N_("Service request")}
CHANNEL_LABELS = {"web": N_("Web"), "email": N_("E-mail"), "api": N_("API"), "phone": N_("Phone")}
LEVEL_LABELS = {1: N_("High"), 2: N_("Medium"), 3: N_("Low")}
CONSULTATION_LABELS = {"open": N_("Open"), "answered": N_("Answered"), "closed": N_("Closed")}
HANDOFF_LABELS = {"waiting": N_("With the vendor"), "solved": N_("Solved by the vendor"),
                  "recalled": N_("Recalled")}


def clock_reason(code: str | None) -> str:
    """Why a clock stopped, paused or changed: a workflow state, a named cause, or a holiday."""
    if code is None:
        return ""
    if code in STATUS_LABELS:
        return gettext(STATUS_LABELS[code])
    if code in CLOCK_REASON_LABELS:
        return gettext(CLOCK_REASON_LABELS[code])
    return code  # a holiday's own name or an administrator's reason, already in Swedish


def event_author(event: TicketEvent) -> str:
    """Who a history row is by: the user who acted, else the sender of the mail it records (a
    stranger's note, a vendor's answer) as the messages name them, else the helpdesk itself."""
    if event.actor is not None:
        return event.actor.name
    # Only rows kept from the requester name a sender: their page never shows the address.
    sender = event.details.get("sender") if event.kind in STAFF_ONLY_KINDS else None
    if sender:
        return mail_author(event.details.get("vendor_name") or event.details.get("sender_name"),
                           sender)
    return gettext("the helpdesk")


def label(table: dict[Any, str], key: Any) -> str:
    key = getattr(key, "value", key)
    return gettext(table[key]) if key in table else str(key)


def localized(obj: Any, attr: str) -> str:
    """An organisation's own text in the reader's language, where it gave one; ``obj`` a
    row or a mapping (a report kept as it was approved)."""
    def field(name: str) -> Any:
        return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)

    if str(get_locale()) == "en":
        english = field(f"{attr}_en")
        if english:
            return str(english)
    return str(field(attr) or "")


def business_duration(value: timedelta | int) -> str:
    """2 h 10 min, for people checking a clock by hand (whole minutes, rounded down)."""
    micros = value if isinstance(value, int) else int(value.total_seconds() * 1_000_000)
    sign = "−" if micros < 0 else ""
    minutes = abs(micros) // 60_000_000
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{sign}{hours} h {minutes} min"
    return f"{sign}{hours} h" if hours else f"{sign}{minutes} min"


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} kB"
    return f"{size / (1024 * 1024):.1f} MB"


def local_day(value: datetime | None) -> str:
    return format_datetime(value, "EEE d MMM") if value else ""


def local_time(value: datetime | None) -> str:
    return format_datetime(value, "yyyy-MM-dd HH:mm") if value else ""


def translate_params(template: str, params: dict[str, Any] | None) -> str:
    """A stored message in the reader's language; English names where they were kept."""
    text = gettext(template)
    if not params:
        return text
    if str(get_locale()) == "en":
        params = {key: params.get(f"{key}_en", value) for key, value in params.items()}
    return text % params


def upload_field() -> dict[str, str]:
    """A file field's label, and its hint on what it takes: the size of one file and the
    endings. Written here, not in the macro, as babel reads no template under _macros/."""
    settings = current_app.config["HELPDESK"]
    return {"label": gettext("Attachment (optional)"),
            "hint": gettext("Up to %(megabytes)s MB a file. Taken: %(endings)s, and text files "
                            "without an ending.",
                            megabytes=settings.max_attachment_bytes // (1024 * 1024),
                            endings=upload_policy.accepted_endings())}


GLOBALS = {
    "get_locale": get_locale,
    "upload_field": upload_field,
    "split_reply": split_reply,
    "clock_reason": clock_reason,
    "event_author": event_author,
    "label": label,
    "localized": localized,
    "translate_params": translate_params,
    "STATUS_LABELS": STATUS_LABELS,
    "EVENT_LABELS": EVENT_LABELS,
    "EFFECT_LABELS": EFFECT_LABELS,
    "HISTORY_LABELS": HISTORY_LABELS,
    "TYPE_LABELS": TYPE_LABELS,
    "METRIC_LABELS": METRIC_LABELS,
    "CLOCK_STATE_LABELS": CLOCK_STATE_LABELS,
    "SLA_STATE_LABELS": SLA_STATE_LABELS,
    "CLOCK_REASON_LABELS": CLOCK_REASON_LABELS,
    "CHANNEL_LABELS": CHANNEL_LABELS,
    "LEVEL_LABELS": LEVEL_LABELS,
    "LIFECYCLE_LABELS": LIFECYCLE_LABELS,
    "CONSULTATION_LABELS": CONSULTATION_LABELS,
    "HANDOFF_LABELS": HANDOFF_LABELS,
}
FILTERS = {"local_time": local_time, "file_size": file_size, "business_duration": business_duration,
           "local_day": local_day, "markdown": render_markdown}
