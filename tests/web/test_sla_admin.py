"""The administrator's screens for calendars, SLA policies and OLAs (/admin/sla).

Everything is done through the forms, as a browser would: read the form off the
page, change what a person would type, post it back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.sla.models import Calendar, Metric, OlaPolicy, SlaClock, SlaPolicy
from helpdesk.tickets.models import Ticket
from helpdesk.web import edge
from tests.conftest import NOW, PASSWORD, Factory, TieredOrg, build_app, first, login
from tests.web.helpers import Element, Page, get, post

HOUR_US = 3_600_000_000

OFFICE = {"code": "kontor", "name": "Kontorstid 08–17", "timezone": "Europe/Stockholm",
          "hours_mon": "08:00-17:00", "hours_tue": "08:00-17:00", "hours_wed": "08:00-17:00",
          "hours_thu": "08:00-17:00", "hours_fri": "08:00-17:00", "hours_sat": "",
          "hours_sun": "", "holiday_country": "SE", "holiday-public": "on",
          "holiday-de_facto": "on", "extra_closed_days": "2026-12-23 Julstängt",
          "extra_open_days": "", "shortened_close": ""}
# NOW is Tuesday 10 March 2026, 10:00 in Stockholm. P3 (impact 2, urgency 2): an answer
# within 4 business hours (Tue 14:00), a solution within 16 (Tue 10–17 and Wed 08–17).
STANDARD = {"code": "standard", "name": "Standard", "calendar": "kontor", "warning_percent": "75",
            "paused-waiting_for_customer": "on", "p3_first_response": "4h",
            "p3_resolution": "16h", "p1_first_response": "30", "p1_resolution": "2h 30min",
            "warning-notify": "on", "breach-notify": "on", "breach-raise_priority": "on"}


def form_values(form: Element) -> dict[str, str]:
    """What a browser would send for the form as it stands."""
    values: dict[str, str] = {}
    for element in form.find_all():
        name = element.attrs.get("name")
        if not name:
            continue
        if element.tag == "input" and element.attrs.get("type") == "checkbox":
            if "checked" in element.attrs:
                values[name] = element.attrs.get("value", "on")
        elif element.tag == "input":
            values[name] = element.attrs.get("value", "")
        elif element.tag == "textarea":
            values[name] = "".join(c for c in element.children if isinstance(c, str))
        elif element.tag == "select":
            chosen = [o for o in element.find_all("option") if "selected" in o.attrs]
            values[name] = chosen[0].attrs["value"] if chosen else ""
    return values


def submit(client: FlaskClient, url: str, changes: dict[str, str | None]) -> Page:
    """Open the form at ``url``, change fields (None unticks or empties one), send it."""
    page = get(client, url)
    assert page.status == 200, url
    values = form_values(_main_form(page))
    for name, value in changes.items():
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    return post(client, url, values, follow=True)


def _main_form(page: Page) -> Element:
    """The page's own form (the OLA page has a second one, to remove the OLA)."""
    forms = [f for f in page.doc.one("main").find_all("form") if "action" not in f.attrs]
    assert len(forms) == 1
    return forms[0]


def create_calendar(client: FlaskClient, **changes: str | None) -> Page:
    return submit(client, "/admin/sla/calendars/new", {**OFFICE, **changes})


def create_policy(client: FlaskClient, **changes: str | None) -> Page:
    return submit(client, "/admin/sla/policies/new", {**STANDARD, **changes})


def clocks(ticket: Ticket) -> dict[Metric, SlaClock]:
    db.session.refresh(ticket)
    return {clock.metric: clock for clock in ticket.clocks}


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    """A time in March 2026, given in Stockholm's winter time (UTC+1)."""
    return datetime(2026, 3, day, hour - 1, minute, tzinfo=UTC)


@pytest.fixture
def admin(client: FlaskClient, org: TieredOrg) -> FlaskClient:
    login(client, org.admin)
    return client


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[datetime]]:
    """The web layer's clock, set by the test: ``frozen[0] = moment``."""
    moment = [NOW]
    monkeypatch.setattr(edge, "now", lambda: moment[0])
    yield moment


# --- defining calendars, policies and OLAs ------------------------------------------------


