"""The sweep: warnings and breaches recorded once, at the right moment, with their effects.

Tickets are created at the ``now`` fixture (Tue 10 March 2026 10:00 Stockholm) at P3 under
the ``sla_org`` standard policy: first response warns at 13:00 and is due at 14:00.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from helpdesk.core.errors import StaleTicket
from helpdesk.core.outbox import OutboxMessage
from helpdesk.extensions import db
from helpdesk.sla import effects
from helpdesk.sla.models import AlertKind, ClockStatus, SlaAlert, SlaClock
from helpdesk.sla.sweep import sweep, sweep_all
from helpdesk.tickets.operations import ask_requester, check_version, take_ticket
from helpdesk.tiers.operations import escalate_ticket
from helpdesk.web.template_helpers import translate_params
from tests.integration.sla.checks import HOUR, assert_clocks_consistent, clock, sthlm
from tests.support import fast_password_hashing

FR_WARN, FR_DUE = sthlm(10, 13), sthlm(10, 14)


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture
def ticket(sla_org, factory, now):
    return factory.ticket(sla_org.org.requester, sla_org.org.service, now)


def run(settings, at, worker="sweep-test"):
    result = sweep_all(now=at, settings=settings, worker=worker)
    db.session.flush()
    return result


def alerts() -> list[tuple[int, str, object, str]]:
    rows = db.session.scalars(select(SlaAlert).order_by(SlaAlert.id)).all()
    return [(a.clock_id, a.kind.value, a.at, a.recorded_by) for a in rows]


def test_a_warning_at_warn_time_and_a_breach_at_due_time_each_once(ticket, settings):
    first = clock(ticket, "first_response")
    assert run(settings, FR_WARN - timedelta(microseconds=1)).examined == 0
    assert alerts() == [] and ticket.sla_state == "ok"

    result = run(settings, FR_WARN)
    assert (result.warnings, result.breaches) == ([first.id], [])
    assert alerts() == [(first.id, "warning", FR_WARN, "sweep-test")]
    assert (first.warned_at, first.next_attention_at) == (FR_WARN, FR_DUE)
    assert ticket.sla_state == "at_risk"
    again = run(settings, FR_WARN + timedelta(minutes=30), worker="other")
    assert (again.examined, again.warnings) == (0, [])

    result = run(settings, FR_DUE)
    assert (result.warnings, result.breaches) == ([], [first.id])
    assert run(settings, FR_DUE).breaches == []
    assert run(settings, FR_DUE + timedelta(hours=1)).breaches == []
    assert alerts() == [(first.id, "warning", FR_WARN, "sweep-test"),
                        (first.id, "breach", FR_DUE, "sweep-test")]
    assert (first.breached_at, first.state, first.next_attention_at) == (
        FR_DUE, "breached", None)
    assert ticket.sla_state == "breached"
    # The history says it once, as the helpdesk (no person).
    recorded = [(e.kind, e.actor, e.details["metric"]) for e in ticket.events
                if e.kind in ("sla_warning", "sla_breach")]
    assert recorded == [("sla_warning", None, "first_response"),
                        ("sla_breach", None, "first_response")]
    # Still running, still counting: the clock stops only when the requester is answered.
    assert first.status == ClockStatus.RUNNING
    assert_clocks_consistent(ticket)


def test_a_late_sweep_records_the_warning_and_the_breach_at_their_own_times(ticket, settings):
    result = run(settings, sthlm(11, 9))  # the scheduler was down overnight
    first = clock(ticket, "first_response")
    assert result.warnings == [first.id] and result.breaches == [first.id]
    assert [(kind, at) for _, kind, at, _ in alerts()] == [("warning", FR_WARN),
                                                          ("breach", FR_DUE)]
    assert_clocks_consistent(ticket)


def test_the_database_refuses_a_second_alert_of_a_kind_for_a_clock(ticket, settings):
    run(settings, FR_DUE)
    first = clock(ticket, "first_response")
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(SlaAlert(clock_id=first.id, kind=AlertKind.BREACH, at=FR_DUE,
                                recorded_at=FR_DUE, recorded_by="intruder"))
        db.session.flush()
    assert db.session.scalar(select(func.count(SlaAlert.id)).where(
        SlaAlert.clock_id == first.id, SlaAlert.kind == AlertKind.BREACH)) == 1
    # Another clock's breach is a row of its own.
    other = clock(ticket, "resolution")
    db.session.add(SlaAlert(clock_id=other.id, kind=AlertKind.BREACH, at=FR_DUE,
                            recorded_at=FR_DUE, recorded_by="test"))
    db.session.flush()


def test_a_clock_whose_alert_exists_already_is_not_alerted_again(ticket, settings):
    # Another scheduler recorded the breach (and committed) after this one read the clock.
    first = clock(ticket, "first_response")
    db.session.add(SlaAlert(clock_id=first.id, kind=AlertKind.BREACH, at=FR_DUE,
                            recorded_at=FR_DUE, recorded_by="other-scheduler"))
    db.session.flush()
    result = run(settings, FR_DUE)
    assert result.breaches == [] and result.warnings == [first.id]
    assert [r for r in alerts() if r[1] == "breach"] == [
        (first.id, "breach", FR_DUE, "other-scheduler")]
    assert [e.kind for e in ticket.events if e.kind == "sla_breach"] == []
    # The clock carries the breach all the same, so it stops asking for attention.
    assert (first.breached_at, first.next_attention_at) == (FR_DUE, None)
    assert run(settings, FR_DUE + timedelta(hours=1)).examined == 0


def test_a_warning_that_raises_the_priority_is_followed_by_the_breach_its_new_target_brings(
        assigned, sla_org, settings):
    sla_org.policy.effects = {"warning": ["raise_priority"]}
    late = sthlm(10, 13, 30)
    result = run(settings, late)
    first = clock(assigned, "first_response")
    # Warned at 13:00 at P3; P2 allows 1 h and 3.5 h are used, so it is due at once.
    assert assigned.priority == 2
    assert (result.warnings, result.breaches) == ([first.id], [first.id])
    assert [(kind, at) for clock_id, kind, at, _ in alerts() if clock_id == first.id] == [
        ("warning", FR_WARN), ("breach", late)]
    assert_clocks_consistent(assigned)


def test_a_raised_priority_is_a_change_the_helpdesk_made_at_the_sweeps_time(
        assigned, sla_org, settings):
    sla_org.policy.effects = {"breach": ["raise_priority"]}
    opened_version = assigned.version
    run(settings, FR_DUE)
    db.session.expire(assigned)
    # Written so: a client syncing by updated_since sees it, and a page opened before is told
    # who changed the ticket and when.
    assert (assigned.priority, assigned.updated_at, assigned.updated_by) == (2, FR_DUE, None)
    # The requester reads the new priority too, though not why: their change time moves.
    assert assigned.public_updated_at == FR_DUE
    with pytest.raises(StaleTicket) as refused:
        check_version(assigned, opened_version)
    assert refused.value.params["time"] == FR_DUE
    assert "helpdesk" in str(refused.value.params["name"])


def test_the_sweep_reads_only_clocks_needing_attention_by_now(sla_org, factory, settings, now):
    org = sla_org.org
    early = factory.ticket(org.requester, org.service, now)
    late = factory.ticket(org.requester, org.service, sthlm(10, 16))  # warns Wed 10:00
    untouched = {c.id: (c.warned_at, c.breached_at, c.next_attention_at) for c in late.clocks}
    result = run(settings, FR_DUE)
    assert result.examined == 1  # early's first response; resolution warns on Thursday
    assert result.breaches == [clock(early, "first_response").id]
    assert {c.id: (c.warned_at, c.breached_at, c.next_attention_at)
            for c in late.clocks} == untouched
    assert late.sla_state == "ok"

    # The sweep goes by next_attention_at, the indexed column, not by due_at.
    resolution = clock(late, "resolution")
    resolution.next_attention_at = sthlm(20, 9)
    db.session.flush()
    result = run(settings, sthlm(19, 9))
    assert resolution.id not in result.breaches + result.warnings
    assert resolution.warned_at is None and resolution.breached_at is None


def test_a_paused_clock_never_alerts(ticket, sla_org, settings):
    org = sla_org.org
    take_ticket(ticket, actor=org.local_agent, now=sthlm(10, 11), settings=settings)
    ask_requester(ticket, actor=org.local_agent, question="Vilken skrivare?", now=sthlm(10, 12),
                  settings=settings)
    result = run(settings, sthlm(31, 9))  # three weeks later, still waiting
    assert (result.examined, result.warnings, result.breaches) == (0, [], [])
    assert alerts() == []
    assert (clock(ticket, "resolution").status, ticket.sla_state) == (ClockStatus.PAUSED, "ok")
    assert_clocks_consistent(ticket)


# Effects ------------------------------------------------------------------------------------


@pytest.fixture
def assigned(ticket, sla_org, settings):
    """Taken by the local helpdesk's (English-speaking) agent; its lead speaks Swedish."""
    take_ticket(ticket, actor=sla_org.org.local_agent, now=sthlm(10, 11), settings=settings)
    return ticket


