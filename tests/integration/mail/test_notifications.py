"""Which ticket events put which mail in the outbox: to whom, in which language, threaded how.

Tickets are created at the ``now`` fixture (Tue 10 March 2026 10:00 Stockholm) at P3; under
the ``sla_org`` standard policy the first answer is due at 14:00 and the solution on Thursday
at 16:00 (24 office hours). Test users speak English unless a test says otherwise.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from sqlalchemy import select

from helpdesk.accounts.models import Role
from helpdesk.core.outbox import OutboxMessage
from helpdesk.extensions import db
from helpdesk.tickets.models import Channel
from helpdesk.tickets.operations import (
    add_reply,
    ask_requester,
    requester_reply,
    resolve_ticket,
    take_ticket,
)
from helpdesk.tiers.operations import escalate_ticket
from tests.support import fast_password_hashing

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


def outbox(kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def root(ticket, settings) -> str:
    return f"ticket.{ticket.reference}@{settings.mail.domain}"


@pytest.fixture
def mailed(sla_org, factory, now):
    """A ticket that came in by mail, to the local helpdesk."""
    return factory.ticket(sla_org.org.requester, sla_org.org.service, now, channel=Channel.EMAIL)


@pytest.fixture
def taken(mailed, sla_org, settings, now):
    take_ticket(mailed, actor=sla_org.org.local_agent, now=now, settings=settings)
    return mailed


# The acknowledgement --------------------------------------------------------------------------


def test_a_mailed_ticket_is_acknowledged_with_who_has_it_when_and_how_to_add_more(
        mailed, sla_org, settings):
    org = sla_org.org
    [ack] = outbox()
    ref = mailed.reference
    assert (ack.kind, ack.recipient_email, ack.recipient_user_id, ack.ticket_id, ack.locale) == (
        "acknowledgement", org.requester.email, org.requester.id, mailed.id, "en")
    assert ack.subject == f"[{ref}] We have received your ticket: Skrivaren skriver inte ut"
    # Automatic, and an answer to the mail that came in (RFC 3834 auto-replied).
    assert ack.auto_generated and ack.payload == {"auto_submitted": "auto-replied"}
    assert re.fullmatch(rf"[0-9a-f]{{32}}\.{ref}@{re.escape(settings.mail.domain)}", ack.message_id)
    assert ack.in_reply_to == ack.references == root(mailed, settings)
    body = " ".join(ack.body.split())
    assert f"given it the reference {ref}" in body
    assert f"in the queue of {org.local.name_en}" in body
    assert ("a first answer by Tuesday 10 March at 14:00 (within 4 h, counted in the service's "
            "hours: Kontorstid 08–17)") in body
    assert "solved by Thursday 12 March at 16:00 (within 24 h" in body
    assert f"reply to this e-mail and keep {ref} in the subject line" in body
    assert ack.html_body.startswith("<!doctype html>\n<html lang=\"en\">")
    assert f"in the queue of {org.local.name_en}" in ack.html_body


def test_the_acknowledgement_answers_the_mail_the_ticket_came_in_as(sla_org, factory, settings,
                                                                     now):
    ticket = factory.ticket(sla_org.org.requester, sla_org.org.service, now,
                            channel=Channel.EMAIL, origin_message_id="CAF+1@mail.example.org")
    [ack] = outbox()
    assert ack.in_reply_to == "CAF+1@mail.example.org"
    assert ack.references == f"{root(ticket, settings)} CAF+1@mail.example.org"


def test_the_acknowledgement_is_in_the_requesters_language_or_the_default(
        sla_org, factory, settings, now):
    org = sla_org.org
    swedish = factory.user(Role.REQUESTER, org_unit=org.with_helpdesk, locale="sv")
    unset = factory.user(Role.REQUESTER, org_unit=org.with_helpdesk, locale=None)
    for person in (swedish, unset):
        factory.ticket(person, sla_org.no_sla_service, now, channel=Channel.PHONE)
    acks = outbox("acknowledgement")
    assert [(m.recipient_email, m.locale) for m in acks] == [(swedish.email, "sv"),
                                                              (unset.email, settings.default_locale)]
    assert acks[0].subject.endswith("Vi har tagit emot ditt ärende: Skrivaren skriver inte ut")
    assert "inga avtalade svarstider" in acks[0].body  # "SLA saknas": no promised times
    assert 'lang="sv"' in acks[0].html_body
    assert acks[0].payload == {}  # a phoned-in ticket answers no mail: plain auto-generated


def test_a_ticket_filed_in_the_portal_gets_no_mail_its_requester_saw_the_confirmation(
        sla_org, factory, now):
    factory.ticket(sla_org.org.requester, sla_org.org.service, now)  # channel web
    assert outbox() == []


# A person's words, relayed to the requester -------------------------------------------------


def test_a_public_reply_reaches_the_requester_in_the_agents_name_and_a_note_never_does(
        taken, sla_org, settings, now):
    org = sla_org.org
    add_reply(taken, actor=org.local_agent, body="Intern: skrivaren är trasig.", internal=True,
              now=now, settings=settings)
    assert outbox("reply") == []
    add_reply(taken, actor=org.local_agent, body="Vi byter tonern.\n\nHälsningar", internal=False,
              now=now + timedelta(minutes=5), settings=settings)
    [reply] = outbox("reply")
    assert (reply.recipient_email, reply.locale, reply.auto_generated) == (
        org.requester.email, "en", False)
    assert reply.subject == f"[{taken.reference}] Reply about your ticket: Skrivaren skriver inte ut"
    assert "Vi byter tonern." in reply.body and "Intern" not in reply.body
    assert f"{org.local_agent.name} has replied" in reply.body
    assert "Vi byter tonern.</p>" in reply.html_body
    assert reply.in_reply_to == reply.references == root(taken, settings)
    # Nobody on the staff is mailed about it: they wrote it.
    assert {m.recipient_email for m in outbox()} == {org.requester.email}


def test_a_reply_answers_the_mail_the_requester_sent_so_their_mail_program_threads_it(
        taken, sla_org, settings, now):
    org = sla_org.org
    ask_requester(taken, actor=org.local_agent, question="Vilken skrivare?", now=now,
                  settings=settings)
    answer = requester_reply(taken, actor=org.requester, body="Den i korridoren.",
                             now=now + timedelta(hours=1), settings=settings)
    answer.mail_message_id = "CAF=x7@mail.example.org"  # it came in by mail
    db.session.flush()
    add_reply(taken, actor=org.local_agent, body="Tack, vi åker dit.", internal=False,
              now=now + timedelta(hours=2), settings=settings)
    [reply] = outbox("reply")
    assert reply.in_reply_to == "CAF=x7@mail.example.org"
    assert reply.references == f"{root(taken, settings)} CAF=x7@mail.example.org"


def test_a_question_to_the_requester_asks_for_an_answer_by_reply(taken, sla_org, settings, now):
    org = sla_org.org
    ask_requester(taken, actor=org.local_agent, question="Vilken skrivare?", now=now,
                  settings=settings)
    [question] = outbox("question")
    assert question.recipient_email == org.requester.email and not question.auto_generated
    assert question.subject.startswith(f"[{taken.reference}] Question about your ticket:")
    assert "Vilken skrivare?" in question.body and "Please reply to this e-mail" in question.body


def test_the_resolution_says_how_to_confirm_and_until_when_a_reply_reopens(
        taken, sla_org, settings, now):
    org = sla_org.org
    resolve_ticket(taken, actor=org.local_agent, note="Tonern är bytt.", now=now,
                   settings=settings)
    [resolution] = outbox("resolution")
    assert (resolution.recipient_email, resolution.auto_generated) == (org.requester.email, False)
    assert resolution.subject == f"[{taken.reference}] Resolved: Skrivaren skriver inte ut"
    body = " ".join(resolution.body.split())
    assert "Tonern är bytt." in body
    assert f"closed automatically after {settings.autoclose_days} days" in body
    assert "confirm the solution" in body and "My tickets" in body
    assert settings.reopen_days == 14
    assert "Reply to this e-mail by Tuesday 24 March at 10:00" in body and "reopened" in body


def test_nobody_is_mailed_about_what_they_did_themselves(sla_org, factory, settings, now):
    agent = sla_org.org.desk_agent  # no department: their ticket goes to the service desk
    # An agent who files a ticket of their own in the portal, then answers and solves it.
    own = factory.ticket(agent, sla_org.org.service, now)
    take_ticket(own, actor=agent, now=now, settings=settings)
    add_reply(own, actor=agent, body="Fixat.", internal=False, now=now,
              settings=settings)
    ask_requester(own, actor=agent, question="Funkar det?", now=now, settings=settings)
    requester_reply(own, actor=agent, body="Ja.", now=now, settings=settings)
    resolve_ticket(own, actor=agent, note="Klart.", now=now, settings=settings)
    assert outbox() == []


def test_the_requester_of_a_confidential_ticket_still_gets_their_own_mail(
        sla_org, factory, settings, now):
    org = sla_org.org
    secret = factory.ticket(org.requester, org.service, now, channel=Channel.EMAIL,
                            confidential=True, subject="Hot mot personal")
    take_ticket(secret, actor=org.local_agent, now=now, settings=settings)
    add_reply(secret, actor=org.local_agent, body="Vi kontaktar dig.", internal=False, now=now,
              settings=settings)
    assert [(m.kind, m.recipient_email) for m in outbox()] == [
        ("acknowledgement", org.requester.email), ("reply", org.requester.email)]
    assert "Hot mot personal" in outbox("reply")[0].subject


# The staff --------------------------------------------------------------------------------------


def test_an_escalation_tells_the_receiving_groups_members_and_lead_but_not_the_escalator(
        mailed, sla_org, factory, settings, now):
    org = sla_org.org
    second = factory.agent(org.level2)
    lead = factory.user(Role.LEAD, locale="sv")
    org.level2.lead = lead
    gone = factory.agent(org.level2)
    gone.active = False
    db.session.flush()
    escalate_ticket(mailed, to_group=org.level2, actor=org.local_agent, reason="Servern svarar inte",
                    now=now, settings=settings)
    notices = outbox("escalation")
    assert sorted((m.recipient_email, m.locale) for m in notices) == sorted([
        (org.level2_agent.email, "en"), (second.email, "en"), (lead.email, "sv")])
    assert all(m.auto_generated and m.ticket_id == mailed.id for m in notices)
    english = next(m for m in notices if m.locale == "en")
    assert english.subject == (f"[{mailed.reference}] Escalated to {org.level2.name_en}: "
                               "Skrivaren skriver inte ut")
    assert (f"{org.local_agent.name} has escalated ticket {mailed.reference} from "
            f"{org.local.name_en} to your group, {org.level2.name_en}.") in english.body
    assert "Why: Servern svarar inte" in english.body
    swedish = next(m for m in notices if m.locale == "sv")
    assert f"Eskalerat till {org.level2.name}" in swedish.subject
    # Nothing went to the requester or to the agent who escalated.
    assert {m.recipient_email for m in outbox()} - {m.recipient_email for m in notices} == {
        org.requester.email}  # (their acknowledgement)


def test_an_escalation_by_the_helpdesk_itself_tells_the_whole_group(
        sla_org, factory, settings, now):
    org = sla_org.org
    ticket = factory.ticket(org.requester, org.service, now)
    escalate_ticket(ticket, to_group=org.level3, actor=None, reason="OLA", now=now,
                    settings=settings)
    [notice] = outbox("escalation")
    assert notice.recipient_email == org.level3_agent.email
    assert f"The helpdesk has escalated ticket {ticket.reference}" in notice.body


def test_staff_mail_about_a_confidential_ticket_leaves_out_its_subject_and_reasons(
        sla_org, factory, settings, now):
    org = sla_org.org
    secret = factory.ticket(org.requester, org.service, now, confidential=True,
                            subject="Hot mot personal")
    escalate_ticket(secret, to_group=org.level2, actor=org.local_agent,
                    reason="Hotet gäller chefen", now=now, settings=settings)
    [notice] = outbox("escalation")
    for text in (notice.subject, notice.body, notice.html_body):
        assert "Hot mot personal" not in text and "Hotet gäller chefen" not in text
    assert "confidential" in notice.subject
    assert "This ticket is confidential: read it in the helpdesk, not in e-mail." in notice.body


def test_sla_alerts_come_from_the_templates_with_thread_headers(mailed, sla_org, settings):
    from helpdesk.sla.sweep import sweep_all
    from tests.integration.sla.checks import sthlm

    sla_org.policy.effects = {"warning": ["notify"]}
    sweep_all(now=sthlm(10, 13), settings=settings, worker="test")
    db.session.flush()
    [alert] = outbox("sla_warning")  # nobody has taken it: the lead, in Swedish
    assert (alert.recipient_email, alert.locale) == (sla_org.local_lead.email, "sv")
    assert alert.auto_generated and alert.in_reply_to == root(mailed, settings)
    assert "Svarstid är i riskzonen" in alert.body and "återstår" in alert.body
    assert 'lang="sv"' in alert.html_body and "Svarstid är i riskzonen" in alert.html_body
    page = f"{settings.base_url}/agent/tickets/{mailed.reference}"
    assert settings.base_url and f"Öppna ärendet: {page}" in alert.body
    assert f'<a href="{page}">' in alert.html_body


def test_an_alert_nobody_would_hear_goes_to_the_groups_members(mailed, sla_org, settings,
                                                                factory):
    from helpdesk.sla.sweep import sweep_all
    from tests.integration.sla.checks import sthlm

    org = sla_org.org
    org.local.lead = None  # and nobody has taken the ticket
    gone = factory.agent(org.local)
    gone.active = False
    sla_org.policy.effects = {"warning": ["notify"]}
    sweep_all(now=sthlm(10, 13), settings=settings, worker="test")
    db.session.flush()
    members = sorted(m.email for m in org.local.members if m.active)
    assert members and gone.email not in members
    assert sorted(m.recipient_email for m in outbox("sla_warning")) == members


def test_an_alert_to_two_readers_of_one_language_is_written_once_but_sent_as_two_mails(
        mailed, sla_org, settings, now):
    from helpdesk.sla.sweep import sweep_all
    from tests.integration.sla.checks import sthlm

    org = sla_org.org
    org.local_agent.locale = "sv"
    take_ticket(mailed, actor=org.local_agent, now=now, settings=settings)
    sla_org.policy.effects = {"breach": ["notify"]}
    sweep_all(now=sthlm(10, 14), settings=settings, worker="test")
    db.session.flush()
    agent, lead = outbox("sla_breach")
    assert (agent.recipient_email, lead.recipient_email) == (org.local_agent.email,
                                                             sla_org.local_lead.email)
    assert agent.body == lead.body and agent.subject == lead.subject
    assert agent.message_id != lead.message_id
    assert "Svarstid har överskridits: tiden gick ut tisdag 10 mars kl. 14:00." in agent.body
    assert f"Öppna ärendet: {settings.base_url}/agent/tickets/{mailed.reference}" in agent.body


# The texts ---------------------------------------------------------------------------------------


def test_every_text_of_the_plain_text_mails_has_its_swedish_translation():
    """The catalogue is extracted from the HTML templates (babel.cfg); the text part must use
    the same sentences, or its Swedish mails would fall back to English unnoticed."""
    with (ROOT / "helpdesk/translations/sv/LC_MESSAGES/messages.po").open("rb") as po:
        swedish = read_po(po)
    missing, found = [], 0
    for template in sorted((ROOT / "templates" / "emails").glob("*.txt")):
        for _line, message, _comments, _context in extract_from_file("jinja2", str(template)):
            msgid = message if isinstance(message, str) else message[0]
            entry = swedish.get(msgid)
            found += 1
            if entry is None or not entry.string or entry.fuzzy:
                missing.append(f"{template.name}: {msgid!r}")
    assert found > 20 and not missing, "\n".join(missing)


def test_mails_link_to_the_ticket_where_the_recipient_reads_it(mailed, sla_org, settings, now):
    org = sla_org.org
    [ack] = outbox("acknowledgement")
    portal = f"{settings.base_url}/portal/tickets/{mailed.reference}"
    assert f"Open the ticket: {portal}" in ack.body
    assert f'<a href="{portal}">' in ack.html_body
    escalate_ticket(mailed, to_group=org.level2, actor=org.local_agent, reason="Servern svarar inte",
                    now=now, settings=settings)
    [notice] = outbox("escalation")
    assert f"{settings.base_url}/agent/tickets/{mailed.reference}" in notice.body


def test_staff_who_opened_a_ticket_outside_their_groups_are_linked_to_the_portal(
        sla_org, factory, settings, now):
    org = sla_org.org
    own = factory.ticket(org.level3_agent, org.service, now, channel=Channel.EMAIL)
    [ack] = outbox("acknowledgement")
    # The agent's page of a ticket their groups do not work is 404 to them.
    assert f"{settings.base_url}/portal/tickets/{own.reference}" in ack.body
    assert "/agent/tickets/" not in ack.body


def test_without_the_sites_address_mails_carry_no_link(sla_org, factory, settings, now):
    settings.base_url, site = "", settings.base_url
    try:
        factory.ticket(sla_org.org.requester, sla_org.org.service, now, channel=Channel.EMAIL)
    finally:
        settings.base_url = site
    [ack] = outbox("acknowledgement")
    assert "Open the ticket" not in ack.body and "/portal/tickets/" not in ack.html_body