def test_admin_defines_a_calendar_a_policy_and_an_ola_and_new_tickets_run_on_them(
        admin, org, factory, frozen):
    page = create_calendar(admin)
    assert page.status == 200 and page.flashes == ["The calendar Kontorstid 08–17 is saved."]
    page = create_policy(admin)
    assert page.flashes == ["The SLA policy Standard is saved."]
    page = submit(admin, f"/admin/sla/groups/{org.local.code}/ola",
                  {"calendar": "kontor", "take": "30", "handle": "4h", "breach-escalate": "on"})
    assert page.flashes == [f"The OLA of {org.local.name_en} is saved."]

    calendar = first(Calendar, code="kontor")
    assert calendar.weekly_hours == {str(d): [["08:00", "17:00"]] for d in range(5)}
    assert (calendar.holiday_country, calendar.holiday_categories) == ("SE", ["public", "de_facto"])
    assert calendar.extra_closed_days == {"2026-12-23": "Julstängt"}
    policy = first(SlaPolicy, code="standard")
    assert policy.calendar == calendar and policy.warning_percent == 75
    assert policy.targets["3"] == {"first_response": 240, "resolution": 960}
    assert policy.targets["1"] == {"first_response": 30, "resolution": 150}
    assert policy.effects == {"warning": ["notify"], "breach": ["notify", "raise_priority"]}
    assert policy.paused_states == ["waiting_for_customer"]
    ola = first(OlaPolicy, group_id=org.local.id)
    assert (ola.take_minutes, ola.handle_minutes) == (30, 240)
    assert ola.effects == {"warning": [], "breach": ["notify", "escalate"]}

    # The overview says it in words.
    overview = get(admin, "/admin/sla").text
    assert "Monday–Friday 08:00–17:00" in overview
    assert "P3: first response within 4 h, resolution within 16 h" in overview
    assert "P2: no targets, so no clocks run" in overview
    assert ("Taken from the queue within 30 min. Passed on or resolved within 4 h. "
            "By the calendar Kontorstid 08–17.") in overview

    org.service.sla_policy = policy
    ticket = factory.ticket(org.requester, org.service, now=NOW)  # P3, to the local helpdesk
    running = clocks(ticket)
    assert running[Metric.FIRST_RESPONSE].due_at == at(14)
    assert running[Metric.RESOLUTION].due_at == at(17, day=11)
    assert running[Metric.OLA_TAKE].due_at == at(10, 30)
    assert running[Metric.OLA_TAKE].ola_policy == ola


def test_the_edit_forms_show_what_is_stored_and_saving_them_unchanged_changes_nothing(
        admin, org):
    create_calendar(admin, extra_open_days="2026-12-27 10:00-12:00, 13:00-14:00",
                    shortened_close="14:00", **{"holiday-bank": "on"})
    create_policy(admin)
    submit(admin, f"/admin/sla/groups/{org.level2.code}/ola",
           {"calendar": "kontor", "take": "90", "handle": ""})
    for url in ("/admin/sla/calendars/kontor/edit", "/admin/sla/policies/standard/edit",
                f"/admin/sla/groups/{org.level2.code}/ola"):
        page = get(admin, url)
        values = form_values(_main_form(page))
        before = [first(Calendar, code="kontor").extra_open_days,
                  first(SlaPolicy, code="standard").targets,
                  first(OlaPolicy, group_id=org.level2.id).take_minutes]
        assert post(admin, url, values).status == 302
        db.session.expire_all()
        assert before == [first(Calendar, code="kontor").extra_open_days,
                          first(SlaPolicy, code="standard").targets,
                          first(OlaPolicy, group_id=org.level2.id).take_minutes]
    values = form_values(_main_form(get(admin, "/admin/sla/policies/standard/edit")))
    assert values["p1_resolution"] == "2h 30min" and values["p2_first_response"] == ""
    assert values["calendar"] == "kontor" and "breach-raise_priority" in values
    values = form_values(_main_form(get(admin, "/admin/sla/calendars/kontor/edit")))
    assert values["extra_open_days"] == "2026-12-27 10:00-12:00, 13:00-14:00"
    assert {"holiday-public", "holiday-de_facto", "holiday-bank"} <= set(values)


# --- running clocks follow a change from now on --------------------------------------------


def _running_ticket(admin: FlaskClient, org: TieredOrg, factory: Factory) -> Ticket:
    create_calendar(admin)
    create_policy(admin)
    org.service.sla_policy = first(SlaPolicy, code="standard")
    return factory.ticket(org.requester, org.service, now=NOW)


