"""What the API accepts (load schemas) and answers (dump schemas); the OpenAPI document is
generated from these same classes (``openapi.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_login import current_user
from marshmallow import RAISE, Schema, ValidationError, fields, post_dump, validate

from helpdesk.core.i18n import N_
from helpdesk.tickets import upload_policy
from helpdesk.tickets.models import TicketType
from helpdesk.tickets.schemas import NO_NUL, valid_unicode
from helpdesk.tiers.queries import STATUS_FILTERS
from helpdesk.workflows.engine import WORKFLOWS

_PLAIN = "^[^\\x00]*$"  # PostgreSQL text cannot hold NUL; say so in the schema, too
_FILLED = "^[^\\x00]*[^\\x00\\s][^\\x00]*$"


def _in_utc(value: datetime) -> None:
    try:
        value.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+01:00 is a time before the year 1 in UTC
        raise ValidationError(N_("Give a time between the years 1 and 9999.")) from exc


def text(max_length: int, *, required: bool = True, **kwargs: Any) -> fields.String:
    checks: list[Any] = [validate.Length(max=max_length), valid_unicode,
                         validate.Regexp(_FILLED if required else _PLAIN,
                                         error=N_("This field is required.") if required else NO_NUL)]
    if required:
        return fields.String(required=True, validate=checks, **kwargs)
    return fields.String(load_default="", validate=checks, **kwargs)


def code(**kwargs: Any) -> fields.String:
    return fields.String(validate=[validate.Length(min=1, max=50), valid_unicode,
                                   validate.Regexp(_PLAIN, error=NO_NUL)], **kwargs)


class StrictInteger(fields.Integer):
    """A JSON number without a fraction: not "2", not 2.5, not true."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    """JSON true or false; in a form, the words true and false."""

    def __init__(self, *, form: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.form = form

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if self.form and value in ("true", "false"):
            return value == "true"
        if self.form or not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class _In(Schema):
    class Meta:
        unknown = RAISE


STATES = sorted({s.name for w in WORKFLOWS.values() for s in w.states})
# resolved and closed are views and states by the same names: the view wins (closed
# takes cancelled and rejected too), so each is listed once, as a view.
STATUS_CHOICES = [*STATUS_FILTERS, *(s for s in STATES if s not in STATUS_FILTERS)]
SORTS = ["sla_due", "priority", "created", "-created", "updated", "-updated"]
SLA_STATES = ["ok", "at_risk", "breached", "none"]
AGENT_EVENTS = ["take", "assign", "ask_requester", "escalate", "return_to_level_1", "resolve",
                "reopen", "cancel"]
REQUESTER_EVENTS = ["confirm", "cancel", "reopen"]


class TicketCreate(_In):
    service = code(required=True, metadata={"description": "The catalogue entry's code.",
                                            "example": "epost"})
    subject = text(200, metadata={"example": "Outlook startar inte"})
    description = text(20000, metadata={"example": "Det händer inget när jag startar Outlook."})
    impact = StrictInteger(required=True, validate=validate.OneOf([1, 2, 3]),
                            metadata={"description": "1 high … 3 low"})
    urgency = StrictInteger(required=True, validate=validate.OneOf([1, 2, 3]))
    type = fields.String(load_default=TicketType.INCIDENT.value,
                         validate=validate.OneOf([t.value for t in TicketType]))
    confidential = StrictBoolean(load_default=False)
    answers = fields.List(fields.Nested(lambda: FormAnswer()), load_default=list, metadata={
        "description": "An order's answers to the service's request form, one for each of the "
                       "form's fields by its name, checked as the portal checks them."})


def _scalar(value: Any) -> None:
    if value is None or isinstance(value, dict | list):
        raise ValidationError(N_("Give a text, a number, or true or false."))


class FormAnswer(_In):
    name = code(required=True, metadata={"example": "software"})
    value = fields.Raw(required=True, validate=_scalar, metadata={
        "oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}],
        "example": "MATLAB"})


class TicketEventRequest(_In):
    event = fields.String(required=True, validate=validate.OneOf(sorted(
        {*AGENT_EVENTS, *REQUESTER_EVENTS})), metadata={"example": "take"})
    reason = text(20000, required=False)
    note = text(20000, required=False)
    message = text(20000, required=False)
    to_group = code(load_default=None, metadata={"description": "escalate: the group's code"})
    assignee = StrictInteger(load_default=None, validate=validate.Range(min=1, max=2**31 - 1),
                              metadata={"description": "assign: the agent's user id"})


class MessageCreate(_In):
    body = text(20000, metadata={"example": "Har du provat att starta om datorn?"})
    internal = StrictBoolean(load_default=False,
                             metadata={"description": "An internal note (staff only)."})


class MessageForm(MessageCreate):
    """The multipart form of MessageCreate, with files."""

    internal = StrictBoolean(form=True, load_default=False,
                             metadata={"description": "An internal note (staff only)."})

    attachments = fields.List(
        fields.Raw(metadata={"type": "string", "format": "binary"}), load_default=list,
        metadata={"description": (
            "Files, each judged by the ending of its file name, whatever type the part "
            "declares: " + upload_policy.accepted_endings() + ", and a name without an ending "
            "as plain text; any other ending is 415. Each file at most "
            "HELPDESK_MAX_ATTACHMENT_MB (10 MB unless configured) or 413, and the whole "
            "request at most 1 MB more than that. Files under any other field are 422.")})


class TicketListQuery(_In):
    group = code(load_default=None, metadata={"description": "Code of the assigned group (queue)."})
    tier = fields.Integer(load_default=None, validate=validate.OneOf([1, 2, 3]))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUS_CHOICES),
                           metadata={"description": "A workflow state, or a view: "
                                                    + ", ".join(STATUS_FILTERS)
                                                    + " (closed takes cancelled and rejected "
                                                      "tickets too)"})
    priority = fields.Integer(load_default=None, validate=validate.OneOf([1, 2, 3, 4]))
    service = code(load_default=None)
    requester = fields.String(load_default=None, validate=[validate.Length(max=254), valid_unicode,
                                                           validate.Regexp(_PLAIN, error=NO_NUL)],
                              metadata={"description": "The requester's e-mail address."})
    sla_state = fields.String(load_default=None, validate=validate.OneOf(SLA_STATES),
                              metadata={"description": "Staff only."})
    updated_since = fields.AwareDateTime(load_default=None, format="iso", validate=_in_utc)
    sort = fields.String(load_default=None, validate=validate.OneOf(SORTS), metadata={
        "description": "sla_due (staff only) is staff's default, -created requesters'."})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=[validate.Length(max=500), valid_unicode,
                                                        validate.Regexp("^[A-Za-z0-9_=-]*$")],
                           metadata={"description": "next_cursor of the previous page"})


# Answers ----------------------------------------------------------------------------------

def _nullable_code(path: str, description: str | None = None) -> fields.Function:
    def get(obj: Any) -> str | None:
        for part in path.split("."):
            obj = getattr(obj, part, None)
        return obj

    return fields.Function(get, metadata={"type": "string", "nullable": True,
                                          **({"description": description} if description else {})})


# What a ticket's requester does not see of it, as in the portal: its SLA state and due
# time come from every running clock, a group's OLA and a vendor's contract among them;
# and staff are read by their names (assignee_name), as in the mails, not their addresses.
STAFF_ONLY = ("sla_due_at", "sla_state", "assignee")


class TicketOut(Schema):
    reference = fields.String(metadata={"example": "HD-2026-000042"})
    type = fields.String()
    subject = fields.String()
    description = fields.String()
    status = fields.String()
    priority = fields.Integer()
    impact = fields.Integer()
    urgency = fields.Integer()
    service = fields.String(attribute="service.code")
    owner_group = fields.String(attribute="owner_group.code")
    assigned_group = fields.String(attribute="assigned_group.code")
    tier = fields.Integer(attribute="assigned_group.tier")
    assignee = _nullable_code("assignee.email", "Staff only: the assignee's address.")
    assignee_name = _nullable_code("assignee.name")
    requester = fields.String(attribute="requester.email")
    confidential = fields.Boolean()
    channel = fields.String()
    resolution = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime(metadata={
        "description": "The last change; for a requester, the last change they can see."})
    resolved_at = fields.AwareDateTime(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    sla_due_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "Staff only: the earliest due time of the ticket's running clocks."})
    sla_state = fields.String(allow_none=True, metadata={
        "description": "Staff only: ok, at_risk or breached, or null without running clocks."})
    version = fields.Integer(metadata={"description": (
        "Also the ETag; send it as If-Match. For a requester, the version of what they can "
        "see: staff's internal notes and consultations do not move it.")})
    attachments = fields.List(fields.Nested("AttachmentOut"),
                              attribute="description_attachments", metadata={
        "description": "The files sent with the ticket itself; each message lists its own."})


class RequestersTicketOut(TicketOut):
    """A ticket as a requester reads it: its version and change time are those of what
    they can see (Ticket.public_version), so staff's internal work shows in neither."""

    updated_at = fields.AwareDateTime(attribute="public_updated_at")
    version = fields.Integer(attribute="public_version")

    class Meta:
        exclude = STAFF_ONLY


