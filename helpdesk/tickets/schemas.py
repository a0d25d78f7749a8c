"""What the ticket forms accept, validated with marshmallow.

Every error message is marked for translation and has no placeholders, so the
form can show it in the reader's language.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from helpdesk.core.i18n import N_
from helpdesk.tickets.models import TicketType

REQUIRED = N_("This field is required.")
TOO_LONG = N_("This text is too long.")
CHOOSE = N_("Choose one of the options.")
NO_NUL = N_("The text may not contain NUL characters.")
NOT_UNICODE = N_("The text is not valid Unicode.")


def valid_unicode(value: str) -> None:
    """A lone surrogate (from a JSON escape such as backslash-u-d800) cannot be written out
    as UTF-8: not to the database, not on a page."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(NOT_UNICODE) from exc


def storable(value: str) -> None:
    """Text every database keeps and every page shows (PostgreSQL's text cannot hold NUL)."""
    if "\x00" in value:
        raise ValidationError(NO_NUL)
    valid_unicode(value)


_NOT_BLANK = validate.Regexp(re.compile(r"[\s\S]*\S"), error=REQUIRED)


def text(max_length: int = 20000, required: bool = True) -> fields.String:
    checks: list[Any] = [validate.Length(max=max_length, error=TOO_LONG)]
    if required:
        checks.insert(0, _NOT_BLANK)
    messages: dict[str, Any] = {"required": REQUIRED, "null": REQUIRED, "invalid": REQUIRED}
    if required:
        return fields.String(required=True, validate=checks, error_messages=messages)
    return fields.String(load_default="", validate=checks, error_messages=messages)


def choice(values: list[Any], integer: bool = False, **kwargs: Any) -> fields.Field:
    field_type = fields.Integer if integer else fields.String
    messages: dict[str, Any] = {"required": CHOOSE, "null": CHOOSE, "invalid": CHOOSE}
    return field_type(validate=validate.OneOf(values, error=CHOOSE), error_messages=messages,
                      **kwargs)


class _Form(Schema):
    class Meta:
        unknown = EXCLUDE


class NewTicketForm(_Form):
    subject = text(200)
    description = text()
    impact = choice([1, 2, 3], integer=True, required=True)
    urgency = choice([1, 2, 3], integer=True, required=True)
    type = choice([t.value for t in TicketType], load_default=TicketType.INCIDENT.value)
    confidential = fields.Boolean(load_default=False)


class MessageForm(_Form):
    body = text()
    internal = fields.Boolean(load_default=False)
    version = fields.Integer(load_default=None)


class RequesterMessageForm(_Form):
    body = text()


class ActionForm(_Form):
    """Every agent action posts this; each action reads the fields it needs.

    Reasons and notes are checked by the workflow's guards, which say which
    one is missing, so they are optional here.
    """

    version = fields.Integer(required=True, error_messages={
        "required": N_("Reload the ticket and try again."),
        "invalid": N_("Reload the ticket and try again."),
    })
    reason = text(required=False)
    note = text(required=False)
    message = text(required=False)
    to_group = fields.String(load_default=None)
    assignee = fields.Integer(load_default=None)


class CancelForm(_Form):
    reason = text()


class ConsultForm(_Form):
    group = text(50)
    question = text()


class AnswerForm(_Form):
    answer = text()