def test_a_new_closed_day_moves_a_running_clock_and_keeps_what_was_counted(
        admin, org, factory, frozen):
    ticket = _running_ticket(admin, org, factory)
    assert clocks(ticket)[Metric.RESOLUTION].due_at == at(17, day=11)

    frozen[0] = at(12)  # two business hours later, Wednesday is closed after all
    page = submit(admin, "/admin/sla/calendars/kontor/edit", {
        "extra_closed_days": "2026-03-11 Flytt till nya lokaler\n2026-12-23 Julstängt"})

    assert page.flashes == ["The calendar Kontorstid 08–17 is saved.",
                            "Clocks recomputed from now on (the time already counted is kept): 2."]
    resolution = clocks(ticket)[Metric.RESOLUTION]
    assert resolution.elapsed_us == 2 * HOUR_US
    assert resolution.segment_started_at == at(12)
    assert resolution.due_at == at(17, day=12)  # Tue 12–17 and all of Thursday
    assert clocks(ticket)[Metric.FIRST_RESPONSE].due_at == at(14)  # still today
    recomputed = [e for e in ticket.events if e.kind == "sla_clock_recomputed"]
    assert [e.reason for e in recomputed] == ["calendar", "calendar"]


def test_a_changed_target_moves_running_clocks_from_now_on(admin, org, factory, frozen):
    ticket = _running_ticket(admin, org, factory)

    frozen[0] = at(11)
    page = submit(admin, "/admin/sla/policies/standard/edit", {"p3_resolution": "8h"})

    assert page.flashes[-1] == "Clocks recomputed from now on (the time already counted is kept): 2."
    resolution = clocks(ticket)[Metric.RESOLUTION]
    assert resolution.elapsed_us == HOUR_US
    assert resolution.due_at == at(9, day=11)  # 1 h counted, 6 h today, 1 h on Wednesday


def test_removing_an_ola_keeps_its_clocks_but_no_longer_acts_on_them(admin, org, factory):
    create_calendar(admin)
    submit(admin, f"/admin/sla/groups/{org.local.code}/ola",
           {"calendar": "kontor", "take": "30", "breach-escalate": "on"})
    ticket = factory.ticket(org.requester, org.service, now=NOW)
    take = clocks(ticket)[Metric.OLA_TAKE]
    assert take.effects == {"warning": [], "breach": ["notify", "escalate"]}

    page = post(admin, f"/admin/sla/groups/{org.local.code}/ola/delete", follow=True)

    assert page.flashes == [f"{org.local.name_en} has no OLA any more."]
    assert first(OlaPolicy, group_id=org.local.id) is None
    take = clocks(ticket)[Metric.OLA_TAKE]
    assert take.ola_policy is None and take.effects == {} and take.due_at == at(10, 30)
    assert "Give an OLA" in get(admin, "/admin/sla").text


def delete_button(page: Page, label: str) -> str:
    """The address of the page's delete form, found by its button's text."""
    [form] = [f for f in page.doc.one("main").find_all("form")
              if any(b.text == label for b in f.find_all("button"))]
    return form.attrs["action"]


def test_a_calendar_and_a_policy_nothing_uses_are_deleted_from_their_pages(admin):
    create_calendar(admin)
    create_policy(admin)  # on the calendar "kontor"
    create_calendar(admin, code="fel", name="Felskriven")

    page = get(admin, "/admin/sla/policies/standard/edit")
    done = post(admin, delete_button(page, "Delete the SLA policy"), follow=True)
    assert done.flashes == ["The SLA policy Standard is deleted."]
    assert first(SlaPolicy, code="standard") is None
    page = get(admin, "/admin/sla/calendars/fel/edit")
    done = post(admin, delete_button(page, "Delete the calendar"), follow=True)
    assert done.flashes == ["The calendar Felskriven is deleted."]
    assert first(Calendar, code="fel") is None and "(fel, Europe/Stockholm)" not in done.text
    assert first(Calendar, code="kontor") is not None


