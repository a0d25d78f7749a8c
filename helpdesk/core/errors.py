"""Domain errors that views turn into clear messages for people.

Each error carries an untranslated message template (marked with ``N_``) and
its parameters, so the web layer can show it in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from helpdesk.core.i18n import N_
from helpdesk.core.labels import Label


class DomainError(Exception):
    """A request that the helpdesk refuses, with a message meant for the user."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params

    def render(self, translate: Callable[[str], str],
               when: Callable[[datetime], str] = datetime.isoformat) -> str:
        """The message in the reader's language; labels translated, times in local time."""
        text = translate(self.message)
        if not self.params:
            return text
        shown = {
            key: translate(value) if isinstance(value, Label)
            else when(value) if isinstance(value, datetime) else value
            for key, value in self.params.items()
        }
        return text % shown


class NotFound(DomainError):
    """The object does not exist, or the actor may not know that it exists."""


class TransitionRefused(DomainError):
    """The workflow does not allow this event now; nothing was changed."""

    def __init__(self, message: str, allowed: list[str], **params: Any) -> None:
        super().__init__(message, **params)
        self.allowed = allowed


class InputRefused(TransitionRefused):
    """The event may happen now, but not without what it needs: ``field`` names that
    input (a reason, a message, a resolution note)."""

    def __init__(self, message: str, allowed: list[str], field: str, **params: Any) -> None:
        super().__init__(message, allowed, **params)
        self.field = field


class StaleTicket(DomainError):
    """Someone else saved the ticket after this actor loaded it."""


class DatabaseBusy(DomainError):
    """The database was too busy to take the change (SQLite's write lock stayed taken by
    other writers): nothing was saved, nobody's change is in the way, and the same change
    may simply be sent again."""


# What a person is told when a DatabaseBusy reaches them.
BUSY = N_("The helpdesk was too busy to save this just now; nothing was saved. "
          "Try again in a moment.")


class InvalidInput(DomainError):
    """Input failed validation; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, list[str]], status: int = 422) -> None:
        super().__init__("Please correct the marked fields.")
        self.errors = errors
        # A page or an answer says with it what kind of refusal this is: 413 for a file
        # too large, 415 for one of a kind not taken, 422 for the rest.
        self.status = status
