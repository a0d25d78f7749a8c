"""Loading an organisation from its YAML file: the demo, broken files, reloading, the CLI."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from helpdesk.accounts.models import Role, User
from helpdesk.catalogue.models import Level1Choice, RoutingRule, Service
from helpdesk.cli import main as helpdesk_cli
from helpdesk.extensions import db
from helpdesk.org.loader import OrgFileError, load, load_file, parse
from helpdesk.org.models import OrgUnit
from helpdesk.tiers.models import GroupKind, SupportGroup, support_group_members
from tests.support import fast_password_hashing


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


DEMO_FILE = Path(__file__).resolve().parents[3] / "examples" / "demo-org.yaml"

# The smallest organisation the loader accepts; broken files are variations of it.
VALID = {
    "name": "Testuniversitetet",
    "org_units": [
        {"code": "kemi", "name": "Kemi", "local_helpdesk": "kemi-helpdesk"},
        {"code": "forvaltning", "name": "Förvaltningen"},
    ],
    "groups": [
        {"code": "servicedesk", "name": "Servicedesk", "tier": 1, "kind": "service_desk",
         "members": ["sara@test.example"]},
        {"code": "kemi-helpdesk", "name": "Kemis helpdesk", "tier": 1, "kind": "local_helpdesk",
         "members": ["lars@test.example"]},
        {"code": "central", "name": "Central support", "tier": 2, "kind": "central_support",
         "lead": "sara@test.example"},
        {"code": "experter", "name": "Experter", "tier": 3, "kind": "expert_group"},
    ],
    "services": [
        {"code": "epost", "name": "E-post", "category": "Kommunikation",
         "level1": "local_helpdesk", "level2_group": "central", "level3_groups": ["experter"],
         "routines": {"level1": "Ask.", "level2": "Check.", "level3": "Fix."}},
    ],
    "users": [
        {"email": "sara@test.example", "name": "Sara Nilsson", "role": "agent",
         "org_unit": "forvaltning"},
        {"email": "lars@test.example", "name": "Lars Larsson", "role": "agent", "org_unit": "kemi"},
    ],
    "routing_rules": [{"group": "servicedesk", "service": "epost", "org_unit": "forvaltning"}],
}


def counts() -> dict[str, int]:
    tables = {"org_units": OrgUnit, "groups": SupportGroup, "services": Service, "users": User,
              "routing_rules": RoutingRule}
    found = {name: db.session.scalar(select(func.count()).select_from(model))
             for name, model in tables.items()}
    found["memberships"] = db.session.scalar(
        select(func.count()).select_from(support_group_members))
    return found


def write(tmp_path: Path, org: dict | str, name: str = "org.yaml") -> Path:
    path = tmp_path / name
    path.write_text(org if isinstance(org, str) else yaml.safe_dump(org, allow_unicode=True),
                    encoding="utf-8")
    return path


def valid() -> dict:
    return copy.deepcopy(VALID)


def test_the_demo_organisation_loads(session):
    summary = load_file(DEMO_FILE)

    units = session.scalars(select(OrgUnit)).all()
    groups = session.scalars(select(SupportGroup)).all()
    assert summary.org_units == len(units) == 3
    assert sum(1 for u in units if u.local_helpdesk is not None) == 2
    assert all(u.local_helpdesk.kind == GroupKind.LOCAL_HELPDESK
               for u in units if u.local_helpdesk)
    assert [g.tier for g in groups if g.kind == GroupKind.SERVICE_DESK] == [1]
    assert [g.tier for g in groups if g.kind == GroupKind.CENTRAL_SUPPORT] == [2]
    assert sorted(g.code for g in groups if g.kind == GroupKind.EXPERT_GROUP and g.tier == 3) == [
        "kommunikation-experter", "natverk-experter", "system-experter"]
    services = session.scalars(select(Service)).all()
    assert len(services) >= 8
    meeting = next(s for s in services if s.code == "sammantradesrum")
    assert meeting.level1 == Level1Choice.GROUP
    assert meeting.level1_group.code == "namndsekreterare"
    users = session.scalars(select(User)).all()
    assert {u.role for u in users} == set(Role)
    assert all(g.members for g in groups), "every demo group has someone to work its queue"
    anna = next(u for u in users if u.email == "anna.requester@demo.example")
    assert anna.check_password("helpdesk-demo")
    assert anna.org_unit.code == "kemi"


def test_a_valid_file_is_written_and_loading_it_again_updates_rather_than_duplicates(
        session, tmp_path):
    path = write(tmp_path, VALID)
    load_file(path)
    first = counts()
    assert first == {"org_units": 2, "groups": 4, "services": 1, "users": 2, "routing_rules": 1,
                     "memberships": 2}

    changed = valid()
    changed["services"][0]["name"] = "E-post och kalender"
    changed["groups"][0]["members"] = ["sara@test.example", "lars@test.example"]
    changed["users"][1]["name"] = "Lars L. Larsson"
    load_file(write(tmp_path, changed))

    assert counts() == {**first, "memberships": 3}
    service = session.scalar(select(Service).where(Service.code == "epost"))
    assert service.name == "E-post och kalender"
    assert session.scalar(select(User.name).where(User.email == "lars@test.example")) == (
        "Lars L. Larsson")
    desk = session.scalar(select(SupportGroup).where(SupportGroup.code == "servicedesk"))
    assert {u.email for u in desk.members} == {"sara@test.example", "lars@test.example"}


def _without_desk(org: dict) -> None:
    org["groups"] = [g for g in org["groups"] if g["kind"] != "service_desk"]
    org["routing_rules"] = []


def _set(path: tuple, value: object):
    def mutate(org: dict) -> None:
        target = org
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


BROKEN = [
    pytest.param(_set(("departments",), []), "departments", "Unknown field.",
                 id="unknown-top-level-key"),
    pytest.param(_set(("groups", 2, "tier"), 1), "groups[2].tier",
                 "a central_support group is at tier 2", id="wrong-tier-for-kind"),
    pytest.param(_set(("services", 0, "level2_group"), "centrl"), "services[0].level2_group",
                 "unknown group 'centrl'", id="unknown-group"),
    pytest.param(_set(("services", 0, "level2_group"), "experter"), "services[0].level2_group",
                 "group 'experter' is at tier 3, not 2", id="level2-group-not-tier-2"),
    pytest.param(_set(("services", 0, "level3_groups"), ["central"]),
                 "services[0].level3_groups[0]", "group 'central' is at tier 2, not 3",
                 id="level3-group-not-tier-3"),
    pytest.param(_set(("groups", 3, "code"), "central"), "groups[3].code",
                 "'central' appears more than once", id="duplicate-group-code"),
    pytest.param(_set(("org_units", 1, "code"), "kemi"), "org_units[1].code",
                 "'kemi' appears more than once", id="duplicate-org-unit-code"),
    pytest.param(_set(("groups", 1, "members"), ["lars@test.example", "nobody@test.example"]),
                 "groups[1].members[1]", "unknown user 'nobody@test.example'",
                 id="unknown-member"),
    pytest.param(_without_desk, "groups",
                 "services route to the central service desk, but no group has kind service_desk",
                 id="missing-service-desk"),
    pytest.param(_set(("org_units", 0, "local_helpdesk"), "servicedesk"),
                 "org_units[0].local_helpdesk", "group 'servicedesk' is not a local_helpdesk",
                 id="local-helpdesk-of-wrong-kind"),
]


@pytest.mark.parametrize(("mutate", "where", "message"), BROKEN)
def test_a_broken_file_is_refused_naming_file_and_path_and_nothing_is_written(
        session, tmp_path, mutate, where, message):
    org = valid()
    mutate(org)
    path = write(tmp_path, org)
    before = counts()

    with pytest.raises(OrgFileError) as refused:
        load_file(path)

    assert f"{path}: {where}: {message}" in str(refused.value).splitlines()
    assert counts() == before


def test_invalid_yaml_is_refused_naming_line_and_column(session, tmp_path):
    path = write(tmp_path, "org_units:\n  - code: kemi\n   name: Kemi\n")
    with pytest.raises(OrgFileError) as refused:
        load_file(path)
    assert str(refused.value).startswith(f"{path}: line 3, column 4: not valid YAML")
    assert counts() == dict.fromkeys(counts(), 0)


def test_a_file_that_is_not_a_mapping_or_not_there_is_refused(session, tmp_path):
    with pytest.raises(OrgFileError, match="the file must hold a mapping at the top"):
        load_file(write(tmp_path, "- kemi\n- fysik\n"))
    missing = tmp_path / "missing.yaml"
    with pytest.raises(OrgFileError) as refused:
        load_file(missing)
    assert str(refused.value).startswith(f"{missing}: cannot read the file")


def test_every_problem_in_a_file_is_reported_at_once(session):
    org = valid()
    org["services"][0]["level2_group"] = "centrl"
    org["groups"][1]["members"] = ["nobody@test.example"]
    with pytest.raises(OrgFileError) as refused:
        parse(yaml.safe_dump(org), "org.yaml")
    paths = {problem.path for problem in refused.value.problems}
    assert paths == {"services[0].level2_group", "groups[1].members[0]"}


def test_a_broken_update_leaves_the_loaded_organisation_as_it_was(session, tmp_path):
    load(parse(yaml.safe_dump(VALID), "org.yaml"))
    before = counts()
    org = valid()
    org["services"][0]["name"] = "Nytt namn"
    org["org_units"].append({"code": "fysik", "name": "Fysik"})
    org["services"][0]["level3_groups"] = ["okand"]
    with pytest.raises(OrgFileError):
        load_file(write(tmp_path, org))
    assert counts() == before
    assert session.scalar(select(Service.name).where(Service.code == "epost")) == "E-post"


def test_references_may_point_at_what_an_earlier_file_loaded(session, tmp_path):
    load_file(write(tmp_path, VALID, "base.yaml"))
    load_file(write(tmp_path, {
        "services": [{"code": "natverk", "name": "Nätverk", "level1": "service_desk",
                      "level2_group": "central", "level3_groups": ["experter"],
                      "routines": {"level1": "Ask.", "level2": "Check.", "level3": "Fix."}}],
    }, "more.yaml"))
    service = session.scalar(select(Service).where(Service.code == "natverk"))
    assert service.level2_group.code == "central"


def test_cli_refuses_a_broken_file_and_loads_nothing(app, session, tmp_path):
    org = valid()
    org["services"][0]["level2_group"] = "centrl"
    path = write(tmp_path, org)

    result = app.test_cli_runner().invoke(helpdesk_cli, ["org", "load", str(path)])

    assert result.exit_code == 1
    assert f"{path}: services[0].level2_group: unknown group 'centrl'" in result.output
    assert "Nothing was loaded." in result.output
    assert counts() == dict.fromkeys(counts(), 0)


def test_cli_loads_a_valid_file(app, session, tmp_path):
    path = write(tmp_path, VALID)
    result = app.test_cli_runner().invoke(helpdesk_cli, ["org", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        f"Loaded 0 calendars, 0 SLA policies, 2 departments, 4 groups, 1 services, 2 users, "
        f"1 routing rules from {path}.")
    assert counts()["groups"] == 4
