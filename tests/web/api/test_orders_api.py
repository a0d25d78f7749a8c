"""Orders through the API: a service's request form is answered as in the portal."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from helpdesk.catalogue.queries import answers_of
from helpdesk.core.clock import utcnow
from helpdesk.extensions import db
from helpdesk.tickets import intake
from helpdesk.tickets.models import Ticket
from tests.web.api.client import ApiClient

FORM = [
    {"name": "software", "label": "Programvara", "label_en": "Software", "type": "text",
     "required": True},
    {"name": "licences", "label": "Antal", "label_en": "Licences", "type": "number",
     "required": True},
    {"name": "needed_by", "label": "Behövs", "label_en": "Needed by", "type": "date"},
]
LATER = {"Prefer": "respond-async"}


@pytest.fixture
def software(factory, org):
    return factory.catalogue_service(org.level2, request_form=FORM)


@pytest.fixture
def api(app, factory, org):
    return ApiClient(app, factory.api_token(org.requester))


def order(service, answers=None, **extra):
    named = [{"name": name, "value": value} for name, value in (answers or {}).items()]
    return {"service": service.code, "subject": "MATLAB", "description": "För labbkursen.",
            "impact": 3, "urgency": 3, "type": "service_request", "answers": named, **extra}


def tickets() -> int:
    return db.session.scalar(select(func.count(Ticket.id)))


@pytest.mark.parametrize("headers", [{}, LATER], ids=["direct", "accepted for later"])
def test_an_order_that_leaves_out_or_gets_wrong_a_field_is_refused_naming_each(
        api, org, software, headers):
    missing = api.post("/tickets", json=order(software), headers=headers)
    assert missing.status_code == 422
    assert missing.json["errors"] == {"answers.software": ["This field is required."],
                                      "answers.licences": ["This field is required."]}
    wrong = api.post("/tickets", json=order(software, answers={
        "software": "MATLAB", "licences": "många", "needed_by": "i morgon", "colour": "röd"}),
        headers=headers)
    assert wrong.status_code == 422
    assert wrong.json["errors"] == {
        "answers.licences": ["Write a whole number."],
        "answers.needed_by": ["Write a date as YYYY-MM-DD."],
        "answers.colour": ["The service's request form has no such field."]}
    fault = api.post("/tickets", json={**order(software, answers={"software": "MATLAB"}),
                                       "type": "incident"}, headers=headers)
    assert fault.status_code == 422
    assert fault.json["errors"] == {
        "answers": ["Only an order (type service_request) fills in a request form."]}
    twice = api.post("/tickets", json={**order(software), "answers": [
        {"name": "software", "value": "MATLAB"}, {"name": "software", "value": "SPSS"}]},
        headers=headers)
    assert (twice.status_code, twice.json["errors"]) == (
        422, {"answers.software": ["This field is answered twice."]})
    empty = api.post("/tickets", json={**order(software), "answers": [
        {"name": "software", "value": None}, {"name": "licences", "value": {"n": 5}}]},
        headers=headers)
    assert (empty.status_code, empty.json["errors"]) == (
        422, {"answers": ["Field may not be null.", "Give a text, a number, or true or false."]})
    org.requester.locale = "sv"
    db.session.flush()
    swedish = api.post("/tickets", json=order(software, answers={"colour": "röd"}),
                       headers=headers)
    assert swedish.json["errors"]["answers.colour"] == [
        "Tjänstens beställningsformulär har inget sådant fält."]
    assert tickets() == 0
    assert db.session.scalar(select(func.count(intake.TicketIntake.id))) == 0


def test_an_order_keeps_its_answers_with_the_ticket(api, software):
    made = api.post("/tickets", json=order(software, answers={
        "software": "MATLAB", "licences": 5, "needed_by": "2027-01-15"}))
    assert made.status_code == 201
    ticket = db.session.scalars(select(Ticket).where(
        Ticket.reference == made.json["reference"])).one()
    assert [(a["name"], a["value"]) for a in answers_of(ticket)] == [
        ("software", "MATLAB"), ("licences", 5), ("needed_by", "2027-01-15")]


def test_an_order_accepted_for_later_gets_its_answers_when_the_drain_makes_it(
        api, software, settings):
    accepted = api.post("/tickets", json=order(software, answers={
        "software": "MATLAB", "licences": "5"}), headers=LATER)
    assert accepted.status_code == 202
    software.request_form = []  # the form changes before the drain runs: the order keeps its own
    assert intake.drain(now=utcnow, settings=settings) == intake.DrainResult(created=1)
    [ticket] = db.session.scalars(select(Ticket)).all()
    assert [(a["name"], a["value"]) for a in answers_of(ticket)] == [
        ("software", "MATLAB"), ("licences", 5), ("needed_by", None)]


@pytest.mark.parametrize(("answers", "errors"), [
    ({"software": "\ud800", "licences": 1}, {"answers.software": ["The text is not valid Unicode."]}),
    ({"software": "A\u0000B", "licences": 1},
     {"answers.software": ["The text may not contain NUL characters."]}),
    ({"software": "MATLAB", "licences": 2.7}, {"answers.licences": ["Write a whole number."]}),
    ({"software": "MATLAB", "licences": True}, {"answers.licences": ["Write a whole number."]}),
], ids=["lone surrogate", "NUL", "fraction", "true"])
def test_answers_no_page_or_database_could_keep_are_refused(api, software, answers, errors):
    refused = api.post("/tickets", json=order(software, answers=answers))
    assert (refused.status_code, refused.json["errors"]) == (422, errors)
    assert tickets() == 0
