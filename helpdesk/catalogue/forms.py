"""A service's request form: its extra fields, checked with a schema built from them.

A field is written as data (in the organisation file), e.g.
``{name: room, label: Rum, label_en: Room, type: choice, required: true,
choices: [A, B]}``. The portal posts each field as ``form_<name>``, so the
form's own fields can never collide with the ticket's subject or description.
"""

from __future__ import annotations

from typing import Any, cast

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from helpdesk.core.errors import InvalidInput
from helpdesk.core.i18n import N_
from helpdesk.tickets.schemas import CHOOSE, REQUIRED, TOO_LONG, storable

FIELD_TYPES = ("text", "textarea", "number", "date", "choice", "checkbox")
PREFIX = "form_"
NOT_A_NUMBER = N_("Write a whole number.")
NOT_A_DATE = N_("Write a date as YYYY-MM-DD.")
NO_SUCH_QUESTION = N_("The service's request form has no such field.")
ANSWERED_TWICE = N_("This field is answered twice.")
ORDERS_ONLY = N_("Only an order (type service_request) fills in a request form.")


def _field(spec: dict[str, Any]) -> fields.Field:
    required = bool(spec.get("required"))
    kind = spec.get("type", "text")
    missing: dict[str, Any] = {"required": REQUIRED, "null": REQUIRED}
    if kind == "checkbox":
        # An unticked box is not posted at all: that is "no", unless ticking it is required.
        messages: dict[str, Any] = {**missing, "invalid": REQUIRED}
        if required:
            return fields.Boolean(required=True, validate=validate.Equal(True, error=REQUIRED),
                                  error_messages=messages)
        return fields.Boolean(load_default=False, error_messages=messages)
    options: dict[str, Any] = {"required": True} if required else {"load_default": None}
    if kind == "number":
        return _WholeNumber(error_messages={**missing, "invalid": NOT_A_NUMBER}, **options)
    if kind == "date":
        return fields.Date(error_messages={**missing, "invalid": NOT_A_DATE}, **options)
    if kind == "choice":
        return fields.String(validate=validate.OneOf(list(spec.get("choices", [])), error=CHOOSE),
                             error_messages={**missing, "invalid": CHOOSE}, **options)
    limit = 5000 if kind == "textarea" else 500
    return fields.String(validate=[validate.Length(max=limit, error=TOO_LONG), storable],
                         error_messages={**missing, "invalid": REQUIRED}, **options)


class _WholeNumber(fields.Integer):
    """"5" from the portal's form or 5 from the API; not 2.7 (which int() would make 2)
    and not true."""

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise self.make_error("invalid", input=value)
        return cast(int, super()._validated(value))


def schema_for(form: list[dict[str, Any]]) -> Schema:
    """A marshmallow schema for a service's form, fields named as the portal posts them."""
    declared = {f"{PREFIX}{spec['name']}": _field(spec) for spec in form}
    schema_class = Schema.from_dict(declared, name="RequestForm")
    return schema_class(unknown=EXCLUDE)


def _blank_to_missing(raw: dict[str, Any]) -> dict[str, Any]:
    # An empty input means "not answered", so a required field says "required", and an
    # optional number or date left empty is not "not a number".
    return {k: v for k, v in raw.items() if not (isinstance(v, str) and v.strip() == "")}


def load_answers(form: list[dict[str, Any]], raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The answers to keep with the ticket, or ``InvalidInput`` naming each bad field."""
    if not form:
        return []
    try:
        data = schema_for(form).load(_blank_to_missing(raw))
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
        raise InvalidInput({k: [str(m) for m in v] for k, v in messages.items()}) from exc
    answers = []
    for spec in form:
        value = data.get(f"{PREFIX}{spec['name']}")
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        answers.append({"name": spec["name"], "label": spec["label"],
                        "label_en": spec.get("label_en"), "type": spec.get("type", "text"),
                        "value": value})
    return answers


def load_named_answers(form: list[dict[str, Any]], ordering: bool,
                       raw: dict[str, Any]) -> list[dict[str, Any]]:
    """``load_answers`` for answers named as the form names its fields (the API's): a name
    the form does not have is refused, not dropped, and only an order has answers.
    ``InvalidInput`` names each bad field by its name in the form."""
    if not ordering:
        if raw:
            raise InvalidInput({"": [ORDERS_ONLY]})
        return []
    errors = {name: [NO_SUCH_QUESTION] for name in sorted(set(raw) - {f["name"] for f in form})}
    answers: list[dict[str, Any]] = []
    try:
        answers = load_answers(form, {f"{PREFIX}{name}": value for name, value in raw.items()})
    except InvalidInput as exc:
        errors.update({key.removeprefix(PREFIX): messages for key, messages in exc.errors.items()})
    if errors:
        raise InvalidInput(errors)
    return answers


def check_definition(form: list[dict[str, Any]]) -> list[str]:
    """What is wrong with a form definition (for the organisation file), as plain messages."""
    problems, seen = [], set()
    for i, spec in enumerate(form):
        if spec["name"] in seen:
            problems.append(f"[{i}].name: {spec['name']!r} is used twice")
        seen.add(spec["name"])
        if spec.get("type") == "choice" and not spec.get("choices"):
            problems.append(f"[{i}].choices: a choice field needs choices")
    return problems
