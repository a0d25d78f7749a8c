"""Recognising a vendor's mail and the handoff it answers.

A mail is the vendor's when it comes from its support address, one of its
contacts or one of its mail domains. It answers a handoff found by our tag in the
subject or by the thread headers (``mail.ingest.find_ticket`` finds the ticket),
or else by the vendor's own case number, once we learned it from an earlier answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from helpdesk.vendors.models import Vendor, VendorContact, VendorHandoff


@dataclass(frozen=True)
class VendorMail:
    handoff: VendorHandoff
    case_number: str | None  # the vendor's case number, as the mail gives it
    solved: bool  # the vendor says it is solved


def case_numbers(vendor: Vendor, *texts: str) -> list[str]:
    """The vendor's case numbers in these texts, first found first (the pattern's first
    group if it has one, else the whole match)."""
    if not vendor.case_pattern:
        return []
    try:
        pattern = re.compile(vendor.case_pattern)
    except re.error:
        return []
    found: list[str] = []
    for text in texts:
        for match in pattern.finditer(text or ""):
            number = match.group(1) if pattern.groups else match.group(0)
            if number and number not in found:
                found.append(number)
    return found


def _reports_solution(vendor: Vendor, subject: str) -> bool:
    if not vendor.solved_pattern:
        return False
    try:
        return re.search(vendor.solved_pattern, subject or "") is not None
    except re.error:
        return False


def vendors_sending_from(address: str | None) -> list[Vendor]:
    """The vendors whose mail this is. Asked of every mail that comes in, so it reads plain
    columns (no vendor rows, no contacts per vendor) until one matches."""
    if not address:
        return []
    address = address.lower()
    domain = address.rpartition("@")[2]
    ids = {vendor_id for vendor_id, support, domains in db.session.execute(
               select(Vendor.id, Vendor.support_email, Vendor.mail_domains))
           if support.lower() == address or domain in {d.lower() for d in domains or ()}}
    ids.update(db.session.scalars(select(VendorContact.vendor_id).where(
        func.lower(VendorContact.email) == address)))
    if not ids:
        return []
    return list(db.session.scalars(select(Vendor).where(Vendor.id.in_(ids)).order_by(Vendor.id)))


def recognise(sender: str | None, subject: str, text: str,
              ticket: Ticket | None) -> VendorMail | None:
    """The handoff a vendor's mail answers, or None when it is not a vendor's mail about one.

    ``ticket`` is what our tag or the thread headers found (or None).
    """
    for vendor in vendors_sending_from(sender):
        numbers = case_numbers(vendor, subject, text)
        handoff = _by_ticket(vendor, ticket) if ticket is not None else _by_case(vendor, numbers)
        if handoff is not None:
            return VendorMail(handoff, numbers[0] if numbers else None,
                              _reports_solution(vendor, subject))
    return None


def _by_ticket(vendor: Vendor, ticket: Ticket) -> VendorHandoff | None:
    """The vendor's open handoff on the ticket, else its latest one."""
    found = db.session.scalars(select(VendorHandoff).where(
        VendorHandoff.ticket_id == ticket.id, VendorHandoff.vendor_id == vendor.id)
        .order_by(VendorHandoff.id.desc())).all()
    return next((h for h in found if h.active), found[0] if found else None)


def _by_case(vendor: Vendor, numbers: list[str]) -> VendorHandoff | None:
    if not numbers:
        return None
    return db.session.scalars(select(VendorHandoff).where(
        VendorHandoff.vendor_id == vendor.id, VendorHandoff.case_number.in_(numbers))
        .order_by(VendorHandoff.id.desc())).first()
