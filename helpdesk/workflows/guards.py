"""Named guards the workflow definitions refer to (pure).

A guard either looks at the ticket as it is (a *state* guard: decides whether
the UI offers the event at all) or at what the actor typed (an *input* guard:
the button is offered, and the form is refused with the guard's message).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from helpdesk.core.i18n import N_

TOP_TIER = 3


@dataclass(frozen=True)
class GuardContext:
    """What a guard may know about the ticket and the request."""

    actor_kind: str
    now: datetime
    current_tier: int
    resolved_at: datetime | None = None
    reopen_days: int = 14
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Guard:
    check: Callable[[GuardContext], bool]
    message: str
    # The input it checks, as the API names it; a guard without one checks the ticket's
    # state, so offering the event already tells whether it can pass.
    field: str | None = None

    @property
    def needs_input(self) -> bool:
        return self.field is not None


def _text(ctx: GuardContext, key: str) -> bool:
    value = ctx.params.get(key)
    return isinstance(value, str) and value.strip() != ""


def _within_reopen_window(ctx: GuardContext) -> bool:
    if ctx.resolved_at is None:
        return False
    return ctx.now - ctx.resolved_at <= timedelta(days=ctx.reopen_days)


def _target_is_higher_tier(ctx: GuardContext) -> bool:
    target = ctx.params.get("target_tier")
    return isinstance(target, int) and target > ctx.current_tier


GUARDS: dict[str, Guard] = {
    "has_reason": Guard(lambda c: _text(c, "reason"), N_("Give a reason."), field="reason"),
    "has_message": Guard(lambda c: _text(c, "message"), N_("Write a message."), field="message"),
    "has_resolution_note": Guard(
        lambda c: _text(c, "note"),
        N_("A ticket is resolved with a resolution note saying what was done."),
        field="note",
    ),
    "target_is_higher_tier": Guard(
        _target_is_higher_tier,
        N_("A ticket can only be escalated to a group at a higher level."),
        field="to_group",
    ),
    "assignee_is_member": Guard(
        lambda c: bool(c.params.get("assignee_is_member")),
        N_("The agent must be a member of the group that works the ticket."),
        field="assignee",
    ),
    "below_top_tier": Guard(
        lambda c: c.current_tier < TOP_TIER,
        N_("The ticket is already at the highest level."),
    ),
    "above_level_1": Guard(
        lambda c: c.current_tier > 1,
        N_("The ticket is already at level 1."),
    ),
    "vendor_allowed": Guard(
        lambda c: bool(c.params.get("vendor_allowed")),
        N_("This service's tickets may not be handed to that vendor at this level."),
        field="vendor",
    ),
    "within_reopen_window": Guard(
        _within_reopen_window,
        N_("The time for reopening this ticket has passed; please submit a new ticket."),
    ),
}