def outbox() -> list[OutboxMessage]:
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_notify_writes_to_the_assignee_and_the_group_lead_in_their_languages(
        assigned, sla_org, settings):
    org = sla_org.org
    sla_org.policy.effects = {"warning": ["notify"], "breach": ["notify"]}
    ref = assigned.reference
    run(settings, FR_WARN)
    messages = outbox()
    assert [(m.recipient_email, m.locale, m.kind) for m in messages] == [
        (org.local_agent.email, "en", "sla_warning"),
        (sla_org.local_lead.email, "sv", "sla_warning")]
    assert messages[0].subject == f"[{ref}] At risk: First response due 2026-03-10 14:00"
    assert messages[1].subject == f"[{ref}] I riskzonen: Svarstid senast 2026-03-10 14:00"
    assert messages[1].body.startswith(f"Ärende {ref} ”Skrivaren skriver inte ut” (P3, ")
    assert all(m.ticket_id == assigned.id and m.sent_at is None for m in messages)
    assert messages[0].payload == {"clock_id": clock(assigned, "first_response").id,
                                   "metric": "first_response"}

    run(settings, FR_DUE)
    breach = outbox()[2:]
    assert [(m.recipient_email, m.subject) for m in breach] == [
        (org.local_agent.email, f"[{ref}] Breached: First response was due 2026-03-10 14:00"),
        (sla_org.local_lead.email,
         f"[{ref}] Överskriden: Svarstid skulle vara klar 2026-03-10 14:00")]
    run(settings, FR_DUE + timedelta(hours=2))
    assert len(outbox()) == 4  # nobody is told twice


