"""Reading the agreements register: what a service's page (catalogue) shows about vendors."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, or_, select

from helpdesk.extensions import db
from helpdesk.vendors.models import VendorAgreement


def agreements_for(service_code: str, *, org_unit_id: int | None = None,
                   on: date | None = None) -> list[VendorAgreement]:
    """The agreements under which a service is supported by a vendor: the central ones, and
    the local ones of ``org_unit_id``'s department; only those valid ``on`` that day if given."""
    query = select(VendorAgreement).where(VendorAgreement.service_code == service_code)
    units: list[ColumnElement[bool]] = [VendorAgreement.org_unit_id.is_(None)]
    if org_unit_id is not None:
        units.append(VendorAgreement.org_unit_id == org_unit_id)
    query = query.where(or_(*units))
    if on is not None:
        query = query.where(or_(VendorAgreement.valid_from.is_(None),
                                VendorAgreement.valid_from <= on),
                            or_(VendorAgreement.valid_until.is_(None),
                                VendorAgreement.valid_until >= on))
    return list(db.session.scalars(query.order_by(VendorAgreement.org_unit_id.is_(None).desc(),
                                                  VendorAgreement.code)).all())
