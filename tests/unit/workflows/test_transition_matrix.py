"""Every (state, event, actor) of every workflow, against a table written by hand.

The expectations below are typed out from the product rules, not read from the
definitions, so a changed definition makes these tests fail until the table is
changed with it on purpose.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from helpdesk.config import Settings
from helpdesk.core.errors import InputRefused, TransitionRefused
from helpdesk.tickets.operations import move
from helpdesk.workflows.definitions import State, Transition, Workflow
from helpdesk.workflows.engine import WORKFLOWS, WorkflowEngine, engine_for
from helpdesk.workflows.guards import GUARDS, GuardContext

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
REOPEN_DAYS = 14

INCIDENT_STATES = ("new", "open", "in_progress", "waiting_for_customer", "resolved", "closed",
                   "cancelled", "waiting_for_vendor")
INCIDENT_EVENTS = ("take", "assign", "ask_requester", "requester_replied", "escalate",
                   "return_to_level_1", "resolve", "reopen", "confirm", "auto_close", "cancel",
                   "hand_to_vendor", "vendor_replied", "vendor_solved", "recall_handoff")
# An order that needs approval waits for an authorised approver (the catalogue's step).
STATES = (*INCIDENT_STATES, "awaiting_approval", "rejected")
EVENTS = (*INCIDENT_EVENTS, "await_approval", "approve", "reject")
ACTORS = ("requester", "agent", "system", "approver")

# When a move is allowed only in some situations (state guards).
BELOW_TOP = "tier < 3"
ABOVE_L1 = "tier > 1"
IN_WINDOW = "within reopen window"

# (state, event) -> (destination, who may fire it, only when)
INCIDENT_MOVES: dict[tuple[str, str], tuple[str, set[str], str | None]] = {
    ("new", "take"): ("in_progress", {"agent"}, None),
    ("open", "take"): ("in_progress", {"agent"}, None),
    ("in_progress", "take"): ("in_progress", {"agent"}, None),
    ("waiting_for_customer", "take"): ("waiting_for_customer", {"agent"}, None),
    ("new", "assign"): ("in_progress", {"agent"}, None),
    ("open", "assign"): ("in_progress", {"agent"}, None),
    ("in_progress", "assign"): ("in_progress", {"agent"}, None),
    ("waiting_for_customer", "assign"): ("waiting_for_customer", {"agent"}, None),
    ("in_progress", "ask_requester"): ("waiting_for_customer", {"agent"}, None),
    ("waiting_for_customer", "requester_replied"): ("in_progress", {"requester"}, None),
    ("new", "escalate"): ("open", {"agent", "system"}, BELOW_TOP),
    ("open", "escalate"): ("open", {"agent", "system"}, BELOW_TOP),
    ("in_progress", "escalate"): ("open", {"agent", "system"}, BELOW_TOP),
    ("open", "return_to_level_1"): ("open", {"agent"}, ABOVE_L1),
    ("in_progress", "return_to_level_1"): ("open", {"agent"}, ABOVE_L1),
    ("new", "resolve"): ("resolved", {"agent"}, None),
    ("open", "resolve"): ("resolved", {"agent"}, None),
    ("in_progress", "resolve"): ("resolved", {"agent"}, None),
    ("waiting_for_customer", "resolve"): ("resolved", {"agent"}, None),
    ("resolved", "reopen"): ("open", {"requester", "agent"}, IN_WINDOW),
    ("closed", "reopen"): ("open", {"requester", "agent"}, IN_WINDOW),
    ("resolved", "confirm"): ("closed", {"requester"}, None),
    ("resolved", "auto_close"): ("closed", {"system"}, None),
    ("new", "cancel"): ("cancelled", {"requester", "agent"}, None),
    ("open", "cancel"): ("cancelled", {"requester", "agent"}, None),
    ("in_progress", "cancel"): ("cancelled", {"requester", "agent"}, None),
    ("waiting_for_customer", "cancel"): ("cancelled", {"requester", "agent"}, None),
    # External vendors: the ticket waits for the vendor (a second one may be added), and comes
    # back when the vendor reports a solution or the group recalls it.
    ("open", "hand_to_vendor"): ("waiting_for_vendor", {"agent"}, None),
    ("in_progress", "hand_to_vendor"): ("waiting_for_vendor", {"agent"}, None),
    ("waiting_for_vendor", "hand_to_vendor"): ("waiting_for_vendor", {"agent"}, None),
    ("waiting_for_vendor", "take"): ("waiting_for_vendor", {"agent"}, None),
    ("waiting_for_vendor", "assign"): ("waiting_for_vendor", {"agent"}, None),
    ("waiting_for_vendor", "vendor_replied"): ("waiting_for_vendor", {"agent", "system"}, None),
    ("waiting_for_vendor", "vendor_solved"): ("in_progress", {"agent", "system"}, None),
    ("waiting_for_vendor", "recall_handoff"): ("in_progress", {"agent"}, None),
}
# An order may be withdrawn after delivery, before the requester confirms it.
SERVICE_REQUEST_MOVES = {
    **INCIDENT_MOVES,
    ("resolved", "cancel"): ("cancelled", {"requester", "agent"}, None),
    ("new", "await_approval"): ("awaiting_approval", {"system"}, None),
    ("awaiting_approval", "approve"): ("new", {"approver"}, None),
    ("awaiting_approval", "reject"): ("rejected", {"approver"}, None),
    ("awaiting_approval", "cancel"): ("cancelled", {"requester", "agent"}, None),
}
EXPECTED = {"incident": INCIDENT_MOVES, "service_request": SERVICE_REQUEST_MOVES}
EXPECTED_STATES = {"incident": set(INCIDENT_STATES), "service_request": set(STATES)}
EXPECTED_EVENTS = {"incident": set(INCIDENT_EVENTS), "service_request": set(EVENTS)}

REFUSAL_TEXT = {
    BELOW_TOP: "The ticket is already at the highest level.",
    ABOVE_L1: "The ticket is already at level 1.",
    IN_WINDOW: "The time for reopening this ticket has passed; please submit a new ticket.",
}

NOT_POSSIBLE = "“%(event)s” is not possible while the ticket is “%(state)s”."

# The situations a ticket can be in that state guards look at.
SITUATIONS = [
    pytest.param(tier, window, id=f"tier{tier}-{'recent' if window else 'expired'}")
    for tier in (1, 2, 3) for window in (True, False)
]


def holds(condition: str | None, tier: int, in_window: bool) -> bool:
    return {
        None: True,
        BELOW_TOP: tier < 3,
        ABOVE_L1: tier > 1,
        IN_WINDOW: in_window,
    }[condition]


def resolved_at(in_window: bool) -> datetime:
    return NOW - timedelta(days=REOPEN_DAYS if in_window else REOPEN_DAYS + 1)


def satisfying_input(tier: int) -> dict[str, object]:
    """Input that passes every input guard: the form filled in as it should be."""
    return {"reason": "Needs the network team", "message": "Could you send a screenshot?",
            "note": "Replaced the toner cartridge.", "target_tier": tier + 1,
            "assignee_is_member": True, "vendor_allowed": True}


def context(actor: str, tier: int = 2, in_window: bool = True, **params: object) -> GuardContext:
    return GuardContext(actor_kind=actor, now=NOW, current_tier=tier,
                        resolved_at=resolved_at(in_window), reopen_days=REOPEN_DAYS,
                        params=params)


def stand_in_ticket(workflow: str, state: str, tier: int, in_window: bool) -> SimpleNamespace:
    """Just what ``move`` reads and writes on a ticket; no database needed."""
    return SimpleNamespace(type=workflow, status=state, version=1,
                           assigned_group=SimpleNamespace(tier=tier),
                           resolved_at=resolved_at(in_window), updated_at=None, updated_by=None,
                           clocks=[])


def test_the_table_covers_exactly_the_workflows_states_and_events():
    assert set(WORKFLOWS) == set(EXPECTED)
    for name, workflow in WORKFLOWS.items():
        assert {s.name for s in workflow.states} == EXPECTED_STATES[name]
        assert set(workflow.events) == EXPECTED_EVENTS[name]
        assert workflow.initial == "new"


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("workflow", sorted(EXPECTED))
def test_fire_allows_exactly_the_moves_in_the_table(workflow, state, event, actor):
    engine = engine_for(workflow)
    settings = Settings(reopen_days=REOPEN_DAYS)
    move_rule = EXPECTED[workflow].get((state, event))
    for tier, in_window in [p.values for p in SITUATIONS]:
        ctx = context(actor, tier, in_window, **satisfying_input(tier))
        ticket = stand_in_ticket(workflow, state, tier, in_window)
        where = f"{workflow}: {actor} fires {event} in {state} at tier {tier}, window {in_window}"
        if move_rule and actor in move_rule[1] and holds(move_rule[2], tier, in_window):
            assert engine.fire(state, event, ctx) == move_rule[0], where
            move(ticket, event, actor=None, actor_kind=actor, now=NOW, settings=settings,
                 params=ctx.params)
            assert (ticket.status, ticket.updated_at) == (move_rule[0], NOW), where
            continue
        with pytest.raises(TransitionRefused) as refused:
            engine.fire(state, event, ctx)
        message = str(refused.value)
        assert message.strip(), where
        if move_rule and actor in move_rule[1]:
            assert message == REFUSAL_TEXT[move_rule[2]], where
        else:
            assert refused.value.message == NOT_POSSIBLE, where
        with pytest.raises(TransitionRefused):
            move(ticket, event, actor=None, actor_kind=actor, now=NOW, settings=settings,
                 params=ctx.params)
        assert (ticket.status, ticket.updated_at) == (state, None), f"{where}: ticket changed"


@pytest.mark.parametrize(("tier", "in_window"), SITUATIONS)
@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("workflow", sorted(EXPECTED))
def test_available_events_offers_only_what_fire_allows(workflow, actor, tier, in_window):
    engine = engine_for(workflow)
    for state in STATES:
        expected = {
            event for (source, event), (_, who, condition) in EXPECTED[workflow].items()
            if source == state and actor in who and holds(condition, tier, in_window)
        }
        offered = engine.available_events(state, context(actor, tier, in_window))
        assert set(offered) == expected, f"{workflow} {state} for {actor}"
        for event in offered:
            engine.fire(state, event, context(actor, tier, in_window, **satisfying_input(tier)))


# -- named cases -------------------------------------------------------------------------------

@pytest.mark.parametrize("note", [None, "", "   \n "])
def test_resolve_without_a_note_is_refused_with_the_note_message(note):
    params = {} if note is None else {"note": note}
    with pytest.raises(TransitionRefused) as refused:
        engine_for("incident").fire("in_progress", "resolve", context("agent", **params))
    assert str(refused.value) == (
        "A ticket is resolved with a resolution note saying what was done.")
    assert "resolve" in refused.value.allowed  # the button stays; the form asks for the note
    assert isinstance(refused.value, InputRefused) and refused.value.field == "note"


@pytest.mark.parametrize(("tier", "target"), [(1, 1), (2, 2), (2, 1)])
def test_escalate_to_the_same_or_a_lower_tier_is_refused(tier, target):
    ctx = context("agent", tier, reason="Too hard for us", target_tier=target)
    with pytest.raises(TransitionRefused) as refused:
        engine_for("incident").fire("in_progress", "escalate", ctx)
    assert str(refused.value) == "A ticket can only be escalated to a group at a higher level."


def test_escalate_needs_a_reason():
    ctx = context("agent", 1, reason="  ", target_tier=2)
    with pytest.raises(TransitionRefused) as refused:
        engine_for("incident").fire("open", "escalate", ctx)
    assert str(refused.value) == "Give a reason."
    assert isinstance(refused.value, InputRefused) and refused.value.field == "reason"


def test_escalate_from_tier_3_is_refused_and_not_offered():
    engine = engine_for("incident")
    ctx = context("agent", 3, reason="Vendor needed", target_tier=4)
    with pytest.raises(TransitionRefused) as refused:
        engine.fire("in_progress", "escalate", ctx)
    assert str(refused.value) == "The ticket is already at the highest level."
    assert not isinstance(refused.value, InputRefused)  # no input would change it
    assert "escalate" not in engine.available_events("in_progress", context("agent", 3))
    assert "escalate" in engine.available_events("in_progress", context("agent", 2))


def test_return_to_level_1_is_not_offered_at_tier_1():
    engine = engine_for("incident")
    assert "return_to_level_1" not in engine.available_events("open", context("agent", 1))
    assert "return_to_level_1" in engine.available_events("open", context("agent", 2))
    with pytest.raises(TransitionRefused) as refused:
        engine.fire("open", "return_to_level_1", context("agent", 1, reason="Wrong queue"))
    assert str(refused.value) == "The ticket is already at level 1."


@pytest.mark.parametrize("actor", ["requester", "agent"])
@pytest.mark.parametrize("state", ["resolved", "closed"])
def test_reopen_after_the_window_is_refused_and_not_offered(state, actor):
    engine = engine_for("incident")

    def ctx(age: timedelta, **params: object) -> GuardContext:
        return GuardContext(actor_kind=actor, now=NOW, current_tier=1, resolved_at=NOW - age,
                            reopen_days=REOPEN_DAYS, params=params)

    last_moment = timedelta(days=REOPEN_DAYS)
    too_late = last_moment + timedelta(seconds=1)
    assert engine.fire(state, "reopen", ctx(last_moment, message="Still broken")) == "open"
    assert "reopen" in engine.available_events(state, ctx(last_moment))
    with pytest.raises(TransitionRefused) as refused:
        engine.fire(state, "reopen", ctx(too_late, message="Still broken"))
    assert "please submit a new ticket" in str(refused.value)
    assert "reopen" not in engine.available_events(state, ctx(too_late))


def test_reopen_uses_the_configured_window():
    ctx = GuardContext(actor_kind="requester", now=NOW, current_tier=1,
                       resolved_at=NOW - timedelta(days=3), reopen_days=2,
                       params={"message": "Still broken"})
    with pytest.raises(TransitionRefused):
        engine_for("incident").fire("resolved", "reopen", ctx)


def test_a_requester_cannot_withdraw_a_resolved_incident_but_can_a_resolved_order():
    ctx = context("requester", reason="Wrong model delivered")
    with pytest.raises(TransitionRefused):
        engine_for("incident").fire("resolved", "cancel", ctx)
    assert engine_for("service_request").fire("resolved", "cancel", ctx) == "cancelled"


# -- the definitions themselves ----------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_definitions_reference_only_known_guards_and_states(name):
    workflow = WORKFLOWS[name]
    states = {s.name for s in workflow.states}
    for transition in workflow.transitions:
        assert set(transition.guards) <= set(GUARDS), transition
        assert set(transition.sources) <= states, transition
        assert transition.dest in states | {"="}, transition
        assert set(transition.performed_by) <= set(ACTORS), transition


def test_the_engine_refuses_a_definition_with_an_unknown_guard():
    broken = Workflow(
        name="broken", initial="a", states=(State("a"), State("b")),
        transitions=(Transition("go", ("a",), "b", guards=("moon_is_full",)),),
    )
    with pytest.raises(ValueError, match="moon_is_full"):
        WorkflowEngine(broken)


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_state_is_reachable_from_the_initial_state(name):
    """Walk the engine itself from ``new``: firing every event as every actor."""
    engine = engine_for(name)
    reached = {engine.workflow.initial}
    todo = deque(reached)
    while todo:
        state = todo.popleft()
        for event in EVENTS:
            for actor in ACTORS:
                for tier, in_window in [p.values for p in SITUATIONS]:
                    try:
                        dest = engine.fire(state, event,
                                           context(actor, tier, in_window, **satisfying_input(tier)))
                    except TransitionRefused:
                        continue
                    if dest not in reached:
                        reached.add(dest)
                        todo.append(dest)
    assert reached == EXPECTED_STATES[name]
