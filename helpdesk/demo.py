"""A few tickets for the demo, created through the same operations as the UI."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.catalogue.forms import load_answers
from helpdesk.catalogue.models import Service
from helpdesk.extensions import db
from helpdesk.tickets.models import TicketType
from helpdesk.tickets.operations import create_ticket, take_ticket
from helpdesk.tiers.models import SupportGroup
from helpdesk.tiers.operations import escalate_ticket


def _user(email: str) -> User:
    return db.session.scalars(select(User).where(User.email == email)).one()


def _service(code: str) -> Service:
    return db.session.scalars(select(Service).where(Service.code == code)).one()


def create_demo_tickets(now: datetime) -> None:
    settings = current_app.config["HELPDESK"]
    anna, erik = _user("anna.requester@demo.example"), _user("erik.requester@demo.example")
    create_ticket(requester=anna, service=_service("epost"), subject="Kan inte skicka e-post",
                  description="Sedan i morse fastnar all utgående post i utkorgen.",
                  impact=2, urgency=1, now=now - timedelta(hours=3), settings=settings)
    create_ticket(requester=erik, service=_service("konto"), subject="Forgot my password",
                  description="I cannot log in to the staff portal after my holiday.",
                  impact=3, urgency=2, now=now - timedelta(hours=2), settings=settings)
    network = create_ticket(
        requester=_user("karin.requester@demo.example"), service=_service("natverk"),
        subject="Eduroam tappar anslutningen", description="Labbet på plan 3 tappar wifi hela tiden.",
        impact=1, urgency=2, now=now - timedelta(hours=1), settings=settings,
    )
    take_ticket(network, actor=_user("sofia.agent@demo.example"), now=now - timedelta(minutes=50),
                settings=settings)
    central = db.session.scalars(select(SupportGroup).where(SupportGroup.code == "central-support")).one()
    escalate_ticket(network, to_group=central, actor=_user("sofia.agent@demo.example"),
                    reason="Gäller hela våningen, inte en enskild dator.",
                    now=now - timedelta(minutes=40), settings=settings)
    # An order that waits for its approver (Gunilla) before it reaches the service desk.
    create_ticket(
        requester=anna, service=_service("programvara"), subject="MATLAB till laborationen",
        description="Tre licenser till kursens datorer.", impact=3, urgency=3,
        now=now - timedelta(minutes=30), settings=settings, ticket_type=TicketType.SERVICE_REQUEST,
        form_answers=load_answers(_service("programvara").request_form, {
            "form_software": "MATLAB", "form_licences": "3", "form_platform": "Windows",
            "form_cost_ok": "true"}),
    )
    # External vendors: an e-mail fault handed to Molnpost (helpdesk.vendors).
    from helpdesk.vendors.demo import create_demo_handoff

    create_demo_handoff(now)