def test_notify_without_an_assignee_tells_the_lead_only(ticket, sla_org, settings):
    sla_org.policy.effects = {"warning": ["notify"]}
    run(settings, FR_WARN)
    assert [m.recipient_email for m in outbox()] == [sla_org.local_lead.email]


def test_raise_priority_lowers_the_p_number_by_one_and_recomputes_the_targets(
        assigned, sla_org, settings):
    sla_org.policy.effects = {"breach": ["raise_priority"]}
    run(settings, FR_DUE)
    assert assigned.priority == 2
    raised = [e for e in assigned.events if e.kind == "priority_raised"]
    assert [(e.actor, e.details["from_priority"], e.details["to_priority"]) for e in raised] == [
        (None, 3, 2)]
    resolution = clock(assigned, "resolution")
    # P2 resolution is 8 h; 4 h used by 14:00: Tue 14–17 and Wed 08–09.
    assert (resolution.target_us, resolution.elapsed_us) == (8 * HOUR, 4 * HOUR)
    assert resolution.due_at == sthlm(11, 9)
    # The first response (P2: 1 h) stays overdue until the requester is answered.
    assert clock(assigned, "first_response").due_at == assigned.sla_due_at == FR_DUE
    # Its own breach at P2 is recorded once, and raises the priority once more.
    run(settings, sthlm(11, 9))
    assert assigned.priority == 1
    run(settings, sthlm(12, 9))
    assert assigned.priority == 1  # P1 is the top
    assert [(k, at) for _, k, at, _ in alerts()] == [
        ("warning", FR_WARN), ("breach", FR_DUE),  # first response
        ("warning", sthlm(10, 16)), ("breach", sthlm(11, 9))]  # resolution, at P2
    assert_clocks_consistent(assigned)


