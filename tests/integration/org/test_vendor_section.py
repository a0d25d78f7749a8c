"""The organisation file's ``vendors:`` section: contracts, service links, agreements."""

from __future__ import annotations

import copy

import pytest
import yaml
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.org.loader import OrgFileError, load, load_file, parse
from helpdesk.vendors.models import ServiceVendor, Vendor, VendorAgreement
from tests.integration.org.test_loader import DEMO_FILE, VALID
from tests.support import fast_password_hashing


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


VENDOR = {
    "code": "molnpost", "name": "Molnpost AB", "support_email": "Support@Molnpost.example",
    "case_pattern": r"\bMP-(\d{6})\b",
    "contacts": [{"name": "Maja", "email": "maja@molnpost.example", "role": "Kundansvarig"}],
    "contracts": [{"code": "molnpost-uc", "name": "Driftavtal", "calendar": "kontorstid",
                   "targets": {"P1": {"response": "1h", "resolution": "8h"}}}],
    "services": [{"service": "epost", "contract": "molnpost-uc", "from_level": 2}],
    "agreements": [{"code": "kemi-lab", "title": "Kemis labbsystem", "service": "labbsystem",
                    "org_unit": "kemi", "instructions": "Ring leverantören direkt."}],
}
CALENDAR = {"code": "kontorstid", "name": "Kontorstid", "weekly_hours": {"mon": "08:00-17:00"}}


def with_vendor(**changes) -> dict:
    org = copy.deepcopy(VALID)
    vendor = copy.deepcopy(VENDOR)
    vendor.update(changes)
    org["calendars"] = [CALENDAR]
    org["vendors"] = [vendor]
    return org


def test_the_demo_has_two_vendors_with_contracts_and_a_departments_local_agreement(session):
    summary = load_file(DEMO_FILE)
    assert summary.vendors == 2
    vendors = db.session.scalars(select(Vendor).order_by(Vendor.code)).all()
    assert [(v.code, len(v.contracts)) for v in vendors] == [("molnpost", 1),
                                                             ("natverksbolaget", 1)]
    local = db.session.scalars(select(VendorAgreement).where(
        VendorAgreement.org_unit_id.is_not(None))).one()
    assert local.org_unit.code == "fysik" and local.service_code == "labbnat"


def test_a_vendor_is_written_and_loading_again_updates_it(session):
    load(_parsed(with_vendor()))
    load(_parsed(with_vendor(name="Molnpost Sverige AB")))
    vendor = db.session.scalars(select(Vendor)).one()
    assert vendor.name == "Molnpost Sverige AB" and vendor.support_email == "support@molnpost.example"
    assert vendor.contracts[0].targets == {"1": {"response": 60, "resolution": 480}}
    assert vendor.sends_from("MAJA@molnpost.example")
    [route] = db.session.scalars(select(ServiceVendor)).all()
    assert (route.service.code, route.from_level) == ("epost", 2)
    assert db.session.scalars(select(VendorAgreement)).one().org_unit.code == "kemi"


def _parsed(org: dict) -> dict:
    return parse(yaml.safe_dump(org, allow_unicode=True), "org.yaml")


@pytest.mark.parametrize(("changes", "path", "message"), [
    ({"case_pattern": "MP-(\\d"}, "vendors[0].case_pattern", "not a valid regular expression"),
    ({"services": [{"service": "nope", "contract": "molnpost-uc", "from_level": 2}]},
     "vendors[0].services[0].service", "unknown service 'nope'"),
    ({"services": [{"service": "epost", "contract": "other", "from_level": 2}]},
     "vendors[0].services[0].contract", "'other' is not one of this vendor's contracts"),
    ({"contracts": [{"code": "molnpost-uc", "name": "x", "calendar": "nope", "targets": {}}]},
     "vendors[0].contracts[0].calendar", "unknown calendar 'nope'"),
    ({"agreements": [{"code": "a", "title": "t", "org_unit": "nope"}]},
     "vendors[0].agreements[0].org_unit", "unknown org unit 'nope'"),
])
def test_a_broken_vendor_is_refused_naming_the_path(session, changes, path, message):
    with pytest.raises(OrgFileError) as refused:
        _parsed(with_vendor(**changes))
    assert any(p.path == path and message in p.message for p in refused.value.problems), (
        refused.value.problems)
