"""Names people read for the helpdesk's codes (pure; translated where shown).

``Label`` marks a message parameter that must be translated too when the
message is shown, e.g. the state in "not possible while the ticket is Resolved".
"""

from __future__ import annotations

from helpdesk.core.i18n import N_


class Label(str):
    """A parameter value that is itself a message to translate."""

    __slots__ = ()


STATUS_LABELS = {
    "new": N_("New"),
    "open": N_("Open"),
    "in_progress": N_("In progress"),
    "waiting_for_customer": N_("Waiting for requester"),
    "resolved": N_("Resolved"),
    "closed": N_("Closed"),
    "cancelled": N_("Cancelled"),
    # The approval of service requests (catalogue)
    "awaiting_approval": N_("Awaiting approval"),
    "rejected": N_("Rejected"),
    "waiting_for_vendor": N_("Waiting for vendor"),
}

EVENT_LABELS = {
    "take": N_("Take"),
    "assign": N_("Assign"),
    "ask_requester": N_("Ask the requester"),
    "requester_replied": N_("Answer"),
    "escalate": N_("Escalate"),
    "return_to_level_1": N_("Return to level 1"),
    "resolve": N_("Resolve"),
    "reopen": N_("Reopen"),
    "confirm": N_("Confirm the solution"),
    "auto_close": N_("Close automatically"),
    "cancel": N_("Cancel the ticket"),
    # The approval of service requests (catalogue)
    "await_approval": N_("Send for approval"),
    "approve": N_("Approve"),
    "reject": N_("Reject"),
    "hand_to_vendor": N_("Hand to a vendor"),
    "vendor_replied": N_("Vendor's answer"),
    "vendor_solved": N_("The vendor reports a solution"),
    "recall_handoff": N_("Recall the handoff"),
}

LIFECYCLE_LABELS = {
    "proposed": N_("Proposed"),
    "pilot": N_("Pilot"),
    "active": N_("Active"),
    "retiring": N_("Being retired"),
    "retired": N_("Retired"),
}


def label_for(table: dict[str, str], code: str) -> Label:
    return Label(table.get(code, code))

# What a clock's warning or breach does (an SLA policy's, an OLA's, a vendor contract's).
EFFECT_LABELS = {
    "notify": N_("Notify the agent and the group's lead (its members when it has neither)"),
    "raise_priority": N_("Raise the ticket's priority one step"),
    "escalate": N_("Escalate to the next level"),
}