def test_an_ola_breach_escalates_to_the_services_next_tier_as_the_helpdesk(
        ticket, sla_org, settings, app):
    org = sla_org.org
    sla_org.level2_ola.effects = {"breach": ["escalate"]}
    escalate_ticket(ticket, to_group=org.level2, actor=org.local_agent, reason="Servern",
                    now=sthlm(10, 11), settings=settings)
    take = clock(ticket, "ola_take", org.level2.id)
    assert take.due_at == sthlm(10, 12)
    run(settings, sthlm(10, 12))
    assert (ticket.assigned_group, ticket.assignee, ticket.status) == (org.level3, None, "open")
    assert ticket.owner_group == org.local
    escalated = [e for e in ticket.events if e.kind == "escalated"][-1]
    assert (escalated.actor, escalated.from_group, escalated.to_group) == (
        None, org.level2, org.level3)
    params = escalated.details["reason_params"]
    with app.test_request_context(), force_locale("sv"):
        assert translate_params(escalated.reason, params) == (
            f"{org.level2.name} höll inte sitt OLA (Taget från kön (OLA)), "
            "så helpdesken eskalerade ärendet.")
    with app.test_request_context(), force_locale("en"):
        assert translate_params(escalated.reason, params) == (
            f"{org.level2.name_en} did not meet its OLA (Taken from the queue (OLA)), "
            "so the helpdesk escalated the ticket.")
    assert (take.state, take.stopped_at) == ("breached", sthlm(10, 12))
    assert [e.reason for e in ticket.events if e.kind == "sla_clock_stopped"] == ["passed_on"]
    run(settings, sthlm(10, 13))
    assert len([e for e in ticket.events if e.kind == "escalated"]) == 2  # one by hand, one not
    assert_clocks_consistent(ticket)


def test_a_paused_ola_clock_does_not_escalate(ticket, sla_org, settings):
    org = sla_org.org
    sla_org.level2_ola.effects = {"breach": ["escalate"]}
    escalate_ticket(ticket, to_group=org.level2, actor=org.local_agent, reason="Servern",
                    now=sthlm(10, 11), settings=settings)
    take_ticket(ticket, actor=org.level2_agent, now=sthlm(10, 11, 30), settings=settings)
    ask_requester(ticket, actor=org.level2_agent, question="Vilken?", now=sthlm(10, 12),
                  settings=settings)
    run(settings, sthlm(31, 9))
    assert ticket.assigned_group == org.level2  # paused handle clock: no breach, no escalation


