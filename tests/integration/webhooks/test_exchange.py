"""A ticket exchanged with another organisation's service desk, as the README's recipe
says: their people are a group of ours, their adapter receives our signed posts and
works the ticket through the API with one of their tokens."""

from __future__ import annotations

from datetime import timedelta

from helpdesk.core.clock import utcnow
from helpdesk.webhooks.sender import send_due, verify
from helpdesk.webhooks.subscriptions import add_subscription
from tests.conftest import NOW
from tests.web.api.client import ApiClient, new_ticket


def test_a_ticket_escalated_to_a_partners_group_reaches_their_adapter_and_is_worked_back(
        app, factory, org, receiver):
    # Limited to their group, so that no other ticket leaves the helpdesk.
    subscription = add_subscription(name="Partnerns servicedesk", url=receiver.url,
                                    events=["ticket.escalated"], groups=["level3"], now=NOW)
    requester = ApiClient(app, factory.api_token(org.requester))
    ours = ApiClient(app, factory.api_token(org.local_agent))
    partner = ApiClient(app, factory.api_token(org.level3_agent))  # their adapter's token
    not_theirs = new_ticket(requester)["reference"]
    reference = new_ticket(requester)["reference"]
    assert partner.get(f"/tickets/{reference}").status_code == 404  # not theirs yet

    for ticket, group in ((not_theirs, "level2"), (reference, "level3")):
        escalated = ours.post(f"/tickets/{ticket}/events", json={
            "event": "escalate", "to_group": group, "reason": "Leverantörens system"})
        assert escalated.status_code == 200, escalated.json
    assert send_due(clock=utcnow).delivered == 1
    assert len(receiver.received) == 1  # not the one escalated to another group

    # The adapter checks the post as the README says, and sees that it is for its group.
    post = receiver.received[0]
    assert verify(subscription.secret, post["headers"]["X-Helpdesk-Signature"],
                  post["headers"]["X-Helpdesk-Delivery"], post["body"],
                  now=utcnow() + timedelta(seconds=1))
    sent = receiver.json(0)
    assert (sent["event"], sent["ticket"]["reference"], sent["details"]["to_group"]) == (
        "ticket.escalated", reference, "level3")

    # While the ticket is with their group, their token works it like any agent's.
    assert partner.get(f"/tickets/{reference}").status_code == 200
    reply = partner.post(f"/tickets/{reference}/messages",
                         json={"body": "Vi har startat om tjänsten hos oss."})
    assert reply.status_code == 201, reply.json
    for step in ({"event": "take"},
                 {"event": "resolve", "note": "Tjänsten omstartad hos leverantören."}):
        answer = partner.post(f"/tickets/{reference}/events", json=step)
        assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "resolved"

    # The requester reads the partner's answer and its resolution, as from any agent.
    messages = requester.get(f"/tickets/{reference}/messages").json
    assert [m["body"] for m in messages] == ["Vi har startat om tjänsten hos oss.",
                                            "Tjänsten omstartad hos leverantören."]
    assert requester.get(f"/tickets/{reference}").json["status"] == "resolved"
