"""A ticket's SLA and OLA clocks as the ticket operations drive them.

The ``sla_org`` service promises, at P3 (impact 2 × urgency 2), a first response within
4 business hours and a resolution within 24, on Mon–Fri 08–17 Stockholm with Swedish
holidays. Tickets are created at the ``now`` fixture, Tue 10 March 2026 10:00 Stockholm:
first response due Tue 14:00, resolution due Thu 12 March 16:00.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.org.loader import load, parse
from helpdesk.sla.calendar import business_time_between
from helpdesk.sla.clocks import business_calendar
from helpdesk.sla.models import ClockStatus, SlaAlert
from helpdesk.sla.presentation import clock_views
from helpdesk.tickets.operations import (
    add_reply,
    ask_requester,
    cancel_ticket,
    change_priority,
    reopen_ticket,
    requester_reply,
    resolve_ticket,
    take_ticket,
)
from helpdesk.tiers.operations import escalate_ticket, return_to_level_1
from helpdesk.workflows.definitions import AGENT
from tests.integration.sla.checks import HOUR, MINUTE, assert_clocks_consistent, clock, sthlm
from tests.support import fast_password_hashing

TUE_10, FR_DUE, RES_DUE = sthlm(10, 10), sthlm(10, 14), sthlm(12, 16)


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture
def ticket(sla_org, factory, now):
    assert now == TUE_10
    return factory.ticket(sla_org.org.requester, sla_org.org.service, now)


def sla_file(*, extra_closed_days: dict[str, str] | None = None,
             p3_resolution: str = "24h", paused_states: list[str] | None = None,
             calendar_name: str = "Kontorstid 08–17", policy_calendar: str = "kontorstid",
             warning_percent: int = 75) -> str:
    """The sla_org calendar and policy as an organisation file (only those sections),
    plus a 24/7 calendar "dygnet-runt"."""
    office = {day: "08:00-17:00" for day in ("mon", "tue", "wed", "thu", "fri")}
    always = {day: "00:00-24:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    policy = {"code": "standard", "name": "Standard", "calendar": policy_calendar,
              "warning_percent": warning_percent,
              "targets": {"P1": {"first_response": "30min", "resolution": "4h"},
                          "P2": {"first_response": "1h", "resolution": "8h"},
                          "P3": {"first_response": "4h", "resolution": p3_resolution},
                          "P4": {"first_response": "8h", "resolution": "40h"}}}
    if paused_states is not None:
        policy["paused_states"] = paused_states
    return yaml.safe_dump({
        "calendars": [{"code": "kontorstid", "name": calendar_name,
                       "timezone": "Europe/Stockholm", "weekly_hours": office,
                       "holidays": {"country": "SE", "categories": ["public", "de_facto"]},
                       "extra_closed_days": extra_closed_days or {}},
                      {"code": "dygnet-runt", "name": "Dygnet runt", "weekly_hours": always}],
        "sla_policies": [policy],
    }, allow_unicode=True)


def reload(text: str, now) -> None:
    load(parse(text, "org.yaml"), now=now)
    db.session.flush()


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def kinds(ticket, prefix="sla_clock_"):
    return [(e.kind, e.details.get("metric")) for e in ticket.events if e.kind.startswith(prefix)]


# Starting ----------------------------------------------------------------------------------


def test_a_service_with_a_policy_starts_response_and_resolution_clocks_at_creation(ticket):
    assert ticket.priority == 3
    first, resolution = ticket.clocks
    assert (first.metric.value, first.status, first.target_us) == (
        "first_response", ClockStatus.RUNNING, 4 * HOUR)
    assert (first.due_at, first.warn_at) == (FR_DUE, sthlm(10, 13))  # 75 % = 3 h
    assert (resolution.metric.value, resolution.target_us) == ("resolution", 24 * HOUR)
    # Tue 10–17 (7 h), Wed 08–17 (9 h), Thu 08–16 (8 h); warning at 18 h: Thu 10:00.
    assert (resolution.due_at, resolution.warn_at) == (RES_DUE, sthlm(12, 10))
    assert all(c.group is None and c.calendar.code == "kontorstid" for c in ticket.clocks)
    # The local helpdesk has no OLA: no group clock.
    assert (ticket.sla_due_at, ticket.sla_state) == (FR_DUE, "ok")
    assert kinds(ticket) == [("sla_clock_started", "first_response"),
                             ("sla_clock_started", "resolution")]
    assert_clocks_consistent(ticket)


def test_a_ticket_opened_on_friday_evening_is_due_the_next_working_week(sla_org, factory):
    ticket = factory.ticket(sla_org.org.requester, sla_org.org.service, sthlm(13, 18))
    assert clock(ticket, "first_response").due_at == sthlm(16, 12)  # Mon 08–12
    assert clock(ticket, "resolution").due_at == sthlm(18, 14)  # Mon 9 + Tue 9 + Wed 6
    assert_clocks_consistent(ticket)


def test_a_service_without_sla_runs_no_clocks(sla_org, factory, settings, now):
    org = sla_org.org
    ticket = factory.ticket(org.requester, sla_org.no_sla_service, now)
    assert ticket.service.sla_policy is None  # "SLA saknas"
    assert (ticket.clocks, ticket.sla_state, ticket.sla_due_at) == ([], None, None)
    take_ticket(ticket, actor=org.local_agent, now=now + hours(1), settings=settings)
    add_reply(ticket, actor=org.local_agent, body="Vi tittar på det.", internal=False,
              now=now + hours(2), settings=settings)
    ask_requester(ticket, actor=org.local_agent, question="Vilken skrivare?", now=now + hours(3),
                  settings=settings)
    requester_reply(ticket, actor=org.requester, body="Den på plan 2.", now=now + hours(4),
                    settings=settings)
    resolve_ticket(ticket, actor=org.local_agent, note="Bytt toner.", now=now + hours(5),
                   settings=settings)
    assert (ticket.clocks, ticket.sla_state, ticket.sla_due_at) == ([], None, None)
    assert kinds(ticket) == [] and kinds(ticket, "sla_") == []
    assert_clocks_consistent(ticket)


# Pausing and resuming ----------------------------------------------------------------------


def test_waiting_for_the_requester_pauses_and_their_reply_resumes_losing_no_time(
        ticket, sla_org, settings):
    org = sla_org.org
    take_ticket(ticket, actor=org.local_agent, now=sthlm(10, 11), settings=settings)
    ask_requester(ticket, actor=org.local_agent, question="Vilken skrivare?", now=sthlm(10, 12),
                  settings=settings)
    resolution = clock(ticket, "resolution")
    assert ticket.status == "waiting_for_customer"
    assert (resolution.status, resolution.elapsed_us) == (ClockStatus.PAUSED, 2 * HOUR)
    assert resolution.due_at is None and resolution.next_attention_at is None
    # Nothing runs while the requester has the ball: the queue shows no due time.
    assert (ticket.sla_due_at, ticket.sla_state) == (None, "ok")
    assert_clocks_consistent(ticket)

    # The requester answers the next morning: 21 real hours, 6 business hours later.
    requester_reply(ticket, actor=org.requester, body="Den på plan 2.", now=sthlm(11, 9),
                    settings=settings)
    resolution = clock(ticket, "resolution")
    assert ticket.status == "in_progress"
    assert (resolution.status, resolution.elapsed_us) == (ClockStatus.RUNNING, 2 * HOUR)
    assert resolution.segment_started_at == sthlm(11, 9)
    # Due 22 h on: Wed 09–17 (8), Thu (9), Fri 08–13 (5) — exactly the 6 paused hours later.
    assert resolution.due_at == sthlm(13, 13)
    calendar = business_calendar(resolution.calendar)
    assert business_time_between(RES_DUE, resolution.due_at, calendar) == business_time_between(
        sthlm(10, 12), sthlm(11, 9), calendar) == timedelta(hours=6)
    assert ticket.sla_due_at == sthlm(13, 13)
    assert [(e.kind, e.reason) for e in ticket.events if e.details.get("metric") == "resolution"
            and e.kind in ("sla_clock_paused", "sla_clock_resumed")] == [
        ("sla_clock_paused", "waiting_for_customer"), ("sla_clock_resumed", "in_progress")]
    assert_clocks_consistent(ticket)


def test_a_policy_that_pauses_on_nothing_keeps_counting_while_waiting(sla_org, factory, settings, now):
    org = sla_org.org
    sla_org.policy.paused_states = []
    ticket = factory.ticket(org.requester, org.service, now)
    take_ticket(ticket, actor=org.local_agent, now=sthlm(10, 11), settings=settings)
    ask_requester(ticket, actor=org.local_agent, question="Vilken skrivare?", now=sthlm(10, 12),
                  settings=settings)
    assert clock(ticket, "resolution").status == ClockStatus.RUNNING
    assert clock(ticket, "resolution").due_at == RES_DUE
    assert_clocks_consistent(ticket)


# Stopping -----------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["public reply", "ask requester", "resolution note"])
def test_the_first_public_word_to_the_requester_meets_the_first_response(
        how, ticket, sla_org, settings):
    org = sla_org.org
    take_ticket(ticket, actor=org.local_agent, now=sthlm(10, 10, 30), settings=settings)
    add_reply(ticket, actor=org.local_agent, body="Intern anteckning.", internal=True,
              now=sthlm(10, 11), settings=settings)
    assert clock(ticket, "first_response").status == ClockStatus.RUNNING  # a note is no answer
    at = sthlm(10, 12)
    if how == "public reply":
        add_reply(ticket, actor=org.local_agent, body="Vi tittar på det.", internal=False,
                  now=at, settings=settings)
    elif how == "ask requester":
        ask_requester(ticket, actor=org.local_agent, question="Vilken skrivare?", now=at,
                      settings=settings)
    else:
        resolve_ticket(ticket, actor=org.local_agent, note="Omstartad.", now=at,
                       settings=settings)
    first = clock(ticket, "first_response")
    assert (first.state, first.stopped_at, first.elapsed_us) == ("met", at, 2 * HOUR)
    assert first.due_at is None and first.next_attention_at is None
    stops = [e for e in ticket.events if e.kind == "sla_clock_stopped"
             and e.details["metric"] == "first_response"]
    assert len(stops) == 1 and stops[0].details["met"] is True
    # A second public reply changes nothing.
    if ticket.status == "in_progress":
        add_reply(ticket, actor=org.local_agent, body="Mer info.", internal=False,
                  now=sthlm(10, 13), settings=settings)
        assert clock(ticket, "first_response").elapsed_us == 2 * HOUR
    assert db.session.scalar(select(SlaAlert.id)) is None
    assert_clocks_consistent(ticket)


def test_a_first_response_after_the_due_time_is_breached_even_before_any_sweep(
        ticket, sla_org, settings):
    org = sla_org.org
    add_reply(ticket, actor=org.local_agent, body="Förlåt dröjsmålet.", internal=False,
              now=sthlm(10, 16), settings=settings)
    first = clock(ticket, "first_response")
    assert (first.state, first.elapsed_us, first.breached_at) == ("breached", 6 * HOUR, FR_DUE)
    alerts = db.session.scalars(select(SlaAlert)).all()
    assert [(a.clock_id, a.kind.value, a.at) for a in alerts] == [(first.id, "breach", FR_DUE)]
    assert ticket.sla_state == "breached"
    assert_clocks_consistent(ticket)


def test_a_late_first_response_by_asking_the_requester_is_breached_at_its_due_time(
        ticket, sla_org, settings):
    org = sla_org.org
    take_ticket(ticket, actor=org.local_agent, now=sthlm(10, 15), settings=settings)
    ask_requester(ticket, actor=org.local_agent, question="Vilken skrivare?", now=sthlm(10, 16),
                  settings=settings)
    first = clock(ticket, "first_response")
    assert (first.state, first.elapsed_us) == ("breached", 6 * HOUR)
    assert first.breached_at == FR_DUE
    assert db.session.scalars(select(SlaAlert.at)).all() == [FR_DUE]


@pytest.mark.parametrize(("resolved_at", "state", "elapsed"), [
    (sthlm(12, 15), "met", 23 * HOUR),
    (sthlm(12, 16), "met", 24 * HOUR),  # on the minute is on time
    (sthlm(13, 9), "breached", 26 * HOUR),
])
def test_resolving_stops_the_resolution_clock_met_or_breached(
        resolved_at, state, elapsed, ticket, sla_org, settings):
    org = sla_org.org
    take_ticket(ticket, actor=org.local_agent, now=sthlm(10, 11), settings=settings)
    add_reply(ticket, actor=org.local_agent, body="Vi tittar på det.", internal=False,
              now=sthlm(10, 11), settings=settings)
    resolve_ticket(ticket, actor=org.local_agent, note="Klart.", now=resolved_at,
                   settings=settings)
    resolution = clock(ticket, "resolution")
    assert (resolution.state, resolution.elapsed_us, resolution.stopped_at) == (
        state, elapsed, resolved_at)
    assert (ticket.sla_due_at, ticket.sla_state) == (None, "ok" if state == "met" else "breached")
    assert_clocks_consistent(ticket)


def test_cancelling_stops_every_clock(ticket, sla_org, settings):
    cancel_ticket(ticket, actor=sla_org.org.requester, actor_kind="requester", reason="Löst själv",
                  now=sthlm(10, 11), settings=settings)
    assert [c.status for c in ticket.clocks] == [ClockStatus.STOPPED] * 2
    assert (ticket.sla_due_at, ticket.sla_state) == (None, "ok")
    assert_clocks_consistent(ticket)


@pytest.mark.parametrize("by", ["requester", "agent"])
def test_reopening_resumes_the_resolution_clock_where_it_stopped(by, ticket, sla_org, settings):
    org = sla_org.org
    take_ticket(ticket, actor=org.local_agent, now=sthlm(10, 11), settings=settings)
    resolve_ticket(ticket, actor=org.local_agent, note="Omstartad.", now=sthlm(10, 12),
                   settings=settings)
    if by == "requester":
        requester_reply(ticket, actor=org.requester, body="Det fungerar inte igen.",
                        now=sthlm(11, 9), settings=settings)
    else:
        reopen_ticket(ticket, actor=org.local_agent, actor_kind=AGENT, message="Återkom.",
                      now=sthlm(11, 9), settings=settings)
    assert ticket.status == "open"
    resolution = clock(ticket, "resolution")
    assert (resolution.status, resolution.elapsed_us, resolution.segment_started_at) == (
        ClockStatus.RUNNING, 2 * HOUR, sthlm(11, 9))
    assert resolution.due_at == sthlm(13, 13)  # 22 h left from Wed 09:00
    assert clock(ticket, "first_response").state == "met"  # the answer was given
    assert (ticket.sla_due_at, ticket.sla_state) == (sthlm(13, 13), "ok")
    resumed = [e for e in ticket.events if e.kind == "sla_clock_resumed"]
    assert [e.reason for e in resumed] == ["reopened"]
    assert_clocks_consistent(ticket)


# OLA ---------------------------------------------------------------------------------------


def test_a_group_with_an_ola_runs_take_then_handle_until_it_passes_the_ticket_on(
        ticket, sla_org, settings):
    org = sla_org.org
    take_ticket(ticket, actor=org.local_agent, now=sthlm(10, 10, 30), settings=settings)
    assert [c.metric.value for c in ticket.clocks] == ["first_response", "resolution"]
    escalate_ticket(ticket, to_group=org.level2, actor=org.local_agent, reason="Servern",
                    now=sthlm(10, 11), settings=settings)
    take = clock(ticket, "ola_take")
    assert (take.group, take.status, take.target_us, take.due_at) == (
        org.level2, ClockStatus.RUNNING, HOUR, sthlm(10, 12))
    assert ticket.sla_due_at == sthlm(10, 12)  # the nearest running due is the OLA's
    assert_clocks_consistent(ticket)

    take_ticket(ticket, actor=org.level2_agent, now=sthlm(10, 11, 40), settings=settings)
    take = clock(ticket, "ola_take")
    handle = clock(ticket, "ola_handle")
    assert (take.state, take.elapsed_us) == ("met", 40 * MINUTE)
    assert (handle.group, handle.status, handle.target_us, handle.due_at) == (
        org.level2, ClockStatus.RUNNING, 8 * HOUR, sthlm(11, 10, 40))  # 5 h 20 + 2 h 40
    assert_clocks_consistent(ticket)

    return_to_level_1(ticket, actor=org.level2_agent, reason="Klientfel", now=sthlm(10, 14),
                      settings=settings)
    handle = clock(ticket, "ola_handle")
    assert (handle.state, handle.elapsed_us, handle.stopped_at) == ("met", 140 * MINUTE,
                                                                    sthlm(10, 14))
    stop_reasons = [e.reason for e in ticket.events if e.kind == "sla_clock_stopped"]
    assert stop_reasons == ["taken", "passed_on"]
    # Back at the local helpdesk (no OLA): only the customer's clocks run.
    assert [c.metric.value for c in ticket.clocks if c.status == ClockStatus.RUNNING] == [
        "first_response", "resolution"]
    assert ticket.sla_due_at == FR_DUE
    assert_clocks_consistent(ticket)


def test_escalating_on_to_a_group_without_an_ola_stops_the_handle_clock(ticket, sla_org,
                                                                         settings):
    org = sla_org.org
    escalate_ticket(ticket, to_group=org.level2, actor=org.local_agent, reason="Servern",
                    now=sthlm(10, 11), settings=settings)
    take_ticket(ticket, actor=org.level2_agent, now=sthlm(10, 12), settings=settings)
    escalate_ticket(ticket, to_group=org.level3, actor=org.level2_agent, reason="Databas",
                    now=sthlm(10, 13), settings=settings)
    assert [(c.metric.value, c.state) for c in ticket.clocks] == [
        ("first_response", "running"), ("resolution", "running"),
        ("ola_take", "met"), ("ola_handle", "met")]
    assert_clocks_consistent(ticket)


def test_ola_clocks_pause_while_waiting_for_the_requester(ticket, sla_org, settings):
    org = sla_org.org
    escalate_ticket(ticket, to_group=org.level2, actor=org.local_agent, reason="Servern",
                    now=sthlm(10, 11), settings=settings)
    take_ticket(ticket, actor=org.level2_agent, now=sthlm(10, 12), settings=settings)
    ask_requester(ticket, actor=org.level2_agent, question="Vilken server?", now=sthlm(10, 13),
                  settings=settings)
    assert clock(ticket, "ola_handle").status == ClockStatus.PAUSED
    requester_reply(ticket, actor=org.requester, body="Den gamla.", now=sthlm(11, 8),
                    settings=settings)
    handle = clock(ticket, "ola_handle")
    assert (handle.status, handle.elapsed_us) == (ClockStatus.RUNNING, HOUR)
    assert handle.due_at == sthlm(11, 15)
    assert_clocks_consistent(ticket)


# Recomputing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("impact", "urgency", "priority"), [(1, 2, 2), (3, 2, 4)])
def test_a_priority_change_recomputes_from_the_business_time_already_used(
        impact, urgency, priority, ticket, sla_org, settings):
    org = sla_org.org
    at = sthlm(10, 10, 30)
    before = {c.metric.value: (c.due_at, c.target_us) for c in ticket.clocks}
    change_priority(ticket, impact=impact, urgency=urgency, actor=org.local_agent,
                    reason="Hela avdelningen drabbad", now=at, settings=settings)
    assert ticket.priority == priority
    calendar = business_calendar(sla_org.calendar)
    for c in ticket.clocks:
        old_due, old_target = before[c.metric.value]
        assert c.target_us == sla_org.policy.target_minutes(priority, c.metric.value) * MINUTE
        assert (c.elapsed_us, c.segment_started_at) == (30 * MINUTE, at)  # nothing lost
        moved = business_time_between(min(old_due, c.due_at), max(old_due, c.due_at), calendar)
        assert moved == timedelta(microseconds=abs(c.target_us - old_target)), c.metric
        assert (c.due_at < old_due) == (priority < 3)
    assert ticket.sla_due_at == min(c.due_at for c in ticket.clocks)
    recomputed = [e for e in ticket.events if e.kind == "sla_clock_recomputed"]
    assert [e.reason for e in recomputed] == ["priority", "priority"]
    assert_clocks_consistent(ticket)


def test_a_priority_change_while_paused_keeps_the_clock_paused(ticket, sla_org, settings):
    org = sla_org.org
    take_ticket(ticket, actor=org.local_agent, now=sthlm(10, 11), settings=settings)
    ask_requester(ticket, actor=org.local_agent, question="Vilken skrivare?", now=sthlm(10, 12),
                  settings=settings)
    change_priority(ticket, impact=1, urgency=2, actor=org.local_agent, reason="Brådskande",
                    now=sthlm(10, 13), settings=settings)
    resolution = clock(ticket, "resolution")
    assert (resolution.status, resolution.elapsed_us, resolution.target_us) == (
        ClockStatus.PAUSED, 2 * HOUR, 8 * HOUR)
    requester_reply(ticket, actor=org.requester, body="Plan 2.", now=sthlm(11, 8),
                    settings=settings)
    assert clock(ticket, "resolution").due_at == sthlm(11, 14)  # 6 h left
    assert_clocks_consistent(ticket)


def test_a_holiday_added_on_reload_moves_the_due_time_a_business_day_and_keeps_the_count(
        ticket, sla_org, settings):
    org = sla_org.org
    add_reply(ticket, actor=org.local_agent, body="Vi tittar på det.", internal=False,
              now=sthlm(10, 11), settings=settings)
    reload(sla_file(), now=sthlm(10, 11, 30))  # the same file: nothing to recompute
    assert kinds(ticket)[-1][0] != "sla_clock_recomputed"

    reload(sla_file(extra_closed_days={"2026-03-11": "Strömavbrott i huset"}),
           now=sthlm(10, 12))
    resolution = clock(ticket, "resolution")
    assert (resolution.elapsed_us, resolution.segment_started_at) == (2 * HOUR, sthlm(10, 12))
    assert resolution.target_us == 24 * HOUR
    assert resolution.due_at == sthlm(13, 16)  # Thu 16:00 → Fri 16:00
    assert resolution.warn_at == sthlm(13, 10)
    recomputed = [e for e in ticket.events if e.kind == "sla_clock_recomputed"]
    assert [(e.details["metric"], e.reason, e.details["elapsed_us"])
            for e in recomputed] == [("resolution", "calendar", 2 * HOUR)]
    # The stopped first-response clock is history and stays as it was.
    assert clock(ticket, "first_response").elapsed_us == HOUR
    assert_clocks_consistent(ticket)


def test_a_holiday_added_on_reload_moves_the_tickets_due_time_in_the_queue(
        ticket, sla_org, settings):
    org = sla_org.org
    add_reply(ticket, actor=org.local_agent, body="Vi tittar på det.", internal=False,
              now=sthlm(10, 11), settings=settings)
    assert ticket.sla_due_at == RES_DUE
    reload(sla_file(extra_closed_days={"2026-03-11": "Strömavbrott i huset"}),
           now=sthlm(10, 12))
    db.session.expire_all()
    assert ticket.sla_due_at == sthlm(13, 16)
    assert_clocks_consistent(ticket)


def test_a_paused_clock_follows_a_calendar_change_when_it_resumes(ticket, sla_org, settings):
    org = sla_org.org
    take_ticket(ticket, actor=org.local_agent, now=sthlm(10, 11), settings=settings)
    ask_requester(ticket, actor=org.local_agent, question="Vilken skrivare?", now=sthlm(10, 12),
                  settings=settings)
    reload(sla_file(extra_closed_days={"2026-03-12": "Personaldag"}), now=sthlm(10, 15))
    assert clock(ticket, "resolution").status == ClockStatus.PAUSED
    requester_reply(ticket, actor=org.requester, body="Plan 2.", now=sthlm(11, 9),
                    settings=settings)
    # 22 h from Wed 09:00: Wed 8, (Thu closed), Fri 9, Mon 08–13.
    assert clock(ticket, "resolution").due_at == sthlm(16, 13)
    assert_clocks_consistent(ticket)


def test_a_policy_target_changed_on_reload_recomputes_running_clocks(ticket, sla_org, settings):
    reload(sla_file(p3_resolution="16h"), now=sthlm(10, 12))
    resolution = clock(ticket, "resolution")
    assert (resolution.target_us, resolution.elapsed_us) == (16 * HOUR, 2 * HOUR)
    # 8 business hours earlier than Thu 16:00.
    assert resolution.due_at == sthlm(11, 17)
    assert business_time_between(resolution.due_at, RES_DUE,
                                 business_calendar(sla_org.calendar)) == timedelta(hours=8)
    first = clock(ticket, "first_response")
    assert (first.target_us, first.due_at) == (4 * HOUR, FR_DUE)  # unchanged target
    assert_clocks_consistent(ticket)


def test_renaming_a_calendar_recomputes_nothing(ticket, sla_org, settings):
    reload(sla_file(calendar_name="Kontorstid (vardagar 08–17)"), now=sthlm(10, 12))
    assert [e for e in ticket.events if e.kind == "sla_clock_recomputed"] == []


def test_a_policy_moved_to_another_calendar_moves_its_running_clocks(ticket, sla_org, settings):
    reload(sla_file(policy_calendar="dygnet-runt"), now=sthlm(10, 12))
    resolution = clock(ticket, "resolution")
    assert resolution.calendar.code == "dygnet-runt"
    assert resolution.elapsed_us == 2 * HOUR
    assert resolution.due_at == sthlm(10, 12) + timedelta(hours=22)


def test_a_warning_threshold_changed_on_reload_applies_to_running_clocks(ticket, sla_org,
                                                                         settings):
    reload(sla_file(warning_percent=50), now=sthlm(10, 12))
    # 12 h of 24: Tue 10–17 (7 h), Wed 08–13.
    assert clock(ticket, "resolution").warn_at == sthlm(11, 13)


def test_a_clock_paused_in_a_state_the_policy_no_longer_pauses_on_resumes(
        ticket, sla_org, settings):
    org = sla_org.org
    take_ticket(ticket, actor=org.local_agent, now=sthlm(10, 11), settings=settings)
    ask_requester(ticket, actor=org.local_agent, question="Vilken skrivare?", now=sthlm(10, 12),
                  settings=settings)
    reload(sla_file(paused_states=[]), now=sthlm(10, 13))
    requester_reply(ticket, actor=org.requester, body="Plan 2.", now=sthlm(11, 9),
                    settings=settings)
    assert clock(ticket, "resolution").status == ClockStatus.RUNNING


# A long life --------------------------------------------------------------------------------


def test_every_clock_replays_to_its_row_after_a_long_life(ticket, sla_org, settings):
    org = sla_org.org
    steps = [
        lambda: take_ticket(ticket, actor=org.local_agent, now=sthlm(10, 11), settings=settings),
        lambda: ask_requester(ticket, actor=org.local_agent, question="Vilken?",
                              now=sthlm(10, 11, 30), settings=settings),
        lambda: requester_reply(ticket, actor=org.requester, body="Den.", now=sthlm(10, 16),
                                settings=settings),
        lambda: change_priority(ticket, impact=1, urgency=2, actor=org.local_agent,
                                reason="Fler drabbade", now=sthlm(11, 9), settings=settings),
        lambda: escalate_ticket(ticket, to_group=org.level2, actor=org.local_agent,
                                reason="Servern", now=sthlm(11, 10), settings=settings),
        lambda: reload(sla_file(extra_closed_days={"2026-03-13": "Flytt"}), now=sthlm(11, 10, 5)),
        lambda: take_ticket(ticket, actor=org.level2_agent, now=sthlm(11, 10, 30),
                            settings=settings),
        lambda: ask_requester(ticket, actor=org.level2_agent, question="Logg?",
                              now=sthlm(11, 11), settings=settings),
        lambda: requester_reply(ticket, actor=org.requester, body="Här.", now=sthlm(12, 8),
                                settings=settings),
        lambda: return_to_level_1(ticket, actor=org.level2_agent, reason="Klient",
                                  now=sthlm(12, 9), settings=settings),
        lambda: take_ticket(ticket, actor=org.local_agent, now=sthlm(12, 9, 30),
                            settings=settings),
        lambda: resolve_ticket(ticket, actor=org.local_agent, note="Klart.", now=sthlm(12, 10),
                               settings=settings),
        lambda: requester_reply(ticket, actor=org.requester, body="Igen!", now=sthlm(16, 9),
                                settings=settings),
        lambda: change_priority(ticket, impact=3, urgency=3, actor=org.local_agent,
                                reason="Kringgått", now=sthlm(16, 10), settings=settings),
        lambda: resolve_ticket(ticket, actor=org.local_agent, note="Klart nu.",
                               now=sthlm(16, 11), settings=settings),
    ]
    for step in steps:
        step()
        assert_clocks_consistent(ticket)
    assert [(c.metric.value, c.state) for c in ticket.clocks] == [
        ("first_response", "met"), ("resolution", "met"),
        ("ola_take", "met"), ("ola_handle", "met")]
    assert_clocks_consistent(ticket)


# What the ticket page explains ----------------------------------------------------------------


def paused_then_answered(ticket, sla_org, settings):
    org = sla_org.org
    take_ticket(ticket, actor=org.local_agent, now=sthlm(10, 11), settings=settings)
    ask_requester(ticket, actor=org.local_agent, question="Vilken skrivare?", now=sthlm(10, 12),
                  settings=settings)
    requester_reply(ticket, actor=org.requester, body="Plan 2.", now=sthlm(10, 14, 10),
                    settings=settings)


def test_the_explanation_on_the_ticket_page_adds_up_to_the_counted_time(ticket, sla_org,
                                                                        settings):
    paused_then_answered(ticket, sla_org, settings)
    views = {v.clock.metric.value: v for v in clock_views(ticket, now=sthlm(11, 9))}
    resolution = views["resolution"]
    # Tue 10–12 and 14:10–17, Wed 08–09.
    assert resolution.counted_us == 2 * HOUR + 170 * MINUTE + HOUR
    assert resolution.remaining == timedelta(hours=24) - timedelta(microseconds=resolution.counted_us)
    counted = [(line.start, line.end) for line in resolution.lines if line.kind == "counted"]
    assert counted == [(sthlm(10, 10), sthlm(10, 12)), (sthlm(10, 14, 10), sthlm(10, 17)),
                       (sthlm(11, 8), sthlm(11, 9))]
    assert sum(line.business_us for line in resolution.lines
               if line.kind == "counted") == resolution.counted_us
    paused = [line for line in resolution.lines if line.kind == "paused"]
    assert [(p.start, p.end) for p in paused] == [(sthlm(10, 12), sthlm(10, 14, 10))]
    assert views["first_response"].counted_us == 2 * HOUR


def test_the_explanation_says_why_the_clock_paused_and_stopped(ticket, sla_org, settings):
    paused_then_answered(ticket, sla_org, settings)
    views = {v.clock.metric.value: v for v in clock_views(ticket, now=sthlm(11, 9))}
    lines = views["resolution"].lines
    assert [line.reason for line in lines if line.kind == "paused"] == ["waiting_for_customer"]
    first = views["first_response"].lines
    assert [line.reason for line in first if line.kind == "stopped"] == ["public_reply"]


def test_a_closed_day_added_afterwards_does_not_rewrite_a_stopped_clocks_count(
        ticket, sla_org, settings):
    org = sla_org.org
    add_reply(ticket, actor=org.local_agent, body="Vi tittar på det.", internal=False,
              now=sthlm(10, 11), settings=settings)
    reload(sla_file(extra_closed_days={"2026-03-10": "Strömavbrott"}), now=sthlm(10, 12))
    assert clock(ticket, "first_response").elapsed_us == HOUR
    assert_clocks_consistent(ticket)
