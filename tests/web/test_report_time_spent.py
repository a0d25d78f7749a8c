"""The where-the-time-went page: its table and chart, the tickets behind a row, downloads,
filters, bad input, who may read it, and the page in Swedish (the hand-worked October)."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from helpdesk.accounts.models import Role
from tests.integration.reports.october import build_october
from tests.support import fast_password_hashing
from tests.web.helpers import get, person

OCTOBER = "first_day=2026-10-01&last_day=2026-10-31"


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture
def october(sla_org, factory, settings):
    return build_october(sla_org, factory, settings)


def test_a_lead_reads_where_the_time_went_and_the_tickets_behind_a_row(app, october, lead, sla_org):
    client = person(app, lead)
    page = get(client, f"/reports/time?{OCTOBER}&by=service")
    assert page.status == 200
    headers = [th.text for th in page.doc.one("thead").find_all("th")]
    assert headers == ["Service", "Tickets", "Level 1", "Level 2", "Level 3", "At vendors",
                       "Waiting for the customer", "Waiting for approval", "Total", "Per ticket"]
    [row] = page.doc.one("tbody").find_all("tr")
    assert row.one("th").text == sla_org.org.service.name_en
    # 45 h at level 1 and 9 h with the customer over five tickets: 54 h, 10 h 48 min each.
    assert [td.text for td in row.find_all("td")] == [
        "5", "45 h (83.3 %)", "–", "–", "–", "9 h (16.7 %)", "–", "54 h", "10 h 48 min"]
    # The chart is for the eye; its legend and the table say the same in text.
    assert all(svg.attrs["aria-hidden"] == "true" for svg in page.doc.find_all("svg"))
    assert "Waiting for the customer" in page.doc.one("figure").text
    listed = get(client, row.find("a").attrs["href"].replace("&amp;", "&"))
    assert listed.status == 200
    assert listed.references()[0] == october.reopened.reference  # 26 h, the longest
    assert october.into_november.reference not in listed.references()
    assert len(listed.references()) == 5


def test_per_group_with_a_tier_filter_and_nothing_found(app, october, lead, sla_org):
    client = person(app, lead)
    page = get(client, f"/reports/time?{OCTOBER}&by=group&tier=1")
    assert [tr.one("th").text for tr in page.doc.one("tbody").find_all("tr")] == [
        sla_org.org.local.name_en]
    empty = get(client, f"/reports/time?{OCTOBER}&by=group&tier=2")
    assert "No ticket was resolved in this period." in empty.text


def test_where_the_time_went_downloads_as_csv_and_xlsx(app, october, lead):
    client = person(app, lead)
    response = client.get(f"/reports/time?{OCTOBER}&format=csv")
    assert response.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert table[0][:3] == ["Service", "Tickets", "Level 1 (business hours)"]
    assert table[1][1:] == ["5", "45.0", "0.0", "0.0", "0.0", "9.0", "0.0", "54.0", "10.8"]
    workbook = client.get(f"/reports/time/tickets?{OCTOBER}&format=xlsx")
    with zipfile.ZipFile(io.BytesIO(workbook.get_data())) as xlsx:
        strings = xlsx.read("xl/sharedStrings.xml").decode()
    assert october.reopened.reference in strings


def test_bad_input_is_named_and_kept(app, org, lead):
    client = person(app, lead)
    page = get(client, "/reports/time?first_day=2026-10-31&last_day=2026-10-01")
    assert page.status == 422
    assert "The last day is before the first." in page.doc.one(id="last_day-error").text
    assert page.field_value("t-first") == "2026-10-31"
    # Per tier is the compliance report's; here it is refused, and the field says so.
    page = get(client, "/reports/time?by=tier")
    assert page.status == 422 and page.doc.one(id="by-error").text.strip()
    assert get(person(app, lead), "/reports/time/tickets?by=vendor").status == 400


@pytest.mark.parametrize("who", ["requester", "local_agent", "level2_agent"])
def test_only_leads_and_administrators_find_it(app, org, who):
    client = person(app, getattr(org, who))
    assert get(client, "/reports/time").status == 404
    assert get(client, "/reports/time/tickets").status == 404


def test_the_page_in_swedish(app, october, factory, sla_org):
    lead = factory.user(Role.LEAD, groups=(sla_org.org.local,), locale="sv")
    page = get(person(app, lead), f"/reports/time?{OCTOBER}")
    assert page.doc.one("h1").text == "Vart tiden gick"
    assert "Väntar på anmälare" in page.doc.one("thead").text
