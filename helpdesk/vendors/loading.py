"""The organisation file's ``vendors:`` section: checked with the rest, then written.

``org.loader`` calls ``check`` while it checks the whole file (nothing is written
yet) and ``load`` after the services exist. Loading again updates vendors,
contracts and agreements by code; a vendor's contacts and service links are
replaced by what the file says.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from sqlalchemy import delete, select

from helpdesk.catalogue.models import Service
from helpdesk.extensions import db
from helpdesk.org.models import OrgUnit
from helpdesk.sla.models import Calendar
from helpdesk.vendors.models import (
    ServiceVendor,
    Vendor,
    VendorAgreement,
    VendorContact,
    VendorContract,
)

Finding = tuple[str, str]  # (path in the file, what is wrong)


def _codes(column: Any) -> set[str]:
    return set(db.session.scalars(select(column)).all())


def _twice(values: list[str], path: str) -> Iterator[Finding]:
    counts = Counter(values)
    for value, n in counts.items():
        if n > 1:
            yield path, f"{value!r} appears more than once"


def check(data: dict[str, Any]) -> Iterator[Finding]:
    vendors = data["vendors"]
    calendars = {c["code"] for c in data["calendars"]} | _codes(Calendar.code)
    services = {s["code"] for s in data["services"]} | _codes(Service.code)
    units = {u["code"] for u in data["org_units"]} | _codes(OrgUnit.code)
    yield from _twice([v["code"] for v in vendors], "vendors")
    yield from _twice([c["code"] for v in vendors for c in v["contracts"]], "vendors.contracts")
    yield from _twice([a["code"] for v in vendors for a in v["agreements"]], "vendors.agreements")
    for i, vendor in enumerate(vendors):
        at = f"vendors[{i}]"
        contracts = {c["code"] for c in vendor["contracts"]}
        for j, contract in enumerate(vendor["contracts"]):
            if contract["calendar"] not in calendars:
                yield f"{at}.contracts[{j}].calendar", f"unknown calendar {contract['calendar']!r}"
        for j, link in enumerate(vendor["services"]):
            if link["service"] not in services:
                yield f"{at}.services[{j}].service", f"unknown service {link['service']!r}"
            if link["contract"] not in contracts:
                yield (f"{at}.services[{j}].contract",
                       f"{link['contract']!r} is not one of this vendor's contracts")
        yield from _twice([link["service"] for link in vendor["services"]], f"{at}.services")
        for j, agreement in enumerate(vendor["agreements"]):
            if agreement["org_unit"] and agreement["org_unit"] not in units:
                yield f"{at}.agreements[{j}].org_unit", f"unknown org unit {agreement['org_unit']!r}"
            if agreement["contract"] and agreement["contract"] not in contracts:
                yield (f"{at}.agreements[{j}].contract",
                       f"{agreement['contract']!r} is not one of this vendor's contracts")
            # A local agreement may name a service the catalogue does not (yet) hold: kept as
            # written, so the register still shows it.


def _upsert(model: Any, code: str) -> Any:
    # Without autoflush: a half-filled row must not be written by this lookup.
    with db.session.no_autoflush:
        row = db.session.scalar(select(model).where(model.code == code))
    if row is None:
        row = model(code=code)
        db.session.add(row)
    return row


def _targets(targets: dict[str, dict[str, int | None]]) -> dict[str, dict[str, int]]:
    return {key.removeprefix("P"): {what: minutes for what, minutes in value.items() if minutes}
            for key, value in targets.items()}


def load(data: dict[str, Any]) -> int:
    """Write the vendors; the caller commits. Returns how many there were."""
    for item in data["vendors"]:
        db.session.flush()
        vendor = _upsert(Vendor, item["code"])
        vendor.name, vendor.support_email = item["name"], item["support_email"].lower()
        vendor.mail_domains = [d.lower() for d in item["mail_domains"]]
        vendor.case_pattern, vendor.solved_pattern = item["case_pattern"], item["solved_pattern"]
        vendor.locale, vendor.instructions = item["locale"], item["instructions"]
        vendor.contacts = [VendorContact(name=c["name"], email=c["email"], phone=c["phone"],
                                         role=c["role"]) for c in item["contacts"]]
        contracts: dict[str, VendorContract] = {}
        for entry in item["contracts"]:
            calendar = db.session.scalars(
                select(Calendar).where(Calendar.code == entry["calendar"])).one()
            contract = _upsert(VendorContract, entry["code"])
            contract.vendor, contract.name, contract.calendar = vendor, entry["name"], calendar
            contract.warning_percent = entry["warning_percent"]
            contract.targets = _targets(entry["targets"])
            contract.effects = entry["effects"]
            contracts[entry["code"]] = contract
        db.session.flush()
        db.session.execute(delete(ServiceVendor).where(ServiceVendor.vendor_id == vendor.id))
        for link in item["services"]:
            with db.session.no_autoflush:
                service = db.session.scalars(
                    select(Service).where(Service.code == link["service"])).one()
            db.session.add(ServiceVendor(service=service, vendor=vendor,
                                         contract=contracts[link["contract"]],
                                         from_level=link["from_level"]))
        for entry in item["agreements"]:
            unit = db.session.scalar(
                select(OrgUnit).where(OrgUnit.code == entry["org_unit"])) if entry["org_unit"] else None
            agreement = _upsert(VendorAgreement, entry["code"])
            agreement.vendor, agreement.title = vendor, entry["title"]
            agreement.service_code, agreement.instructions = entry["service"], entry["instructions"]
            agreement.org_unit = unit
            agreement.contract = contracts.get(entry["contract"]) if entry["contract"] else None
            agreement.valid_from, agreement.valid_until = entry["valid_from"], entry["valid_until"]
    db.session.flush()
    return len(data["vendors"])
