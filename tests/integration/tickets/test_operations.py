"""The ticket operations: what each one does to a ticket, and the history it leaves."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from helpdesk import create_app
from helpdesk.accounts.models import Role, User
from helpdesk.catalogue.models import Level1Choice, Lifecycle, Service
from helpdesk.core.concurrency import is_lost_race
from helpdesk.core.errors import DomainError, StaleTicket, TransitionRefused
from helpdesk.extensions import db
from helpdesk.tickets.attachments import Upload
from helpdesk.tickets.models import HistoryIsAppendOnly, Message, Ticket, TicketEvent, TicketType
from helpdesk.tickets.operations import (
    add_reply,
    ask_requester,
    assign_ticket,
    auto_close_resolved,
    cancel_ticket,
    check_version,
    confirm_resolution,
    create_ticket,
    requester_reply,
    resolve_ticket,
    take_ticket,
)
from helpdesk.tickets.references import last_number
from helpdesk.tiers.models import GroupKind, SupportGroup
from helpdesk.tiers.operations import escalate_ticket
from helpdesk.web import edge
from tests.support import BACKENDS, fast_password_hashing, fresh_database

LATER = timedelta(minutes=5)


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


def history(ticket: Ticket, kind: str) -> list[TicketEvent]:
    return [e for e in ticket.events if e.kind == kind]


def only_event(ticket: Ticket, kind: str) -> TicketEvent:
    found = history(ticket, kind)
    assert len(found) == 1, f"expected one {kind!r} event, got {[e.kind for e in ticket.events]}"
    return found[0]


def assert_event(ticket, kind, *, actor, at, from_status=None, to_status=None,
                 from_group=None, to_group=None):
    event = only_event(ticket, kind)
    assert (event.actor, event.at) == (actor, at)
    assert (event.from_status, event.to_status) == (from_status, to_status)
    assert event.from_group_id == (from_group.id if from_group else None)
    assert event.to_group_id == (to_group.id if to_group else None)
    return event


def snapshot(ticket: Ticket) -> dict:
    """What an observer of the ticket can see; refused operations must leave it alone."""
    db.session.flush()
    return {"status": ticket.status, "assignee": ticket.assignee_id,
            "group": ticket.assigned_group_id, "resolved_at": ticket.resolved_at,
            "closed_at": ticket.closed_at, "resolution": ticket.resolution,
            "version": ticket.version, "events": len(ticket.events),
            "messages": len(ticket.messages)}


@pytest.fixture
def ticket(org, factory, now):
    """A ticket from a department with a local helpdesk: it starts with the local helpdesk."""
    return factory.ticket(org.requester, org.service, now)


@pytest.fixture
def taken(ticket, org, settings, now):
    take_ticket(ticket, actor=org.local_agent, now=now, settings=settings)
    return ticket


# -- creating and routing -------------------------------------------------------------------------

def test_a_department_with_a_local_helpdesk_gets_its_ticket_in_the_local_queue(ticket, org, now):
    assert (ticket.owner_group, ticket.assigned_group) == (org.local, org.local)
    assert (ticket.status, ticket.assignee, ticket.type) == ("new", None, TicketType.INCIDENT)
    created = assert_event(ticket, "created", actor=org.requester, at=now, to_status="new")
    assert created.details == {"channel": "web", "priority": 3}
    routed = assert_event(ticket, "routed", actor=None, at=now, to_group=org.local)
    assert routed.reason == ("The requester's department %(org_unit)s has a local helpdesk, "
                             "and the service allows local support.")
    assert routed.details["reason_params"] == {"org_unit": org.with_helpdesk.name,
                                               "org_unit_en": org.with_helpdesk.name_en}


def test_a_department_without_a_local_helpdesk_goes_to_the_service_desk(org, factory, now):
    requester = factory.user(Role.REQUESTER, org_unit=org.without_helpdesk)
    ticket = factory.ticket(requester, org.service, now)
    assert (ticket.owner_group, ticket.assigned_group) == (org.desk, org.desk)
    routed = only_event(ticket, "routed")
    assert routed.to_group_id == org.desk.id
    assert routed.reason == ("The requester's department has no local helpdesk, "
                             "so the central service desk takes it.")


def test_the_meeting_system_goes_to_its_named_group(org, factory, now):
    secretaries = factory.group(1, GroupKind.BUSINESS_SUPPORT, code="namndsekreterare")
    meetings = factory.service(Level1Choice.GROUP, level1_group=secretaries, level2=org.level2,
                               code="sammantradesrum")
    ticket = factory.ticket(org.requester, meetings, now)
    assert (ticket.owner_group, ticket.assigned_group) == (secretaries, secretaries)
    routed = only_event(ticket, "routed")
    assert routed.reason == "The service %(service)s is supported at level 1 by a named group."
    assert routed.details["reason_params"] == {"service": meetings.name,
                                               "service_en": meetings.name_en}


def test_a_ticket_nobody_can_receive_is_refused_with_a_clear_message(org, factory, now, settings):
    nobody = factory.service(Level1Choice.GROUP, code="orphan")  # a named-group service, no group
    with pytest.raises(DomainError):
        create_ticket(requester=org.requester, service=nobody, subject="Hjälp", description="x",
                      impact=2, urgency=2, now=now, settings=settings)


def test_references_count_up_per_year_and_start_again_in_a_new_year(org, factory, now):
    new_year = datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC)
    made = [factory.ticket(org.requester, org.service, when).reference
            for when in (now, now + LATER, new_year, new_year + LATER, now + 2 * LATER)]
    assert made == ["HD-2026-000001", "HD-2026-000002", "HD-2027-000001", "HD-2027-000002",
                    "HD-2026-000003"]


@pytest.mark.parametrize(("impact", "urgency", "priority"),
                         [(1, 1, 1), (1, 3, 3), (3, 1, 3), (2, 2, 3), (2, 3, 4), (3, 3, 4)])
def test_priority_comes_from_impact_and_urgency(org, factory, now, impact, urgency, priority):
    ticket = factory.ticket(org.requester, org.service, now, impact=impact, urgency=urgency)
    assert ticket.priority == priority
    assert only_event(ticket, "created").details["priority"] == priority


@pytest.mark.parametrize(("lifecycle", "shown"),
                         [(Lifecycle.PROPOSED, "Proposed"), (Lifecycle.RETIRED, "Retired")])
def test_a_service_that_cannot_be_ordered_is_refused(org, factory, now, settings, lifecycle,
                                                     shown):
    service = factory.service(lifecycle=lifecycle)
    with pytest.raises(DomainError) as refused:
        create_ticket(requester=org.requester, service=service, subject="Beställning",
                      description="Jag vill ha den.", impact=3, urgency=3, now=now,
                      settings=settings)
    assert str(refused.value) == (
        f"The service {service.name} cannot be ordered now ({shown}).")
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
    assert last_number(now.year) == 0, "no reference number is used up"


@pytest.mark.parametrize("lifecycle", [Lifecycle.PILOT, Lifecycle.RETIRING])
def test_pilot_and_retiring_services_can_be_ordered(org, factory, now, lifecycle):
    service = factory.service(lifecycle=lifecycle)
    assert factory.ticket(org.requester, service, now).status == "new"


def test_attachments_sent_with_a_new_ticket_belong_to_its_description(org, now, settings):
    upload = Upload("skärmbild.png", "image/png", io.BytesIO(b"\x89PNG fake"))
    ticket = create_ticket(requester=org.requester, service=org.service, subject="Fel",
                           description="Se bild.", impact=2, urgency=2, now=now,
                           settings=settings, uploads=[upload])
    [attachment] = ticket.attachments
    assert (ticket.messages, attachment.message) == ([], None)
    assert (attachment.filename, attachment.size, attachment.internal) == (
        "skärmbild.png", len(b"\x89PNG fake"), False)


# -- working a ticket -----------------------------------------------------------------------------

def test_a_member_of_the_group_takes_the_ticket(ticket, org, settings, now):
    take_ticket(ticket, actor=org.local_agent, now=now + LATER, settings=settings)
    assert (ticket.status, ticket.assignee) == ("in_progress", org.local_agent)
    assert (ticket.updated_by, ticket.updated_at) == (org.local_agent, now + LATER)
    taken = assert_event(ticket, "taken", actor=org.local_agent, at=now + LATER,
                         from_status="new", to_status="in_progress")
    assert taken.details == {"previous_assignee": None}


def test_a_colleague_can_take_over_a_ticket_in_progress(taken, org, factory, settings, now):
    colleague = factory.agent(org.local)
    take_ticket(taken, actor=colleague, now=now + LATER, settings=settings)
    assert (taken.status, taken.assignee) == ("in_progress", colleague)
    assert history(taken, "taken")[-1].details == {"previous_assignee": org.local_agent.name}


def test_someone_outside_the_group_cannot_take_the_ticket(ticket, org, settings, now):
    before = snapshot(ticket)
    with pytest.raises(DomainError) as refused:
        take_ticket(ticket, actor=org.desk_agent, now=now + LATER, settings=settings)
    assert str(refused.value) == f"Only members of {org.local.name} can take this ticket."
    assert snapshot(ticket) == before


def test_assign_to_a_member(ticket, org, factory, settings, now):
    colleague = factory.agent(org.local)
    assign_ticket(ticket, assignee=colleague, actor=org.local_agent, now=now + LATER,
                  settings=settings)
    assert (ticket.status, ticket.assignee) == ("in_progress", colleague)
    event = assert_event(ticket, "assigned", actor=org.local_agent, at=now + LATER,
                         from_status="new", to_status="in_progress")
    assert event.details == {"assignee": colleague.name}


def test_assign_to_someone_outside_the_group_is_refused(ticket, org, settings, now):
    before = snapshot(ticket)
    with pytest.raises(TransitionRefused) as refused:
        assign_ticket(ticket, assignee=org.level2_agent, actor=org.local_agent, now=now + LATER,
                      settings=settings)
    assert str(refused.value) == "The agent must be a member of the group that works the ticket."
    assert snapshot(ticket) == before


def test_asking_the_requester_waits_for_them_and_their_reply_resumes_work(
        taken, org, settings, now):
    ask_requester(taken, actor=org.local_agent, question="Vilken skrivare gäller det?",
                  now=now + LATER, settings=settings)
    assert taken.status == "waiting_for_customer"
    assert (taken.messages[-1].body, taken.messages[-1].internal) == (
        "Vilken skrivare gäller det?", False)
    assert_event(taken, "asked_requester", actor=org.local_agent, at=now + LATER,
                 from_status="in_progress", to_status="waiting_for_customer")

    reply_at = now + 2 * LATER
    requester_reply(taken, actor=org.requester, body="Den i korridoren.", now=reply_at,
                    settings=settings)
    assert taken.status == "in_progress"
    assert taken.messages[-1].author == org.requester
    assert_event(taken, "requester_replied", actor=org.requester, at=reply_at,
                 from_status="waiting_for_customer", to_status="in_progress")


def test_asking_the_requester_needs_a_question(taken, org, settings, now):
    before = snapshot(taken)
    with pytest.raises(TransitionRefused, match=r"^Write a message\.$"):
        ask_requester(taken, actor=org.local_agent, question=" ", now=now, settings=settings)
    assert snapshot(taken) == before


def test_agent_replies_and_internal_notes_are_recorded(taken, org, settings, now):
    add_reply(taken, actor=org.local_agent, body="Vi tittar på det.", internal=False,
              now=now + LATER, settings=settings)
    add_reply(taken, actor=org.local_agent, body="Troligen drivrutinen.", internal=True,
              now=now + 2 * LATER, settings=settings)
    assert [(m.body, m.internal) for m in taken.messages] == [
        ("Vi tittar på det.", False), ("Troligen drivrutinen.", True)]
    assert_event(taken, "replied", actor=org.local_agent, at=now + LATER)
    assert_event(taken, "noted", actor=org.local_agent, at=now + 2 * LATER)


@pytest.mark.parametrize("note", ["", "   "])
def test_resolve_needs_a_resolution_note(taken, org, settings, now, note):
    before = snapshot(taken)
    with pytest.raises(TransitionRefused) as refused:
        resolve_ticket(taken, actor=org.local_agent, note=note, now=now + LATER,
                       settings=settings)
    assert str(refused.value) == "A ticket is resolved with a resolution note saying what was done."
    assert snapshot(taken) == before


def test_resolve_records_the_note_and_the_time(taken, org, settings, now):
    resolve_ticket(taken, actor=org.local_agent, note="  Bytte toner.  ", now=now + LATER,
                   settings=settings)
    assert (taken.status, taken.resolved_at, taken.resolution) == (
        "resolved", now + LATER, "Bytte toner.")
    assert (taken.messages[-1].body, taken.messages[-1].internal) == ("Bytte toner.", False)
    event = assert_event(taken, "resolved", actor=org.local_agent, at=now + LATER,
                         from_status="in_progress", to_status="resolved")
    assert event.reason == "Bytte toner."


@pytest.fixture
def resolved_at_level2(taken, org, settings, now):
    """Escalated to level 2, taken and resolved there at ``now``."""
    escalate_ticket(taken, to_group=org.level2, actor=org.local_agent, reason="Servern",
                    now=now, settings=settings)
    take_ticket(taken, actor=org.level2_agent, now=now, settings=settings)
    resolve_ticket(taken, actor=org.level2_agent, note="Startade om servern.", now=now,
                   settings=settings)
    return taken


def test_the_requester_reopens_within_the_window_and_it_returns_to_the_owner_group(
        resolved_at_level2, org, settings, now):
    ticket = resolved_at_level2
    reopen_at = now + timedelta(days=settings.reopen_days)
    requester_reply(ticket, actor=org.requester, body="Det krånglar igen.", now=reopen_at,
                    settings=settings)
    assert (ticket.status, ticket.assigned_group, ticket.owner_group) == (
        "open", org.local, org.local)
    assert (ticket.assignee, ticket.resolved_at) == (None, None)
    assert ticket.messages[-1].body == "Det krånglar igen."
    assert_event(ticket, "reopened", actor=org.requester, at=reopen_at, from_status="resolved",
                 to_status="open", from_group=org.level2, to_group=org.local)


def test_after_the_window_reopening_is_refused_and_nothing_changes(
        resolved_at_level2, org, settings, now):
    ticket = resolved_at_level2
    before = snapshot(ticket)
    too_late = now + timedelta(days=settings.reopen_days, seconds=1)
    with pytest.raises(TransitionRefused) as refused:
        requester_reply(ticket, actor=org.requester, body="Det krånglar igen.", now=too_late,
                        settings=settings)
    assert str(refused.value) == (
        "The time for reopening this ticket has passed; please submit a new ticket.")
    assert snapshot(ticket) == before


def test_the_requester_confirms_and_the_ticket_closes(resolved_at_level2, org, settings, now):
    confirm_resolution(resolved_at_level2, actor=org.requester, now=now + LATER,
                       settings=settings)
    assert (resolved_at_level2.status, resolved_at_level2.closed_at) == ("closed", now + LATER)
    assert_event(resolved_at_level2, "confirmed", actor=org.requester, at=now + LATER,
                 from_status="resolved", to_status="closed")


def test_a_closed_ticket_can_still_be_reopened_within_the_window(
        resolved_at_level2, org, settings, now):
    confirm_resolution(resolved_at_level2, actor=org.requester, now=now, settings=settings)
    requester_reply(resolved_at_level2, actor=org.requester, body="Nej, fortfarande fel.",
                    now=now + timedelta(days=1), settings=settings)
    assert (resolved_at_level2.status, resolved_at_level2.closed_at) == ("open", None)


def test_auto_close_closes_only_tickets_resolved_longer_ago_than_configured(
        org, factory, settings, now):
    days = timedelta(days=settings.autoclose_days)

    def resolved(when):
        ticket = factory.ticket(org.requester, org.service, when - timedelta(days=30))
        take_ticket(ticket, actor=org.local_agent, now=when, settings=settings)
        resolve_ticket(ticket, actor=org.local_agent, note="Klart.", now=when, settings=settings)
        return ticket

    old = resolved(now - days - timedelta(hours=1))
    recent = resolved(now - days + timedelta(hours=1))
    forgotten = factory.ticket(org.requester, org.service, now - timedelta(days=60))

    assert auto_close_resolved(now=now, settings=settings) == [old.reference]
    assert (old.status, old.closed_at) == ("closed", now)
    event = assert_event(old, "auto_closed", actor=None, at=now, from_status="resolved",
                         to_status="closed")
    assert event.details == {"days": settings.autoclose_days}
    assert (recent.status, forgotten.status) == ("resolved", "new")
    assert history(recent, "auto_closed") == []
    assert auto_close_resolved(now=now, settings=settings) == []


@pytest.mark.parametrize("who", ["requester", "agent"])
def test_cancel_with_a_reason(ticket, org, settings, now, who):
    actor = org.requester if who == "requester" else org.local_agent
    cancel_ticket(ticket, actor=actor, actor_kind=who, reason="Löste sig själv.",
                  now=now + LATER, settings=settings)
    assert (ticket.status, ticket.closed_at) == ("cancelled", now + LATER)
    event = assert_event(ticket, "cancelled", actor=actor, at=now + LATER, from_status="new",
                         to_status="cancelled")
    assert event.reason == "Löste sig själv."


def test_cancel_without_a_reason_is_refused(ticket, org, settings, now):
    before = snapshot(ticket)
    with pytest.raises(TransitionRefused, match=r"^Give a reason\.$"):
        cancel_ticket(ticket, actor=org.requester, actor_kind="requester", reason="",
                      now=now, settings=settings)
    assert snapshot(ticket) == before


def test_a_cancelled_ticket_takes_no_more_messages_from_the_requester(ticket, org, settings, now):
    cancel_ticket(ticket, actor=org.requester, actor_kind="requester", reason="Fel tjänst.",
                  now=now, settings=settings)
    before = snapshot(ticket)
    with pytest.raises(DomainError, match="cancelled; please submit a new ticket"):
        requester_reply(ticket, actor=org.requester, body="Hallå?", now=now + LATER,
                        settings=settings)
    assert snapshot(ticket) == before


# -- history --------------------------------------------------------------------------------------

def test_history_rows_cannot_be_changed(ticket, session):
    event = only_event(ticket, "routed")
    event.reason = "Someone rewrote history."
    with pytest.raises(HistoryIsAppendOnly):
        session.flush()


def test_history_rows_cannot_be_deleted(ticket, session):
    session.delete(only_event(ticket, "created"))
    with pytest.raises(HistoryIsAppendOnly):
        session.flush()


# -- two agents at once ---------------------------------------------------------------------------

def test_a_change_from_a_stale_page_is_refused_naming_who_changed_it(taken, org, factory,
                                                                      settings, now):
    opened_version = taken.version
    ask_requester(taken, actor=org.local_agent, question="Vilket rum?", now=now + LATER,
                  settings=settings)
    db.session.flush()
    before = snapshot(taken)

    colleague = factory.agent(org.local)
    with pytest.raises(StaleTicket) as refused:
        resolve_ticket(taken, actor=colleague, note="Fixat.", now=now + 2 * LATER,
                       settings=settings, expected_version=opened_version)
    assert org.local_agent.name in str(refused.value)
    assert refused.value.params["time"] == now + LATER
    assert snapshot(taken) == before
    check_version(taken, taken.version)  # the current page is fine


@pytest.fixture(params=BACKENDS)
def own_database(request, tmp_path, monkeypatch):
    """An app on a database of its own: this test commits for real, from two sessions."""
    with fresh_database(request.param, tmp_path, "race") as url:
        monkeypatch.setenv("HELPDESK_INSTANCE_DIR", str(tmp_path / "instance"))
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            db.create_all()
            try:
                yield app
            finally:
                db.session.remove()
                db.engine.dispose()


# SQLite in WAL mode refuses the slower writer outright ("database is locked",
# SQLITE_BUSY_SNAPSHOT) where PostgreSQL lets the ORM's version check refuse it.
LOST_RACE_ERRORS = {"sqlite": OperationalError, "postgresql": StaleDataError}


def _race_setup(app) -> tuple[int, int, int]:
    """Commit a ticket and two agents of its group; return their ids."""
    settings = app.config["HELPDESK"]
    desk = SupportGroup(code="desk", name="Servicedesk", tier=1, kind=GroupKind.SERVICE_DESK)
    agents = [User(email=f"agent{n}@test.example", name=f"Agent {n}", role=Role.AGENT)
              for n in (1, 2)]
    desk.members = agents
    requester = User(email="anna@test.example", name="Anna", role=Role.REQUESTER)
    service = Service(code="konto", name="Konto", lifecycle=Lifecycle.ACTIVE,
                      level1=Level1Choice.SERVICE_DESK)
    db.session.add_all([desk, requester, service])
    ticket = create_ticket(requester=requester, service=service, subject="Lösenord",
                           description="Glömt.", impact=3, urgency=3,
                           now=datetime(2026, 3, 10, 9, tzinfo=UTC), settings=settings)
    db.session.commit()
    return ticket.id, agents[0].id, agents[1].id


def test_two_sessions_saving_the_same_ticket_the_second_loses(own_database, request):
    backend = request.node.callspec.params["own_database"]
    ticket_id, first_agent, second_agent = _race_setup(own_database)

    with Session(db.engine) as first, Session(db.engine) as second:
        mine, theirs = first.get(Ticket, ticket_id), second.get(Ticket, ticket_id)
        loaded_version = mine.version
        mine.assignee_id, mine.status = first_agent, "in_progress"
        theirs.assignee_id, theirs.status = second_agent, "resolved"
        first.commit()
        with pytest.raises(LOST_RACE_ERRORS[backend]) as lost:
            second.commit()
        assert is_lost_race(lost.value)

    with Session(db.engine) as check:
        saved = check.get(Ticket, ticket_id)
        assert (saved.assignee_id, saved.status, saved.version) == (
            first_agent, "in_progress", loaded_version + 1)


def test_the_agent_who_loses_a_race_is_told_to_reload(own_database):
    ticket_id, first_agent, second_agent = _race_setup(own_database)
    settings = own_database.config["HELPDESK"]

    loser = db.session.get(Ticket, ticket_id)  # the request that loses has loaded the ticket
    winner_agent = db.session.get(User, second_agent)
    with Session(db.engine) as winner:
        winner.get(Ticket, ticket_id).assignee_id = first_agent
        winner.commit()
    # The loser finds out when its change reaches the database: at the commit, or on
    # SQLite already when the operation's own queries flush it (the app's error page
    # for a lost race covers that case; both are recognised as one).
    with pytest.raises((StaleTicket, OperationalError, StaleDataError)) as lost:
        take_ticket(loser, actor=winner_agent, now=datetime(2026, 3, 10, 10, tzinfo=UTC),
                    settings=settings)
        edge.commit()
    if isinstance(lost.value, StaleTicket):
        assert "Someone else saved this ticket" in str(lost.value)
    else:
        assert is_lost_race(lost.value)
        db.session.rollback()

    assert db.session.get(Ticket, ticket_id).assignee_id == first_agent
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