def test_a_calendar_or_policy_in_use_is_kept_and_the_page_says_what_uses_it(
        admin, org, factory):
    create_calendar(admin)
    create_policy(admin)
    submit(admin, f"/admin/sla/groups/{org.local.code}/ola", {"calendar": "kontor", "take": "30"})
    policy = first(SlaPolicy, code="standard")
    org.service.sla_policy = policy
    factory.ticket(org.requester, org.service, now=NOW)  # two SLA clocks and an OLA clock
    db.session.commit()  # kept through the refusals' rollbacks

    refused = post(admin, "/admin/sla/calendars/kontor/delete", follow=True)
    assert refused.flashes == [
        "The calendar Kontorstid 08–17 is still in use (SLA policies: 1, OLAs: 1, vendor "
        "contracts: 0, clocks: 3), so it is kept. A calendar can be deleted only while "
        "nothing counts by it."]
    assert refused.doc.one("h1").text == "Calendar Kontorstid 08–17"  # back on its form
    refused = post(admin, "/admin/sla/policies/standard/delete", follow=True)
    assert refused.flashes == [
        "The SLA policy Standard is still in use (services: 1, clocks: 2), so it is kept. A "
        "policy can be deleted only while no service and no clock has it."]

    # No service has it any more, but its clocks keep it: still kept.
    org.service.sla_policy = None
    db.session.commit()
    refused = post(admin, "/admin/sla/policies/standard/delete", follow=True)
    assert "(services: 0, clocks: 2)" in refused.flashes[0]
    assert first(SlaPolicy, code="standard") is not None
    assert first(Calendar, code="kontor") is not None


# --- refused input ------------------------------------------------------------------------


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def assert_marked(page: Page, field: str, message: str) -> None:
    """The field's message is shown, and the field points at it for screen readers."""
    error = page.doc.one(id=f"{field}-error")
    assert error.text == message
    pointing = [e for e in page.doc.find_all()
                if f"{field}-error" in e.attrs.get("aria-describedby", "").split()]
    assert pointing, f"nothing is described by {field}-error"
    summary = page.doc.one("div", class_="error-summary")
    assert summary.attrs.get("role") == "alert"


def test_a_refused_calendar_keeps_what_was_typed_and_names_each_field(admin):
    page = create_calendar(admin, code="Kontor 2", hours_mon="8-17", hours_tue="17:00-08:00",
                           timezone="Europe/Stockolm", extra_closed_days="23/12 Julstängt",
                           shortened_close="2 pm")

    assert page.status == 422
    assert _count(Calendar) == 0
    assert page.field_value("code") == "Kontor 2"
    assert page.field_value("hours_mon") == "8-17"
    assert page.field_value("name") == "Kontorstid 08–17"
    assert page.field_value("extra_closed_days") == "23/12 Julstängt"
    assert "checked" in page.doc.one(id="holiday-de_facto").attrs
    hours = "Write opening hours like 08:00-12:00, 13:00-17:00 (or leave empty: closed)."
    assert_marked(page, "hours_mon", hours)
    assert_marked(page, "hours_tue", hours)
    assert_marked(page, "code", "Use 1–50 lower-case letters, digits, - or _.")
    assert_marked(page, "timezone", "Not a time zone; write one like Europe/Stockholm.")
    assert_marked(page, "extra_closed_days",
                  "Write one day a line: a date like 2026-12-23, then why it is closed.")
    assert_marked(page, "shortened_close", "Write a time like 14:00, or leave it empty.")
    assert page.doc.one(id="hours_mon").attrs["aria-invalid"] == "true"
    links = {a.attrs["href"] for a in page.doc.one("div", class_="error-summary").find_all("a")}
    assert {"#code", "#hours_mon", "#hours_tue", "#timezone"} <= links


def test_a_calendar_needs_open_hours_and_known_holidays(admin):
    page = create_calendar(admin, **{f"hours_{d}": "" for d in ("mon", "tue", "wed", "thu", "fri")},
                           holiday_country="XX")
    # The fields themselves were fine; what is wrong is how they go together.
    assert page.status == 422 and _count(Calendar) == 0
    assert_marked(page, "weekly_hours", "Give the opening hours of at least one weekday.")
    assert_marked(page, "holiday_country",
                  "No public holidays are known for this country code with the chosen kinds.")

    page = create_calendar(admin, **{"holiday-public": None, "holiday-de_facto": None})
    assert_marked(page, "holiday_categories", "Choose at least one kind of holiday.")


