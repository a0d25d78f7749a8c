from tests.conftest import login


def test_requester_submits_and_sees_ticket(client, org):
    login(client, org.requester)
    response = client.post(f"/portal/services/{org.service.code}",
                           data={"subject": "Hej", "description": "Trasigt", "impact": "2",
                                 "urgency": "2"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert b"Grupp" in page.data


def test_rollback_isolates_tests(session):
    from helpdesk.tickets.models import Ticket
    assert session.query(Ticket).count() == 0
