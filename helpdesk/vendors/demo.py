"""The demo's vendor case: an e-mail fault that central support hands to Molnpost."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.catalogue.models import Service
from helpdesk.extensions import db
from helpdesk.tickets.operations import create_ticket, take_ticket
from helpdesk.tiers.models import SupportGroup
from helpdesk.tiers.operations import escalate_ticket
from helpdesk.vendors.models import Vendor, VendorHandoff
from helpdesk.vendors.operations import hand_off_to_vendor


def create_demo_handoff(now: datetime) -> VendorHandoff:
    settings = current_app.config["HELPDESK"]

    def user(email: str) -> User:
        return db.session.scalars(select(User).where(User.email == email)).one()

    lars, olof = user("lars.agent@demo.example"), user("olof.agent@demo.example")
    ticket = create_ticket(
        requester=user("anna.requester@demo.example"),
        service=db.session.scalars(select(Service).where(Service.code == "epost")).one(),
        subject="Kalenderinbjudningar kommer fram en dag för sent",
        description="Inbjudningar från kollegor dyker upp i min kalender först dagen efter.",
        impact=2, urgency=2, now=now - timedelta(hours=5), settings=settings)
    take_ticket(ticket, actor=lars, now=now - timedelta(hours=4, minutes=50), settings=settings)
    central = db.session.scalars(select(SupportGroup).where(
        SupportGroup.code == "central-support")).one()
    escalate_ticket(ticket, to_group=central, actor=lars, now=now - timedelta(hours=4, minutes=30),
                    reason="Gäller flera användare; troligen i Molnposts tjänst.", settings=settings)
    take_ticket(ticket, actor=olof, now=now - timedelta(hours=4), settings=settings)
    molnpost = db.session.scalars(select(Vendor).where(Vendor.code == "molnpost")).one()
    return hand_off_to_vendor(
        ticket, vendor=molnpost, actor=olof, now=now - timedelta(hours=3, minutes=30),
        settings=settings,
        message="Kalenderinbjudningar levereras med ett dygns fördröjning till flera av "
                "våra användare sedan i förrgår. Kan ni se vad som händer i er tjänst?")
