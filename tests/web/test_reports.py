"""Report pages: who may read them, the figures and the tickets behind them, downloads, and a
manager's decision on a monthly report (on the hand-worked October of the integration tests)."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from tests.integration.reports.october import build_march_olas, build_october
from tests.support import fast_password_hashing
from tests.web.helpers import get, person, post

OCTOBER = "first_day=2026-10-01&last_day=2026-10-31"


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture
def october(sla_org, factory, settings):
    sla_org.policy.service_credits = {
        "resolution": {"target_percent": 95, "credit_percent_per_point": 2, "max_credit_percent": 10}}
    return build_october(sla_org, factory, settings)


@pytest.mark.parametrize("who", ["requester", "local_agent", "level2_agent"])
def test_only_leads_and_administrators_find_the_reports(app, org, who):
    client = person(app, getattr(org, who))
    assert get(client, "/reports/").status == 404
    assert get(client, "/reports/monthly/mail/2026-10").status == 404
    assert not get(client, "/portal/tickets").doc.find("a", href="/reports/")
    anonymous = person(app).get("/reports/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_a_lead_reads_compliance_and_opens_the_tickets_behind_a_figure(app, october, lead, sla_org):
    client = person(app, lead)
    assert get(client, "/portal/tickets").doc.find("a", href="/reports/").text == "Reports"
    page = get(client, f"/reports/?{OCTOBER}&by=service")
    assert page.status == 200
    rows = [[cell.text for cell in tr.find_all("td")] for tr in page.doc.one("tbody").find_all("tr")]
    assert rows == [["First response", "5", "4", "1", "80.0", "2 h", "9 h"],
                    ["Resolution", "5", "4", "1", "80.0", "3 h", "26 h"]]
    # Each chart is a picture only; the table holds its numbers.
    assert all(svg.attrs["aria-hidden"] == "true" for svg in page.doc.find_all("svg"))
    assert len(page.doc.find_all("svg")) == 2
    breached = page.doc.one("tbody").find_all("tr")[1].find_all("a")[2].attrs["href"]
    listed = get(client, breached.replace("&amp;", "&"))
    assert listed.references() == [october.reopened.reference]
    assert "26 h" in listed.text


def test_per_group_the_page_shows_each_groups_ola_beside_the_customers_promises(
        app, lead, sla_org, factory, settings):
    _quick, slow = build_march_olas(sla_org, factory, settings)
    client = person(app, lead)
    page = get(client, f"/reports/?first_day=2026-03-01&last_day=2026-03-31&by=group"
                       f"&group={sla_org.org.level2.id}")
    rows = [[tr.one("th").text] + [cell.text for cell in tr.find_all("td")]
            for tr in page.doc.one("tbody").find_all("tr")]
    level2 = sla_org.org.level2.name_en
    assert rows == [[level2, "First response", "1", "0", "1", "0.0", "4 h 30 min", "4 h 30 min"],
                    [level2, "Taken from the queue (OLA)", "2", "1", "1", "50.0", "40 min", "2 h"],
                    [level2, "Passed on or resolved (OLA)", "1", "1", "0", "100.0", "2 h 20 min",
                     "2 h 20 min"]]
    late = page.doc.one("tbody").find_all("tr")[1].find_all("a")[2].attrs["href"]
    assert get(client, late.replace("&amp;", "&")).references() == [slow.reference]


def test_reports_download_as_csv_and_xlsx(app, october, lead, sla_org):
    client = person(app, lead)
    response = client.get(f"/reports/?{OCTOBER}&by=priority&format=csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    table = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert table[0][:3] == ["Priority", "Promise", "Clocks"]
    assert table[1:] == [["P3", "First response", "5", "4", "1", "80.0", "2.0", "9.0"],
                         ["P3", "Resolution", "5", "4", "1", "80.0", "3.0", "26.0"]]
    workbook = client.get("/reports/monthly/mail/2026-10?format=xlsx")
    assert workbook.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    with zipfile.ZipFile(io.BytesIO(workbook.get_data())) as xlsx:
        strings = xlsx.read("xl/sharedStrings.xml").decode()
    assert october.reopened.reference in strings and "Total service credit (percent)" in strings


def test_bad_dates_are_named_and_kept(app, org, lead):
    page = get(person(app, lead), "/reports/?first_day=2026-10-31&last_day=2026-10-01")
    assert page.status == 422
    assert "The last day is before the first." in page.doc.one(id="last_day-error").text
    assert page.field_value("f-first") == "2026-10-31"


def test_a_manager_rejects_with_a_reason_then_approves_and_the_report_is_kept(app, october, lead,
                                                                             sla_org):
    client = person(app, lead)
    url = "/reports/monthly/mail/2026-10"
    page = get(client, url)
    assert "Total service credit (percent) 10" in page.text
    assert october.late.reference in page.doc.find_all("table")[2].text
    refused = post(client, f"{url}/decision", {"decision": "rejected", "comment": ""})
    assert refused.status == 422 and refused.checked("decision") == "rejected"
    assert "Say why the report is rejected." in refused.doc.one(id="comment-error").text
    post(client, f"{url}/decision", {"decision": "approved", "comment": "Godkänd."})
    approved = get(client, url)
    assert "Approved – Lisa Lead" in approved.text and "Godkänd." in approved.text
    assert not approved.doc.find("form", action=f"{url}/decision")
    again = post(client, f"{url}/decision", {"decision": "rejected", "comment": "Nej."})
    assert again.status == 422 and "kept unchanged" in again.text


def test_volume_and_trends_per_month_with_a_download(app, october, lead):
    client = person(app, lead)
    page = get(client, "/reports/volume?first_day=2026-09-01&last_day=2026-11-30&unit=month")
    assert page.status == 200
    first_table = page.doc.find_all("table")[0]
    assert [tr.text for tr in first_table.one("tbody").find_all("tr")] == [
        "2026-09 1 0 1", "2026-10 5 6 1", "2026-11 0 1 0"]
    assert "1 tickets reopened; 7 resolutions in the period (14.3 %)." in page.text
    response = client.get("/reports/volume?first_day=2026-10-01&last_day=2026-10-31&unit=week"
                          "&format=csv")
    table = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    # One ticket came in each week (late, paused, reopened, dst, into_november); the dst
    # ticket waited over the weekend of the clock change, into_november over midnight.
    assert table == [["Period", "Created", "Resolved", "Open at the end"],
                     ["2026-W40", "1", "2", "0"], ["2026-W41", "1", "1", "0"],
                     ["2026-W42", "1", "2", "0"], ["2026-W43", "1", "0", "1"],
                     ["2026-W44", "1", "1", "1"]]


def test_a_lead_subscribes_to_a_report_mail_and_stops_it(app, org, lead):
    client = person(app, lead)
    post(client, "/reports/subscriptions", {"report": "volume", "frequency": "monthly"})
    page = get(client, "/reports/subscriptions")
    rows = page.doc.one("tbody").find_all("tr")
    assert [r.find("th").text for r in rows] == ["Volume and trends"]
    again = post(client, "/reports/subscriptions", {"report": "volume", "frequency": "monthly"})
    assert again.status == 422 and "already" in again.doc.one(id="report-error").text
    stop = rows[0].find("form").attrs["action"]
    assert person(app, org.admin).post(stop).status_code == 404  # not the admin's to stop
    post(client, stop)
    assert "You get no report by mail." in get(client, "/reports/subscriptions").text


@pytest.mark.parametrize("language", ["en", "sv"])
def test_services_and_groups_are_named_in_the_readers_language(app, october, lead, sla_org,
                                                               language):
    client = person(app, lead)
    post(client, "/language", {"locale": language})
    service, group = sla_org.org.service, sla_org.org.local
    service_name, group_name = ((service.name_en, group.name_en) if language == "en"
                                else (service.name, group.name))

    filters = get(client, f"/reports/?{OCTOBER}")
    assert service_name in [o.text for o in filters.doc.one("select", name="service")
                            .find_all("option")]
    assert group_name in [o.text for o in filters.doc.one("select", name="group")
                          .find_all("option")]
    listed = get(client, "/reports/monthly").doc.one("select", name="service").find_all("option")
    assert service_name in [o.text for o in listed]
    post(client, "/reports/monthly/mail/2026-10/decision", {"decision": "approved", "comment": ""})
    monthly = get(client, "/reports/monthly/mail/2026-10")  # as kept when approved
    heading = "Service-level report" if language == "en" else "Servicenivårapport"
    assert monthly.doc.one("h1").text == f"{heading} 2026-10: {service_name}"
