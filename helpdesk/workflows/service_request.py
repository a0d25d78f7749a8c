"""The service-request workflow: something is ordered and must be delivered.

It shares the incident's states and moves. It differs in one place: a
requester may withdraw an order that was delivered but not yet confirmed
(the wrong thing arrived), which for an incident makes no sense.
"""

from helpdesk.workflows.definitions import (
    AGENT,
    REQUESTER,
    SLA_PAUSED,
    SYSTEM,
    TERMINAL,
    State,
    Transition,
    Workflow,
)
from helpdesk.workflows.incident import STATES as INCIDENT_STATES
from helpdesk.workflows.incident import TRANSITIONS as INCIDENT_TRANSITIONS

# --- Approval (service catalogue) -------------------------------------------------------
# An order of a service that needs approval waits for one of its authorised approvers
# before it reaches any queue; its SLA clocks start only when it is approved.
APPROVER = "approver"

APPROVAL_STATES = (
    State("awaiting_approval", frozenset({SLA_PAUSED})),
    State("rejected", frozenset({TERMINAL})),
)

APPROVAL_TRANSITIONS = (
    Transition("await_approval", ("new",), "awaiting_approval", performed_by=(SYSTEM,)),
    Transition("approve", ("awaiting_approval",), "new", performed_by=(APPROVER,)),
    Transition("reject", ("awaiting_approval",), "rejected", performed_by=(APPROVER,),
               guards=("has_reason",)),
    Transition("cancel", ("awaiting_approval",), "cancelled", performed_by=(REQUESTER, AGENT),
               guards=("has_reason",)),
)
# --- end of approval ----------------------------------------------------------------------

STATES = (*INCIDENT_STATES, *APPROVAL_STATES)

TRANSITIONS = (
    *INCIDENT_TRANSITIONS,
    # Requesters may withdraw an order that is delivered but not yet confirmed.
    Transition("cancel", ("resolved",), "cancelled", performed_by=(REQUESTER, AGENT),
               guards=("has_reason",)),
    *APPROVAL_TRANSITIONS,
)

SERVICE_REQUEST = Workflow(
    name="service_request", initial="new", states=STATES, transitions=TRANSITIONS
)