def test_a_sweep_that_fails_half_way_leaves_nothing_and_the_next_records_it_once(
        assigned, sla_org, settings, monkeypatch):
    sla_org.policy.effects = {"breach": ["notify"]}
    run(settings, FR_WARN)
    calls, original = [], effects.queue_message

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("the mail relay table is locked")

    monkeypatch.setattr(effects, "queue_message", broken)
    savepoint = db.session.begin_nested()  # what the scheduler's transaction is to the sweep
    with pytest.raises(RuntimeError):
        sweep(now=FR_DUE, settings=settings, worker="doomed")
    savepoint.rollback()
    assert calls == [1]
    assert [k for _, k, _, _ in alerts()] == ["warning"]
    assert outbox() == []
    first = db.session.get(SlaClock, clock(assigned, "first_response").id)
    assert first.breached_at is None and first.next_attention_at == FR_DUE
    assert [e.kind for e in assigned.events if e.kind == "sla_breach"] == []

    monkeypatch.setattr(effects, "queue_message", original)
    result = run(settings, FR_DUE + timedelta(minutes=1), worker="next")
    assert result.breaches == [first.id]
    assert run(settings, FR_DUE + timedelta(minutes=2)).breaches == []
    assert [(k, at, by) for _, k, at, by in alerts()] == [
        ("warning", FR_WARN, "sweep-test"), ("breach", FR_DUE, "next")]
    assert len(outbox()) == 2
    assert_clocks_consistent(assigned)


def test_a_warning_does_not_make_an_agents_open_page_stale(assigned, sla_org, settings):
    from helpdesk.tickets.operations import resolve_ticket

    db.session.flush()
    opened_version = assigned.version
    run(settings, FR_WARN)
    assert assigned.sla_state == "at_risk"
    resolve_ticket(assigned, actor=sla_org.org.local_agent, note="Omstartad.",
                   now=FR_WARN + timedelta(minutes=5), settings=settings,
                   expected_version=opened_version)
    assert assigned.status == "resolved"


def test_the_sla_sweep_command_records_what_is_due_now_once(sla_org, factory, app):
    from helpdesk.cli import main as helpdesk_cli
    from helpdesk.core.clock import utcnow

    # The command sweeps at the real time: a ticket opened a month ago is overdue.
    factory.ticket(sla_org.org.requester, sla_org.org.service, utcnow() - timedelta(days=30))
    result = app.test_cli_runner().invoke(helpdesk_cli, ["sla", "sweep"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Examined 2 clocks: 2 warnings, 2 breaches recorded."
    again = app.test_cli_runner().invoke(helpdesk_cli, ["sla", "sweep"])
    assert again.output.strip() == "Examined 0 clocks: 0 warnings, 0 breaches recorded."
    assert sorted((k, by) for _, k, _, by in alerts()) == [
        ("breach", "cli"), ("breach", "cli"), ("warning", "cli"), ("warning", "cli")]


def test_raised_priorities_are_written_under_the_version_check(assigned, sla_org, settings,
                                                               monkeypatch):
    from sqlalchemy import text

    from helpdesk.sla import sweep as sweep_module

    sla_org.policy.effects = {"breach": ["raise_priority"]}
    written = sweep_module._write_raised_priorities

    def someone_saves_first(tickets):
        # Another transaction saved the ticket after the sweep read it.
        with db.session.no_autoflush:
            db.session.execute(text("UPDATE tickets SET version = version + 1 WHERE id = :id"),
                               {"id": assigned.id})
        written(tickets)

    monkeypatch.setattr(sweep_module, "_write_raised_priorities", someone_saves_first)
    with pytest.raises(StaleDataError, match="saved by someone else"):
        sweep(now=FR_DUE, settings=settings, worker="late")


def test_a_raised_priority_moves_the_tickets_version_on_by_one(assigned, sla_org, settings):
    sla_org.policy.effects = {"breach": ["raise_priority"]}
    db.session.flush()
    before, seen_before = assigned.version, assigned.public_version
    run(settings, FR_DUE)
    assert (assigned.priority, assigned.version) == (2, before + 1)
    db.session.expire(assigned)
    assert (assigned.priority, assigned.version) == (2, before + 1)  # as stored
    assert assigned.public_version == seen_before + 1
