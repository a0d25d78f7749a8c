"""The one engine that runs every workflow definition on ``transitions``.

One ``transitions.Machine`` is built per workflow (not per ticket, which costs
memory per row, see pytransitions issue #146). To ask it about a ticket we
attach a throw-away token in the ticket's state, fire, and detach it again.
The engine only decides; the operations in ``tickets``/``tiers`` write the
ticket, its history and everything else after the engine said yes.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from transitions import Machine, MachineError
from transitions.core import EventData

from helpdesk.core.errors import InputRefused, TransitionRefused
from helpdesk.core.i18n import N_
from helpdesk.core.labels import EVENT_LABELS, STATUS_LABELS, label_for
from helpdesk.workflows.definitions import Transition, Workflow
from helpdesk.workflows.guards import GUARDS, TOP_TIER, Guard, GuardContext
from helpdesk.workflows.incident import INCIDENT
from helpdesk.workflows.service_request import SERVICE_REQUEST

__all__ = ["TOP_TIER", "WorkflowEngine", "engine_for", "workflow_for"]


class _Token:
    """Stands in for a ticket while the machine looks at it."""

    state: str


class WorkflowEngine:
    def __init__(self, workflow: Workflow) -> None:
        for transition in workflow.transitions:
            for name in transition.guards:
                if name not in GUARDS:
                    raise ValueError(f"{workflow.name}: unknown guard {name!r}")
        self.workflow = workflow
        self._lock = threading.Lock()
        self._machine = Machine(
            model=None,
            states=[state.name for state in workflow.states],
            initial=workflow.initial,
            transitions=[self._machine_transition(t) for t in workflow.transitions],
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )

    def _machine_transition(self, transition: Transition) -> dict[str, object]:
        def allowed(event: EventData) -> bool:
            ctx: GuardContext = event.kwargs["ctx"]
            return not self._failed_guards(transition, ctx, check_input=True)

        return {
            "trigger": transition.event,
            "source": list(transition.sources),
            "dest": transition.dest,
            "conditions": [allowed],
        }

    def _candidates(self, state: str, event: str, actor_kind: str) -> list[Transition]:
        return [
            t
            for t in self.workflow.transitions
            if t.event == event and state in t.sources and actor_kind in t.performed_by
        ]

    @staticmethod
    def _failed_guards(transition: Transition, ctx: GuardContext, check_input: bool) -> list[Guard]:
        failed = []
        for name in transition.guards:
            guard = GUARDS[name]
            if guard.needs_input and not check_input:
                continue
            if not guard.check(ctx):
                failed.append(guard)
        return failed

    def available_events(self, state: str, ctx: GuardContext) -> list[str]:
        """Events to offer this actor now: allowed here and no state guard failing."""
        offered = []
        for event in self.workflow.events:
            if any(
                not self._failed_guards(t, ctx, check_input=False)
                for t in self._candidates(state, event, ctx.actor_kind)
            ):
                offered.append(event)
        return offered

    def fire(self, state: str, event: str, ctx: GuardContext) -> str:
        """Return the state the ticket moves to, or raise ``TransitionRefused``."""
        candidates = self._candidates(state, event, ctx.actor_kind)
        if not candidates:
            allowed = self.available_events(state, ctx)
            raise TransitionRefused(
                N_("“%(event)s” is not possible while the ticket is “%(state)s”."),
                allowed=allowed,
                event=label_for(EVENT_LABELS, event),
                state=label_for(STATUS_LABELS, state),
            )
        token = _Token()
        with self._lock:
            self._machine.add_model(token, initial=state)
            try:
                moved = token.trigger(event, ctx=ctx)  # type: ignore[attr-defined]
            except MachineError:
                moved = False
            finally:
                self._machine.remove_model(token)
        if not moved:
            failed = self._failed_guards(candidates[0], ctx, check_input=True)
            allowed = self.available_events(state, ctx)
            if failed and failed[0].field is not None:
                raise InputRefused(failed[0].message, allowed=allowed, field=failed[0].field)
            raise TransitionRefused(failed[0].message if failed else N_("This is not possible now."),
                                    allowed=allowed)
        return token.state

    def tagged(self, tag: str) -> tuple[str, ...]:
        return self.workflow.states_tagged(tag)


WORKFLOWS: Mapping[str, Workflow] = {
    "incident": INCIDENT,
    "service_request": SERVICE_REQUEST,
}
_ENGINES = {name: WorkflowEngine(workflow) for name, workflow in WORKFLOWS.items()}


def engine_for(ticket_type: str) -> WorkflowEngine:
    try:
        return _ENGINES[ticket_type]
    except KeyError:
        raise ValueError(f"no workflow for ticket type {ticket_type!r}") from None


def workflow_for(ticket_type: str) -> Workflow:
    return engine_for(ticket_type).workflow


