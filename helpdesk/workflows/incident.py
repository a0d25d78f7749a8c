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
    # External vendors: the customer's SLA keeps running while a vendor works the ticket.
    State("waiting_for_vendor"),
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
    # External vendors ---------------------------------------------------------------
    # Handing to a second vendor is possible while the first one works it, too.
    Transition("hand_to_vendor", ("open", "in_progress", "waiting_for_vendor"),
               "waiting_for_vendor", guards=("has_message", "vendor_allowed")),
    Transition("take", ("waiting_for_vendor",), SAME),
    Transition("assign", ("waiting_for_vendor",), SAME, guards=("assignee_is_member",)),
    # What the vendor writes (by mail, or noted by an agent) leaves the ticket with it.
    Transition("vendor_replied", ("waiting_for_vendor",), SAME, performed_by=(SYSTEM, AGENT)),
    # Back to the group that handed it over, which verifies with the requester and resolves.
    Transition("vendor_solved", ("waiting_for_vendor",), "in_progress",
               performed_by=(SYSTEM, AGENT)),
    Transition("recall_handoff", ("waiting_for_vendor",), "in_progress", guards=("has_reason",)),
)

INCIDENT = Workflow(name="incident", initial="new", states=STATES, transitions=TRANSITIONS)
