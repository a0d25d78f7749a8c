"""The agreements register as a service's page reads it: central and the department's own."""

from __future__ import annotations

from datetime import date

from helpdesk.extensions import db
from helpdesk.vendors.models import VendorAgreement
from helpdesk.vendors.queries import agreements_for


def test_a_department_sees_the_central_agreements_and_its_own_while_valid(vendor_org):
    v = vendor_org
    chem, admin = v.org.with_helpdesk, v.org.without_helpdesk
    for code, unit, until in (("central", None, None), ("chem-local", chem, date(2026, 6, 30)),
                              ("admin-local", admin, None)):
        db.session.add(VendorAgreement(code=code, vendor=v.acme, title=code, service_code="mail",
                                       org_unit=unit, instructions="", valid_until=until))
    db.session.flush()
    assert [a.code for a in agreements_for("mail")] == ["central"]
    assert [a.code for a in agreements_for("mail", org_unit_id=chem.id)] == ["central",
                                                                            "chem-local"]
    assert [a.code for a in agreements_for("mail", org_unit_id=chem.id,
                                           on=date(2026, 7, 1))] == ["central"]
    assert agreements_for("printing", org_unit_id=chem.id) == []