def test_a_refused_policy_keeps_what_was_typed(admin):
    create_calendar(admin)
    page = create_policy(admin, p3_first_response="4 timmar", warning_percent="100",
                         **{"paused-waiting_for_customer": None, "paused-new": "on"})

    assert page.status == 422 and _count(SlaPolicy) == 0
    assert page.field_value("p3_first_response") == "4 timmar"
    assert page.field_value("p3_resolution") == "16h"
    assert "checked" in page.doc.one(id="paused-new").attrs
    assert "checked" not in page.doc.one(id="paused-waiting_for_customer").attrs
    assert_marked(page, "p3_first_response", "Write minutes like 90, or hours like 4h or 1h 30min.")
    assert_marked(page, "warning_percent", "Write a whole number from 1 to 99.")

    page = create_policy(admin, **{f"p{p}_{m}": "" for p in (1, 3)
                                   for m in ("first_response", "resolution")})
    assert_marked(page, "targets", "Give at least one target.")


def test_codes_are_unique_and_a_policy_needs_a_known_calendar(admin, org):
    create_calendar(admin)
    page = create_calendar(admin, name="En till")
    assert page.status == 422
    assert_marked(page, "code", "This code is used already; choose another.")
    assert _count(Calendar) == 1

    page = post(admin, "/admin/sla/policies/new", {**STANDARD, "calendar": "finns-inte"})
    assert page.status == 422 and _count(SlaPolicy) == 0
    assert_marked(page, "calendar", "Choose a calendar.")
    page = post(admin, f"/admin/sla/groups/{org.local.code}/ola", {"calendar": "kontor"})
    assert page.status == 422 and _count(OlaPolicy) == 0
    assert_marked(page, "take", "Give at least one target.")


# --- who may ------------------------------------------------------------------------------

PAGES = ["/admin/sla", "/admin/sla/calendars/new", "/admin/sla/calendars/kontor/edit",
         "/admin/sla/policies/new", "/admin/sla/policies/standard/edit",
         "/admin/sla/groups/local/ola"]


@pytest.mark.parametrize("who", ["requester", "local_agent", "level2_agent"])
def test_everyone_but_administrators_finds_nothing_there(client, org, who):
    login(client, org.admin)
    create_calendar(client)
    create_policy(client)
    login(client, getattr(org, who))

    for url in PAGES:
        assert client.get(url).status_code == 404, url
    for url in PAGES[1:]:
        assert client.post(url, data=OFFICE | STANDARD).status_code == 404, url
    assert client.post("/admin/sla/groups/local/ola/delete").status_code == 404
    assert client.post("/admin/sla/calendars/kontor/delete").status_code == 404
    assert client.post("/admin/sla/policies/standard/delete").status_code == 404
    assert first(Calendar, code="kontor").name == OFFICE["name"]
    assert first(SlaPolicy, code="standard") is not None
    assert "Administration" not in get(client, "/portal").html


def test_anonymous_visitors_are_asked_to_log_in(client):
    response = client.get("/admin/sla")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_administrators_find_the_pages_in_the_menu_in_swedish_too(admin, org):
    page = get(admin, "/portal")
    assert [a.attrs["href"] for a in page.doc.find_all("a") if a.text == "Administration"] == [
        "/admin/sla"]
    for url in PAGES[:2] + PAGES[3:4] + PAGES[5:]:
        assert admin.get(url, headers={"Accept-Language": "sv"}).status_code == 200, url


# --- forged posts (CSRF on, as in production) ---------------------------------------------


@pytest.fixture
def csrf_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Flask, str]]:
    monkeypatch.setenv("HELPDESK_INSTANCE_DIR", str(tmp_path))  # build_app sets it; restore after
    app = build_app("sqlite", tmp_path)
    app.config["WTF_CSRF_ENABLED"] = True
    with app.app_context():
        db.create_all()
        admin_email = TieredOrg(Factory(app.config["HELPDESK"])).admin.email
        db.session.commit()
    yield app, admin_email
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _token(client: FlaskClient, url: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def test_a_forged_post_changes_no_calendar(csrf_app):
    app, admin_email = csrf_app
    client = app.test_client()
    client.post("/login", data={"email": admin_email, "password": PASSWORD,
                                "csrf_token": _token(client, "/login")})
    url = "/admin/sla/calendars/new"

    assert client.post(url, data=OFFICE).status_code == 400
    assert client.post(url, data={**OFFICE, "csrf_token": "forged"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Calendar)) == 0

    accepted = client.post(url, data={**OFFICE, "csrf_token": _token(client, url)})
    assert accepted.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Calendar.name)) == OFFICE["name"]
