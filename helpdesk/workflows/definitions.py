"""The shapes a workflow definition is written in (pure data, no behaviour).

A workflow lists its states with tags, and its transitions: which event moves a
ticket from which states to which state, who may fire it, and the named guards
that must hold. Guards are looked up by name in ``guards.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# State tags the rest of the helpdesk reads instead of hard-coding state names.
QUEUED = "queued"  # waiting in a group's queue for someone to take it
SLA_PAUSED = "sla_paused"  # the customer's SLA clock does not run
RESOLVED = "resolved"  # solved, may still be reopened
TERMINAL = "terminal"  # the work is over (a closed ticket may still be reopened in the window)

REQUESTER = "requester"
AGENT = "agent"
SYSTEM = "system"

# ``dest`` value meaning "stay in the state you are in" (a reflexive transition).
SAME = "="


@dataclass(frozen=True)
class State:
    name: str
    tags: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Transition:
    event: str
    sources: tuple[str, ...]
    dest: str
    performed_by: tuple[str, ...] = (AGENT,)
    guards: tuple[str, ...] = ()


@dataclass(frozen=True)
class Workflow:
    name: str
    initial: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]

    def state(self, name: str) -> State:
        for state in self.states:
            if state.name == name:
                return state
        raise KeyError(f"workflow {self.name!r} has no state {name!r}")

    def states_tagged(self, tag: str) -> tuple[str, ...]:
        return tuple(s.name for s in self.states if tag in s.tags)

    @property
    def events(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.event for t in self.transitions))
