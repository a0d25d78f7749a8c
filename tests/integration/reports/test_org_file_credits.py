"""The service-credit rule is part of an SLA policy in the organisation file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from helpdesk.org.loader import OrgFileError, load_file, parse
from helpdesk.sla.models import SlaPolicy
from tests.conftest import first
from tests.support import fast_password_hashing

DEMO_FILE = Path(__file__).resolve().parents[3] / "examples" / "demo-org.yaml"


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


def test_the_demo_policy_carries_its_credit_rule(session):
    load_file(DEMO_FILE)
    assert first(SlaPolicy, code="standard").service_credits == {
        "first_response": {"target_percent": 90, "credit_percent_per_point": 0.5,
                           "max_credit_percent": 5},
        "resolution": {"target_percent": 95, "credit_percent_per_point": 1, "max_credit_percent": 10},
    }
    assert first(SlaPolicy, code="kritisk").service_credits is None


def test_a_bad_credit_rule_is_named(session):
    data = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    data["sla_policies"][0]["service_credits"] = {"resolution": {"target_percent": 120,
                                                                 "credit_percent_per_point": 1}}
    with pytest.raises(OrgFileError) as refused:
        parse(yaml.safe_dump(data, allow_unicode=True), "org.yaml")
    text = str(refused.value)
    assert "target_percent" in text and "max_credit_percent" in text
