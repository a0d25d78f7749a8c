"""The catalogue in the organisation file: the demo's catalogue, and the gate on loading."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from helpdesk.catalogue.models import Lifecycle, Ordering, Service, SupportModel
from helpdesk.org.loader import OrgFileError, load, load_file, parse
from tests.support import fast_password_hashing

DEMO_FILE = Path(__file__).resolve().parents[3] / "examples" / "demo-org.yaml"


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


BASE = """
groups:
  - {code: desk, name: Servicedesk, tier: 1, kind: service_desk, members: [sara@test.example]}
  - {code: central, name: Central support, tier: 2, kind: central_support}
users:
  - {email: sara@test.example, name: Sara, role: agent}
  - {email: boss@test.example, name: Chefen, role: requester}
services:
"""


def load_services(services: str) -> None:
    load(parse(BASE + services, "org.yaml"))


def problems(services: str) -> list[str]:
    with pytest.raises(OrgFileError) as refused:
        load_services(services)
    return [f"{p.path}: {p.message}" for p in refused.value.problems]


def test_the_demo_has_a_full_catalogue(session):
    load_file(DEMO_FILE)
    services = {s.code: s for s in session.scalars(select(Service))}
    assert len(services) >= 8
    assert services["fax"].lifecycle == Lifecycle.RETIRING
    assert services["fax"].retiring_on == date(2026, 12, 31)
    assert services["ai-assistent"].lifecycle == Lifecycle.PROPOSED
    assert services["mobiltelefoni"].support_model == SupportModel.VENDOR_DIRECT
    assert "Operatören AB" in services["mobiltelefoni"].vendor_contact
    software = services["programvara"]
    assert software.requires_approval and [u.email for u in software.approvers] == [
        "gunilla.approver@demo.example"]
    assert [f["name"] for f in software.request_form] == [
        "software", "licences", "platform", "needed_by", "cost_ok"]
    assert services["videomote"].sla_policy is None and services["videomote"].no_sla
    assert services["epost"].maintenance_windows[0].description_en
    meeting = services["sammantradesrum"]
    assert (meeting.information_class, meeting.price_unit) == (1, "per dator")
    # Everything in use passed the gate; the proposed service has not decided its SLA yet.
    assert not services["ai-assistent"].no_sla


def test_a_service_in_use_must_have_passed_the_gate(session):
    found = problems("""
  - {code: drift, name: Drift, level1: service_desk, level2_group: central}
  - {code: ny, name: Ny, level1: service_desk, lifecycle: proposed}
""")
    assert found == ["services[0]: drift is a service in use (active): it has passed the "
                     "publication gate, so it needs the level-1 routine, the level-2 routine"]


def test_no_sla_is_written_as_none_and_the_entry_is_loaded_whole(session):
    load_services("""
  - code: order
    name: Beställning
    level1: service_desk
    sla_policy: none
    routines: {level1: Svara.}
    ordering: authorised
    orderers: [boss@test.example]
    requires_approval: true
    approvers: [boss@test.example]
    information_class: 2
    request_form:
      - {name: antal, label: Antal, type: number, required: true}
    maintenance:
      - {starts_at: "2026-12-05T18:00:00+01:00", ends_at: "2026-12-05T20:00:00+01:00"}
""")
    service = session.scalar(select(Service).where(Service.code == "order"))
    assert service.no_sla and service.sla_policy is None
    assert service.ordering == Ordering.AUTHORISED and service.requires_approval
    assert [u.email for u in service.orderers] == ["boss@test.example"]
    assert service.request_form[0]["type"] == "number"
    [window] = service.maintenance_windows
    assert window.ends_at == datetime(2026, 12, 5, 19, 0, tzinfo=UTC)


@pytest.mark.parametrize(("entry", "expected"), [
    ("lifecycle: retiring", "services[0].retiring_on: a service being retired needs retiring_on"),
    ("requires_approval: true", "services[0].approvers: approval needs at least one approver"),
    ("approvers: [nobody@test.example]", "services[0].approvers[0]: unknown user "
                                          "'nobody@test.example'"),
    ("information_class: 5", "services[0].information_class: "),
    ("request_form: [{name: a, label: A, type: choice}]",
     "services[0].request_form: [0].choices: a choice field needs choices"),
])
def test_a_broken_catalogue_entry_is_named(session, entry, expected):
    found = problems(f"""
  - code: drift
    name: Drift
    level1: service_desk
    routines: {{level1: Svara.}}
    {entry}
""")
    assert any(p.startswith(expected) for p in found), found


def test_loading_again_replaces_the_windows_and_people(session):
    entry = """
  - code: drift
    name: Drift
    level1: service_desk
    routines: {level1: Svara.}
    requires_approval: true
    approvers: [boss@test.example]
    maintenance:
      - {starts_at: "2026-12-05T18:00:00+01:00", ends_at: "2026-12-05T20:00:00+01:00"}
"""
    load_services(entry)
    load_services(entry.replace("boss@test.example", "sara@test.example")
                  .replace("2026-12-05", "2026-12-06"))
    service = session.scalar(select(Service).where(Service.code == "drift"))
    assert [u.email for u in service.approvers] == ["sara@test.example"]
    assert [w.starts_at.day for w in service.maintenance_windows] == [6]
