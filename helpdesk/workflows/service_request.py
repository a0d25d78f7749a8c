"""The service-request workflow: something is ordered and must be delivered.

It shares the incident's states and moves. It differs in one place: a
requester may withdraw an order that was delivered but not yet confirmed
(the wrong thing arrived), which for an incident makes no sense.
"""

from helpdesk.workflows.definitions import AGENT, REQUESTER, Transition, Workflow
from helpdesk.workflows.incident import STATES
from helpdesk.workflows.incident import TRANSITIONS as INCIDENT_TRANSITIONS

TRANSITIONS = (
    *INCIDENT_TRANSITIONS,
    # Requesters may withdraw an order that is delivered but not yet confirmed.
    Transition("cancel", ("resolved",), "cancelled", performed_by=(REQUESTER, AGENT),
               guards=("has_reason",)),
)

SERVICE_REQUEST = Workflow(
    name="service_request", initial="new", states=STATES, transitions=TRANSITIONS
)
