"""A service's request form checks what the requester typed, field by field (pure)."""

from __future__ import annotations

import pytest

from helpdesk.catalogue.approvals import decision_in
from helpdesk.catalogue.forms import check_definition, load_answers
from helpdesk.catalogue.publication import missing_for_publication
from helpdesk.core.errors import InvalidInput

FORM = [
    {"name": "software", "label": "Programvara", "label_en": "Software", "type": "text",
     "required": True},
    {"name": "licences", "label": "Antal", "type": "number", "required": True},
    {"name": "platform", "label": "Plattform", "type": "choice", "required": True,
     "choices": ["Windows", "macOS"]},
    {"name": "needed_by", "label": "Behövs senast", "type": "date"},
    {"name": "cost_ok", "label": "Kostnaden är godkänd", "type": "checkbox", "required": True},
]
GOOD = {"form_software": "MATLAB", "form_licences": "3", "form_platform": "macOS",
        "form_needed_by": "2026-12-01", "form_cost_ok": "true"}


def errors(raw: dict[str, str]) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as refused:
        load_answers(FORM, raw)
    return refused.value.errors


def test_good_answers_are_kept_with_their_questions_in_the_forms_order():
    answers = load_answers(FORM, GOOD)
    assert [(a["name"], a["label"], a["value"]) for a in answers] == [
        ("software", "Programvara", "MATLAB"), ("licences", "Antal", 3),
        ("platform", "Plattform", "macOS"), ("needed_by", "Behövs senast", "2026-12-01"),
        ("cost_ok", "Kostnaden är godkänd", True)]
    assert answers[0]["label_en"] == "Software"


def test_an_optional_field_left_empty_is_no_answer_not_an_error():
    answers = load_answers(FORM, {**GOOD, "form_needed_by": "  "})
    assert answers[3]["value"] is None


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("form_software", "", "This field is required."),
    ("form_licences", "three", "Write a whole number."),
    ("form_licences", "", "This field is required."),
    ("form_platform", "Amiga", "Choose one of the options."),
    ("form_needed_by", "next friday", "Write a date as YYYY-MM-DD."),
])
def test_each_bad_field_is_named_with_what_is_wrong(field, typed, message):
    assert errors({**GOOD, field: typed}) == {field: [message]}


def test_a_required_checkbox_must_be_ticked_and_every_bad_field_is_named_at_once():
    raw = {k: v for k, v in GOOD.items() if k != "form_cost_ok"}
    raw["form_software"] = ""
    assert set(errors(raw)) == {"form_cost_ok", "form_software"}


def test_a_service_without_a_form_asks_nothing():
    assert load_answers([], {"form_anything": "x"}) == []


def test_a_broken_definition_is_named():
    assert check_definition([{"name": "a", "type": "choice"}, {"name": "a"}]) == [
        "[0].choices: a choice field needs choices", "[1].name: 'a' is used twice"]


@pytest.mark.parametrize(("text", "expected"), [
    ("Approve", ("approve", "")),
    ("GODKÄNN\n\n> Hello Gunilla", ("approve", "")),
    ("approved, go ahead", ("approve", "go ahead")),
    ("Reject: too expensive this year", ("reject", "too expensive this year")),
    ("Avslås – vi har redan licenser", ("reject", "vi har redan licenser")),
    ("I will approve it tomorrow", (None, "")),
    ("", (None, "")),
])
def test_the_first_word_of_a_reply_decides(text, expected):
    assert decision_in(text) == expected


ROUTE = {"level1": "local_helpdesk", "level1_group": None, "level2_group": "central",
         "level3_groups": ["experts"], "routines": {"level1": "a", "level2": "b", "level3": "c"},
         "sla_decided": True, "support_model": "helpdesk", "vendor_instructions": ""}


@pytest.mark.parametrize(("change", "missing"), [
    ({}, []),
    ({"level1": "group"}, ["level1_group"]),
    ({"routines": {"level1": " ", "level2": "b"}}, ["routine_level1", "routine_level3"]),
    ({"level2_group": None, "level3_groups": [], "routines": {"level1": "a"}}, []),
    ({"sla_decided": False}, ["sla"]),
    ({"support_model": "vendor_direct"}, ["vendor_instructions"]),
])
def test_the_gate_names_what_is_missing(change, missing):
    assert missing_for_publication(**{**ROUTE, **change}) == missing