class WebhookTicket(TicketOut):
    """A ticket in a webhook: no version (it changes when the transaction ends), no files
    (fetched through the API by whoever may see them), and a confidential ticket without
    its subject and text."""

    class Meta:
        exclude = ("version", "attachments")

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        data = super().dump(obj, many=many)
        if obj.confidential:
            data["subject"] = data["description"] = data["resolution"] = None
        return data


class TicketPage(Schema):
    items = fields.List(fields.Nested(TicketOut))
    next_cursor = fields.String(allow_none=True)

    @post_dump(pass_original=True)
    def _as_requester(self, data: dict[str, Any], page: Any, **_kwargs: Any) -> dict[str, Any]:
        # Each ticket as its caller sees it: a list may hold staff's own tickets too.
        for shown, ticket in zip(data["items"], page.items, strict=True):
            if ticket.id in page.seen_as_requester:
                for name in STAFF_ONLY:
                    shown.pop(name, None)
        return data


class RequestersTicketPage(TicketPage):
    items = fields.List(fields.Nested(RequestersTicketOut))


class AttachmentOut(Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    internal = fields.Boolean()
    created_at = fields.AwareDateTime()


class MessageOut(Schema):
    id = fields.Integer()
    author = _nullable_code("author.email", "The author's address; for a requester, only "
                                            "their own, null for staff's messages.")
    author_name = _nullable_code("author.name")
    internal = fields.Boolean()
    body = fields.String()
    created_at = fields.AwareDateTime()
    attachments = fields.List(fields.Nested(AttachmentOut))


class RequestersMessageOut(MessageOut):
    """A message as its ticket's requester reads it: staff by name only."""

    @post_dump(pass_original=True)
    def _staff_by_name(self, data: dict[str, Any], message: Any, **_kwargs: Any) -> dict[str, Any]:
        if message.author_id != message.ticket.requester_id:
            data["author"] = None
        return data


class ServiceOut(Schema):
    """Only the catalogue's stable fields."""

    code = fields.String()
    name = fields.String(metadata={"description": "In Swedish, as the catalogue keeps it."})
    name_en = fields.String(allow_none=True, metadata={
        "description": "In English, where the catalogue has it."})
    description = fields.String()
    description_en = fields.String(allow_none=True)
    lifecycle = fields.String()
    orderable = fields.Boolean(metadata={
        "description": "Tickets may be opened on it now (its lifecycle allows it)."})
    may_order = fields.Function(
        lambda service: service.orderable and service.may_order(current_user), metadata={
            "type": "boolean", "description": (
                "You may order it now (a service_request): it is orderable, and you are among "
                "those it takes orders from (some take them from authorised orderers only). "
                "An incident needs only orderable.")})


class GroupOut(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    tier = fields.Integer()
    kind = fields.String()
    active = fields.Integer(metadata={"description": "Active tickets in the queue."})
    unassigned = fields.Integer(metadata={"description": "Of those, not taken yet."})


class ClockLineOut(Schema):
    """A line of a clock's explanation, in the calendar's local time (with its offset)."""

    kind = fields.String(metadata={"description": (
        "started, counted (an open stretch of one day), counted_then (a stretch counted on a "
        "calendar that has changed since: what was counted then), closed (from its first "
        "closed day to its last, at their midnights), paused, resumed, recomputed, stopped, "
        "more (the rest of a long clock, summed). The counted, counted_then and more lines "
        "add up to counted_seconds.")})
    start = fields.DateTime()
    end = fields.DateTime(allow_none=True, metadata={
        "description": "null for a moment, and for a pause still going on."})
    business_seconds = fields.Float()
    reason = fields.String(allow_none=True)


class ClockOut(Schema):
    """A clock as the ticket page shows it; its own times in UTC."""

    metric = fields.String()
    group = fields.String(allow_none=True, metadata={
        "description": "The group whose clock it is (an OLA's), or that handed the ticket "
                       "to the vendor (a vendor contract's)."})
    vendor = fields.String(allow_none=True, metadata={
        "description": "A vendor contract's clock: the vendor's code."})
    calendar = fields.String(metadata={"description": "The business calendar it counts on."})
    status = fields.String(metadata={"description": "running, paused or stopped."})
    state = fields.String(metadata={
        "description": "What the page's badge says: running, paused, met or breached."})
    target_seconds = fields.Float()
    counted_seconds = fields.Float()
    remaining_seconds = fields.Float()
    started_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime(allow_none=True)
    warn_at = fields.AwareDateTime(allow_none=True)
    warned_at = fields.AwareDateTime(allow_none=True)
    breached_at = fields.AwareDateTime(allow_none=True)
    stopped_at = fields.AwareDateTime(allow_none=True)
    lines = fields.List(fields.Nested(ClockLineOut))


class MeOut(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    groups = fields.List(fields.String(), metadata={
        "description": "The codes of the groups whose queues you work: member or lead."})
    token_scope = fields.String()


class IntakeOut(Schema):
    """A ticket request accepted with Prefer: respond-async, and what became of it."""

    id = fields.Integer()
    status = fields.String(metadata={"enum": ["pending", "created", "rejected"]})
    accepted_at = fields.DateTime(metadata={"description": "When the request was accepted: "
                                                           "the ticket's SLA clocks start here."})
    processed_at = fields.DateTime(allow_none=True)
    ticket = fields.String(allow_none=True, metadata={"description": "The new ticket's reference "
                                                                     "once created."})
    reason = fields.String(allow_none=True, metadata={"description": "Why it was rejected."})
    retried_at = fields.DateTime(allow_none=True, metadata={
        "description": "When an administrator last gave the rejected request back to be "
                       "created, once its cause was mended."})


class Problem(Schema):
    """RFC 9457 problem details."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "Per field, what is wrong with it."})
    allowed_events = fields.List(fields.String(),
                                 metadata={"description": "409 on an event: what is allowed now."})
