"""External vendors, their underpinning contracts (UC), the agreements register and handoffs.

A vendor is reached by mail at its support address; what it writes back is
recognised by our tag, by its own case number (``case_pattern``) or by the
thread headers. A handoff is one ticket handed to one vendor under one contract;
its UC clocks are ordinary ``SlaClock`` rows that point at it.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.core.types import UTCDateTime, value_enum
from helpdesk.extensions import db

if TYPE_CHECKING:
    from helpdesk.accounts.models import User
    from helpdesk.catalogue.models import Service
    from helpdesk.org.models import OrgUnit
    from helpdesk.sla.models import Calendar
    from helpdesk.tickets.models import Message, Ticket
    from helpdesk.tiers.models import SupportGroup


class Vendor(db.Model):  # type: ignore[name-defined]
    __tablename__ = "vendors"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    support_email: Mapped[str] = mapped_column(String(254))
    # Mail from these domains (besides the support address and contacts) is the vendor's.
    mail_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A regular expression finding the vendor's own case number in a subject or text.
    case_pattern: Mapped[str | None] = mapped_column(String(200))
    # A regular expression on a reply's subject saying the vendor reports a solution.
    solved_pattern: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(5), default="sv")
    instructions: Mapped[str] = mapped_column(Text, default="")

    contacts: Mapped[list[VendorContact]] = relationship(
        back_populates="vendor", order_by="VendorContact.id", cascade="all, delete-orphan")
    contracts: Mapped[list[VendorContract]] = relationship(
        back_populates="vendor", order_by="VendorContract.code")

    def addresses(self) -> set[str]:
        return {self.support_email.lower(), *(c.email.lower() for c in self.contacts if c.email)}

    def sends_from(self, address: str) -> bool:
        address = address.lower()
        domain = address.rpartition("@")[2]
        return address in self.addresses() or domain in {d.lower() for d in self.mail_domains}


class VendorContact(db.Model):  # type: ignore[name-defined]
    __tablename__ = "vendor_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(100), default="")

    vendor: Mapped[Vendor] = relationship(back_populates="contacts")


class VendorContract(db.Model):  # type: ignore[name-defined]
    """An underpinning contract: the vendor's response and resolution targets on a calendar."""

    __tablename__ = "vendor_contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id"))
    warning_percent: Mapped[int] = mapped_column(Integer, default=75)
    # {"1": {"response": 60, "resolution": 480}, ...}: business minutes per priority.
    targets: Mapped[dict[str, dict[str, int]]] = mapped_column(JSON)
    # {"warning": ["notify"], "breach": ["notify"]}, as an SLA policy's.
    effects: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)

    vendor: Mapped[Vendor] = relationship(back_populates="contracts")
    calendar: Mapped[Calendar] = relationship()

    def target_minutes(self, priority: int, what: str) -> int | None:
        return (self.targets or {}).get(str(priority), {}).get(what)


class ServiceVendor(db.Model):  # type: ignore[name-defined]
    """A service's tickets may be handed to this vendor, under this contract, from this tier."""

    __tablename__ = "service_vendors"
    __table_args__ = (UniqueConstraint("service_id", "vendor_id",
                                       name="uq_service_vendors_service_vendor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"))
    contract_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts.id"))
    from_level: Mapped[int] = mapped_column(Integer)

    service: Mapped[Service] = relationship()
    vendor: Mapped[Vendor] = relationship()
    contract: Mapped[VendorContract] = relationship()


class VendorAgreement(db.Model):  # type: ignore[name-defined]
    """The central register of support agreements, a department's local ones included.

    A service is named by code (it may be one the catalogue does not hold), and a local
    agreement names the org unit it belongs to.
    """

    __tablename__ = "vendor_agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    service_code: Mapped[str | None] = mapped_column(String(50))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("vendor_contracts.id"))
    instructions: Mapped[str] = mapped_column(Text, default="")
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)

    vendor: Mapped[Vendor] = relationship()
    org_unit: Mapped[OrgUnit | None] = relationship()
    contract: Mapped[VendorContract | None] = relationship()


class HandoffStatus(enum.StrEnum):
    WAITING = "waiting"  # with the vendor
    SOLVED = "solved"  # the vendor reported a solution; back with the group
    RECALLED = "recalled"  # taken back by the group


class VendorHandoff(db.Model):  # type: ignore[name-defined]
    __tablename__ = "vendor_handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("vendor_contracts.id"))
    from_group_id: Mapped[int] = mapped_column(ForeignKey("support_groups.id"))
    handed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    handed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[HandoffStatus] = mapped_column(value_enum(HandoffStatus, 10))
    # The vendor's own case number, learned from its first reply.
    case_number: Mapped[str | None] = mapped_column(String(100), index=True)
    # The Message-ID of the mail that handed the ticket over (its thread).
    mail_message_id: Mapped[str | None] = mapped_column(String(500), index=True)
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome_note: Mapped[str | None] = mapped_column(Text)

    ticket: Mapped[Ticket] = relationship()
    vendor: Mapped[Vendor] = relationship()
    contract: Mapped[VendorContract] = relationship()
    from_group: Mapped[SupportGroup] = relationship()
    handed_by: Mapped[User] = relationship(foreign_keys=[handed_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    mails: Mapped[list[HandoffMail]] = relationship(back_populates="handoff",
                                                    order_by="HandoffMail.id")

    @property
    def active(self) -> bool:
        return self.status == HandoffStatus.WAITING


class HandoffMail(db.Model):  # type: ignore[name-defined]
    """A message of the ticket that went to or came from the vendor of a handoff."""

    __tablename__ = "vendor_handoff_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("vendor_handoffs.id"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    incoming: Mapped[bool] = mapped_column(default=False)
    sender: Mapped[str] = mapped_column(String(254), default="")

    handoff: Mapped[VendorHandoff] = relationship(back_populates="mails")
    message: Mapped[Message] = relationship()
