"""What the vendor forms on the ticket page accept (the org file's shape is in
``org.schemas``)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from helpdesk.core.i18n import N_
from helpdesk.tickets.schemas import _Form, text


def _version() -> fields.Integer:
    """The ticket's version when the page was opened, so a stale page is told so."""
    errors: dict[str, Any] = {"required": N_("Reload the ticket and try again."),
                              "invalid": N_("Reload the ticket and try again.")}
    return fields.Integer(required=True, error_messages=errors)


class HandoffForm(_Form):
    version = _version()
    vendor = text(50)
    message = text()


class VendorAnswerForm(_Form):
    """An answer the vendor gave by phone, noted by an agent."""

    version = _version()
    body = text()
    case_number = text(100, required=False)
    solved = fields.Boolean(load_default=False)


class RecallForm(_Form):
    version = _version()
    reason = text()


class VendorMessageForm(_Form):
    version = _version()
    body = text()
