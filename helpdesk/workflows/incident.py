"""The incident workflow: something is broken and must be made to work again."""

from helpdesk.workflows.definitions import (
    AGENT,
    QUEUED,
    REQUESTER,
    RESOLVED,
    SAME,
    SLA_PAUSED,
    SYSTEM,
    TERMINAL,
    State,
    Transition,
    Workflow,
)

WORKING = ("new", "open", "in_progress", "waiting_for_customer")

STATES = (
    State("new", frozenset({QUEUED})),
    State("open", frozenset({QUEUED})),
    State("in_progress"),
    State("waiting_for_customer", frozenset({SLA_PAUSED})),
    State("resolved", frozenset({RESOLVED})),
    State("closed", frozenset({TERMINAL})),
    State("cancelled", frozenset({TERMINAL})),
)

TRANSITIONS = (
    Transition("take", ("new", "open"), "in_progress"),
    Transition("take", ("in_progress", "waiting_for_customer"), SAME),
    Transition("assign", ("new", "open"), "in_progress", guards=("assignee_is_member",)),
    Transition(
        "assign", ("in_progress", "waiting_for_customer"), SAME, guards=("assignee_is_member",)
    ),
    Transition("ask_requester", ("in_progress",), "waiting_for_customer", guards=("has_message",)),
    Transition(
        "requester_replied",
        ("waiting_for_customer",),
        "in_progress",
        performed_by=(REQUESTER,),
        guards=("has_message",),
    ),
    Transition(
        "escalate",
        ("new", "open", "in_progress"),
        "open",
        # The system escalates too: functional escalation when a group breaches its OLA.
        performed_by=(AGENT, SYSTEM),
        guards=("below_top_tier", "has_reason", "target_is_higher_tier"),
    ),
    Transition(
        "return_to_level_1",
        ("open", "in_progress"),
        "open",
        guards=("above_level_1", "has_reason"),
    ),
    Transition("resolve", WORKING, "resolved", guards=("has_resolution_note",)),
    Transition(
        "reopen",
        ("resolved", "closed"),
        "open",
        performed_by=(REQUESTER, AGENT),
        guards=("within_reopen_window", "has_message"),
    ),
    Transition("confirm", ("resolved",), "closed", performed_by=(REQUESTER,)),
    Transition("auto_close", ("resolved",), "closed", performed_by=(SYSTEM,)),
    Transition("cancel", WORKING, "cancelled", performed_by=(REQUESTER, AGENT),
               guards=("has_reason",)),
)

INCIDENT = Workflow(name="incident", initial="new", states=STATES, transitions=TRANSITIONS)
