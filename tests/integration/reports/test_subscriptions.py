"""Report mails: a finished week or month is mailed once to each subscribed lead, in the
lead's language, through the outbox; a new subscription starts with the next period."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from helpdesk.accounts.models import Role
from helpdesk.core.errors import DomainError
from helpdesk.core.outbox import OutboxMessage
from helpdesk.extensions import db
from helpdesk.reports.subscriptions import last_period, send_due, subscribe
from tests.integration.reports.october import build_october, local
from tests.support import fast_password_hashing


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


def report_mails() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "report")
                                   .order_by(OutboxMessage.id)))


def test_the_last_finished_week_and_month_in_local_time():
    # Monday 2 November 00:30 in Stockholm is still Sunday 1 November in UTC.
    key, week = last_period("weekly", local(11, 2, 0, 30))
    assert (key, week.first_day.day, week.last_day.day) == ("2026-W44", 26, 1)
    assert last_period("monthly", local(11, 2, 0, 30))[0] == "2026-10"
    assert last_period("monthly", local(11, 1, 0, 30))[0] == "2026-10"


def test_each_period_is_mailed_once_in_the_leads_language(sla_org, factory, settings):
    build_october(sla_org, factory, settings)
    lead = factory.user(Role.LEAD, name="Lisa Lead", locale="sv")
    subscribe(lead, report="compliance", frequency="monthly", now=local(10, 20, 9))
    subscribe(lead, report="volume", frequency="weekly", now=local(10, 20, 9))
    # The week of the 19th has not ended.
    assert send_due(now=local(10, 25, 9), settings=settings) == 0
    assert send_due(now=local(10, 26, 9), settings=settings) == 1  # Monday: week 43 is over
    assert send_due(now=local(10, 26, 9, 30), settings=settings) == 0
    assert send_due(now=local(11, 2, 9), settings=settings) == 2  # week 44, and October
    assert send_due(now=local(11, 2, 10), settings=settings) == 0
    week43, week44, october = report_mails()
    assert week43.subject == "Rapport: Volym och trender, 2026-W43"
    assert october.subject == "Rapport: SLA-uppfyllnad, 2026-10"
    assert october.recipient_email == lead.email
    name = sla_org.org.service.name
    assert f"{name} – Lösningstid: 4 av 5 uppfyllda (80.0 %), median 3 h, 90:e percentilen 26 h" \
        in october.body
    # The whole week 26 October – 1 November: into_november was solved on Sunday 00:30.
    assert "2026-W44: 1 nya, 2 lösta, 0 öppna vid slutet" in week44.body


def test_where_the_time_went_by_mail(sla_org, factory, settings):
    build_october(sla_org, factory, settings)
    lead = factory.user(Role.LEAD, locale="en")
    subscribe(lead, report="time", frequency="monthly", now=local(10, 20, 9))
    assert send_due(now=local(11, 2, 9), settings=settings) == 1
    [mail] = report_mails()
    assert mail.subject == "Report: Where the time went, 2026-10"
    name = sla_org.org.service.name_en
    assert f"{name}: 5 tickets, 54 h in all, 10 h 48 min per ticket" in mail.body
    assert "  Level 1: 45 h (83.3 %)\n  Waiting for the customer: 9 h (16.7 %)" in mail.body


def test_a_lead_who_chose_no_language_gets_the_organisations_default(
        sla_org, factory, settings):
    build_october(sla_org, factory, settings)
    lead = factory.user(Role.LEAD, locale=None)
    subscribe(lead, report="compliance", frequency="monthly", now=local(10, 20, 9))
    english = dataclasses.replace(settings, default_locale="en")
    assert send_due(now=local(11, 2, 9), settings=english) == 1
    [mail] = report_mails()
    assert (mail.locale, mail.subject) == ("en", "Report: SLA compliance, 2026-10")


def test_only_managers_subscribe_and_once_per_report_and_frequency(org, factory, now):
    lead = factory.user(Role.LEAD)
    subscribe(lead, report="compliance", frequency="weekly", now=now)
    with pytest.raises(DomainError, match="already"):
        subscribe(lead, report="compliance", frequency="weekly", now=now)
    with pytest.raises(DomainError):
        subscribe(org.local_agent, report="compliance", frequency="weekly", now=now)


def test_the_schedulers_leader_queues_the_report_mails_with_its_sweep(database):
    from datetime import timedelta

    from helpdesk.sla.scheduler import Timing
    from tests.conftest import Factory

    with database.session() as session:
        lead = Factory(database.apps[0].config["HELPDESK"]).user(Role.LEAD, locale="en")
        subscribe(lead, report="volume", frequency="weekly", now=local(11, 20, 9))
        session.commit()
    leader = database.leader("a", Timing(tick=timedelta(seconds=1), lease=timedelta(minutes=1),
                                         sweep=timedelta(seconds=1)))
    assert leader.tick(local(11, 22, 23)).leader  # Sunday: the week is not over
    assert leader.tick(local(11, 23, 8)).leader  # Monday
    assert leader.tick(local(11, 23, 9)).leader
    with database.session():
        [mail] = report_mails()
        assert mail.subject == "Report: Volume and trends, 2026-W47"
