"""Priority from impact × urgency, and reading a configured matrix."""

from __future__ import annotations

import pytest

from helpdesk.config import Settings
from helpdesk.tickets.priority import DEFAULT_MATRIX, parse_matrix, priority_for

HIGH, MEDIUM, LOW = 1, 2, 3


@pytest.mark.parametrize(("impact", "urgency", "priority"), [
    (HIGH, HIGH, 1), (HIGH, MEDIUM, 2), (HIGH, LOW, 3),
    (MEDIUM, HIGH, 2), (MEDIUM, MEDIUM, 3), (MEDIUM, LOW, 4),
    (LOW, HIGH, 3), (LOW, MEDIUM, 4), (LOW, LOW, 4),
])
def test_the_default_matrix_cell_by_cell(impact, urgency, priority):
    assert priority_for(impact, urgency) == priority


@pytest.mark.parametrize(("impact", "urgency"), [(0, 1), (1, 0), (4, 2), (2, 4), (-1, -1)])
def test_impact_and_urgency_outside_1_to_3_are_refused(impact, urgency):
    with pytest.raises(ValueError, match="impact and urgency must be 1, 2 or 3"):
        priority_for(impact, urgency)


def test_a_configured_matrix_is_read_row_by_impact_column_by_urgency():
    matrix = parse_matrix("1,1,2;2,3,3;4,4,4")
    assert matrix == ((1, 1, 2), (2, 3, 3), (4, 4, 4))
    assert priority_for(HIGH, LOW, matrix) == 2
    assert priority_for(LOW, HIGH, matrix) == 4


@pytest.mark.parametrize("text", [
    "1,2,3;2,3,4;3,4,4",
    "  1,2,3;2,3,4;3,4,4\n",
    "1, 2, 3; 2, 3, 4; 3, 4, 4",
])
def test_parse_matrix_accepts_the_documented_form(text):
    assert parse_matrix(text) == DEFAULT_MATRIX


THREE_BY_THREE = "a priority matrix is three rows of three numbers, e.g. 1,2,3;2,3,4;3,4,4"


@pytest.mark.parametrize(("text", "message"), [
    ("", THREE_BY_THREE),
    ("1,2,3;2,3,4", THREE_BY_THREE),
    ("1,2,3;2,3,4;3,4,4;4,4,4", THREE_BY_THREE),
    ("1,2;2,3;3,4", THREE_BY_THREE),
    ("1,2,3,4;2,3,4;3,4,4", THREE_BY_THREE),
    ("1,2,3;2,3,4;3,4,4;", THREE_BY_THREE),
    ("1,2,3;2,hög,4;3,4,4", "priority matrix holds a value that is not a number: "
                            "'1,2,3;2,hög,4;3,4,4'"),
    ("1,2,3;2,,4;3,4,4", "not a number"),
    ("1,2,3;2,3.5,4;3,4,4", "not a number"),
    ("1,2,3;2,3,5;3,4,4", "priority matrix values must be 1, 2, 3 or 4"),
    ("0,2,3;2,3,4;3,4,4", "priority matrix values must be 1, 2, 3 or 4"),
    ("-1,2,3;2,3,4;3,4,4", "priority matrix values must be 1, 2, 3 or 4"),
])
def test_parse_matrix_refuses_bad_input_with_a_clear_message(text, message):
    with pytest.raises(ValueError) as refused:
        parse_matrix(text)
    assert message in str(refused.value)


def test_the_helpdesk_uses_the_matrix_from_its_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HELPDESK_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("HELPDESK_SECRET_KEY", "test")
    monkeypatch.setenv("HELPDESK_PRIORITY_MATRIX", "1,1,1;1,1,1;1,1,2")
    settings = Settings.from_environment()
    assert priority_for(LOW, MEDIUM, settings.priority_matrix) == 1
    assert priority_for(LOW, LOW, settings.priority_matrix) == 2
