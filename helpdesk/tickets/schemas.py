"""What the ticket forms accept, validated with marshmallow."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from helpdesk.tickets.models import TicketType

_TEXT = validate.Length(min=1, error="This field is required.")


class _Form(Schema):
    class Meta:
        unknown = EXCLUDE


class NewTicketForm(_Form):
    subject = fields.String(required=True, validate=validate.Length(1, 200))
    description = fields.String(required=True, validate=validate.Length(1, 20000))
    impact = fields.Integer(required=True, validate=validate.OneOf([1, 2, 3]))
    urgency = fields.Integer(required=True, validate=validate.OneOf([1, 2, 3]))
    type = fields.String(
        load_default=TicketType.INCIDENT.value,
        validate=validate.OneOf([t.value for t in TicketType]),
    )
    confidential = fields.Boolean(load_default=False)


class MessageForm(_Form):
    body = fields.String(required=True, validate=_TEXT)
    internal = fields.Boolean(load_default=False)
    version = fields.Integer(load_default=None)


class RequesterMessageForm(_Form):
    body = fields.String(required=True, validate=_TEXT)


class ActionForm(_Form):
    """Every agent action posts this; each action reads the fields it needs."""

    version = fields.Integer(required=True)
    reason = fields.String(load_default="")
    note = fields.String(load_default="")
    message = fields.String(load_default="")
    to_group = fields.String(load_default=None)
    assignee = fields.Integer(load_default=None)


class CancelForm(_Form):
    reason = fields.String(required=True, validate=_TEXT)


class ConsultForm(_Form):
    group = fields.String(required=True, validate=_TEXT)
    question = fields.String(required=True, validate=_TEXT)


class AnswerForm(_Form):
    answer = fields.String(required=True, validate=_TEXT)
