"""axe-core (WCAG 2.0/2.1 A and AA) on every page, in Swedish and English, and the keyboard.

Serious and critical violations fail the test; moderate and minor ones are
printed (run with ``-s`` to read them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.catalogue.models import Service
from helpdesk.core.clock import utcnow
from helpdesk.extensions import db
from helpdesk.mail.ingest import receive
from helpdesk.mail.models import Mailbox
from helpdesk.tickets.intake import IntakeRetry, IntakeStatus, TicketIntake, accept_request
from helpdesk.tickets.operations import add_reply, create_ticket, resolve_ticket, take_ticket
from helpdesk.tiers.models import SupportGroup
from helpdesk.tiers.operations import answer_consultation, consult_group, escalate_ticket
from tests.e2e.live_server import DEMO_PASSWORD, LiveServer
from tests.integration.mail.builders import mail

pytestmark = pytest.mark.browser

DEMO_TICKETS = True  # the live server's queues hold the demo's tickets too
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING = {"serious", "critical"}
ANNA, OLOF, EVA = ("anna.requester@demo.example", "olof.agent@demo.example",
                   "eva.agent@demo.example")
ADMIN = "admin@demo.example"


@pytest.fixture(scope="module")
def story(live_server: LiveServer) -> str:
    """A ticket at central support with history, notes and two consultations (one answered)."""
    settings = live_server.app.config["HELPDESK"]
    with live_server.database():
        def user(email: str) -> User:
            return db.session.scalars(select(User).where(User.email == email)).one()

        def group(code: str) -> SupportGroup:
            return db.session.scalars(select(SupportGroup).where(SupportGroup.code == code)).one()

        now = utcnow()
        ticket = create_ticket(
            requester=user(ANNA), impact=2, urgency=1, now=now, settings=settings,
            service=db.session.scalars(select(Service).where(Service.code == "epost")).one(),
            subject="Kalendern synkar inte", description="Mötena syns inte i telefonen.",
        )
        lars, olof = user("lars.agent@demo.example"), user(OLOF)
        take_ticket(ticket, actor=lars, now=now, settings=settings)
        add_reply(ticket, actor=lars, body="Vi tittar på det.", internal=False, now=now,
                  settings=settings)
        escalate_ticket(ticket, to_group=group("central-support"), actor=lars,
                        reason="Gäller synkroniseringen på servern.", now=now, settings=settings)
        take_ticket(ticket, actor=olof, now=now, settings=settings)
        add_reply(ticket, actor=olof, body="Intern: kolla ActiveSync-loggen.", internal=True,
                  now=now, settings=settings)
        asked = consult_group(ticket, group=group("natverk-experter"), actor=olof,
                              question="Blockeras ActiveSync i brandväggen?", now=now)
        consult_group(ticket, group=group("kommunikation-experter"), actor=olof,
                      question="Har ni ändrat något i postservern?", now=now)
        answer_consultation(asked, actor=user("nils.agent@demo.example"),
                            answer="Nej, brandväggen släpper igenom.", now=now, settings=settings)
        # A reply by mail with quoted history (folded away on the page), and a mail in the
        # quarantine for the administrator's page.
        mailbox = db.session.scalars(select(Mailbox)).first()
        receive(mail(sender=ANNA, subject=f"Re: [{ticket.reference}] Kalendern",
                     body="Det gäller bara telefonen.\n\nDen 1 mars skrev Lars:\n> Vi tittar på det."),
                mailbox=mailbox, now=now, settings=settings)
        receive(b"", mailbox=mailbox, now=now, settings=settings)
        # A resolved ticket, for the report of where the time went.
        solved = create_ticket(
            requester=user(ANNA), impact=3, urgency=3, now=now - timedelta(hours=2),
            settings=settings,
            service=db.session.scalars(select(Service).where(Service.code == "epost")).one(),
            subject="Signaturen saknas", description="Min e-postsignatur försvann.")
        take_ticket(solved, actor=lars, now=now - timedelta(hours=1), settings=settings)
        resolve_ticket(solved, actor=lars, note="Signaturen är tillbaka.", now=now, settings=settings)
        # Ticket requests sent for later: one waiting, one rejected after a retry, for the
        # intake page.
        request = {"service": "epost", "subject": "Larm från övervakningen", "type": "incident",
                   "description": "Disken är full.", "impact": 2, "urgency": 2,
                   "confidential": False}
        accept_request(user(ANNA), request, now=now)
        refused = db.session.get(TicketIntake, accept_request(
            user(ANNA), {**request, "subject": "Larm igen"}, now=now).id)
        refused.status, refused.processed_at = IntakeStatus.REJECTED, now
        refused.reason = {"sv": "Tjänsten är stängd.", "en": "The service is closed."}
        refused.retries.append(IntakeRetry(at=now - timedelta(minutes=5), by=user(ADMIN), reason={
            "sv": "Ett fel hos oss.", "en": "An error on our side."}))
        return ticket.reference


@dataclass(frozen=True)
class Visit:
    user: str | None
    path: str | Callable[[Page, str], None]


def show_form_errors(page: Page, _reference: str) -> None:
    """The new-ticket form as it comes back refused (only blanks in the subject)."""
    page.goto("/portal/services/epost")
    page.locator("#subject").fill("   ")
    page.locator("#description").fill("Något är fel.")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()


def open_first_mail(page: Page, _reference: str) -> None:
    """One mail of the outbox (the story's acknowledgement and replies are there)."""
    page.goto("/admin/outbox")
    page.locator("main tbody a").first.click()
    expect(page.locator("main h1")).to_be_visible()


def create_api_token(page: Page) -> None:
    """The token page as it shows a new token once (and the list with it)."""
    page.goto("/account/tokens")
    page.locator("#name").fill("Övervakning")
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator("#new-token")).to_be_visible()


def open_webhook_subscription(page: Page, _reference: str) -> None:
    """A subscription's own page, for one added through the form first."""
    page.goto("/admin/webhooks")
    page.locator("#name").fill("Regionens servicedesk")
    page.locator("#url").fill("https://servicedesk.example/hook")
    page.locator("main input[name=events]").first.check()
    page.locator("main input[name=groups]").first.check()  # limited: the table shows it
    page.locator("main form[action='/admin/webhooks'] button[type=submit]").click()
    expect(page.locator("#new-secret")).to_be_visible()
    page.locator("main tbody a[href^='/admin/webhooks/']").last.click()
    expect(page.locator("#edit-heading")).to_be_visible()


def show_webhook_subscription_errors(page: Page, reference: str) -> None:
    open_webhook_subscription(page, reference)
    page.locator("#url").fill("ftp://servicedesk.example/hook")
    page.locator("section[aria-labelledby=edit-heading] button[type=submit]").click()
    expect(page.locator("#url-error")).to_be_visible()


def show_new_webhook_secret(page: Page, reference: str) -> None:
    open_webhook_subscription(page, reference)
    page.locator("section[aria-labelledby=secret-heading] button[type=submit]").click()
    expect(page.locator("#new-secret")).to_be_visible()


def show_webhook_deletion_unconfirmed(page: Page, reference: str) -> None:
    open_webhook_subscription(page, reference)
    page.locator("section[aria-labelledby=delete-heading] button[type=submit]").click()
    expect(page.locator("#confirm-error")).to_be_visible()


# --- The service catalogue's pages ---------------------------------------------------------
GUNILLA = "gunilla.approver@demo.example"  # the approver of software orders


def order_software(page: Page) -> None:
    page.goto("/portal/services/programvara")
    page.locator("#type-service_request").check()
    page.locator("#subject").fill("MATLAB")
    page.locator("#description").fill("Till laborationskursen.")
    page.locator("#form_software").fill("MATLAB")
    page.locator("#form_licences").fill("tre")  # not a number: refused, named, kept
    page.locator("#form_platform").select_option("macOS")
    page.locator("main form button[type=submit]").click()


def show_order_form_errors(page: Page, _reference: str) -> None:
    order_software(page)
    expect(page.locator(".error-summary")).to_be_visible()


def open_an_approval(page: Page, _reference: str) -> None:
    """The approver orders something herself (anyone may), then opens it to decide."""
    order_software(page)
    page.locator("#form_licences").fill("3")
    page.locator("#form_cost_ok").check()
    page.locator("main form button[type=submit]").click()
    page.goto("/portal/approvals")
    page.locator("main tbody a").first.click()
    expect(page.locator("#decision-approve")).to_be_visible()


def show_publication_refused(page: Page, _reference: str) -> None:
    page.goto("/admin/catalogue/ai-assistent")
    page.locator("#to-active").check()
    page.locator("main form button.primary").click()
    expect(page.locator(".error-summary")).to_be_visible()


CATALOGUE_PAGES = {
    "catalogue search": Visit(ANNA, "/portal?q=post"),
    "service with a request form": Visit(ANNA, "/portal/services/programvara"),
    "request form with errors": Visit(ANNA, show_order_form_errors),
    "vendor-direct service": Visit(ANNA, "/portal/services/mobiltelefoni"),
    "service being retired": Visit(ANNA, "/portal/services/fax"),
    "approvals": Visit(GUNILLA, "/portal/approvals"),
    "one approval": Visit(GUNILLA, open_an_approval),
    "catalogue administration": Visit(ADMIN, "/admin/catalogue"),
    "publication refused by the gate": Visit(ADMIN, show_publication_refused),
}
# --- end of the catalogue's pages ----------------------------------------------------------


def open_vendor_handoff(page: Page, _reference: str) -> None:
    """The demo's ticket handed to Molnpost: the UC beside the SLA, with its forms open."""
    page.goto("/agent/queues/central-support")
    page.locator("main tr", has_text="Kalenderinbjudningar kommer fram").get_by_role("link").click()
    expect(page.locator("#vendors-heading")).to_be_visible()
    for summary in page.locator("section.vendors summary").all():
        summary.click()


def _this_month() -> tuple[str, str]:
    """The story's replies stopped their clocks today: this local month has figures."""
    from helpdesk.reports.period import local_today, month

    today = local_today(utcnow())
    period = month(today.year, today.month)
    return period.first_day.isoformat(), period.last_day.isoformat()


def report_for_this_month(path: str) -> Callable[[Page, str], None]:
    """A report page over this month, per group, once its table has rows."""

    def open_report(page: Page, _reference: str) -> None:
        first, last = _this_month()
        page.goto(f"{path}?first_day={first}&last_day={last}&by=group")
        expect(page.locator("main tbody tr").first).to_be_visible()

    return open_report


def tickets_behind(open_report: Callable[[Page, str], None]) -> Callable[[Page, str], None]:
    """The tickets behind the first figure of a report."""

    def open_tickets(page: Page, reference: str) -> None:
        open_report(page, reference)
        page.locator("main tbody tr").first.get_by_role("link").first.click()
        expect(page.locator("main tbody tr").first).to_be_visible()

    return open_tickets


open_compliance = report_for_this_month("/reports/")
open_time_spent = report_for_this_month("/reports/time")


REPORT_PAGES = {
    "SLA compliance report": Visit(ADMIN, open_compliance),
    "tickets behind a report figure": Visit(ADMIN, tickets_behind(open_compliance)),
    "where the time went": Visit(ADMIN, open_time_spent),
    "tickets behind where the time went": Visit(ADMIN, tickets_behind(open_time_spent)),
    "monthly service-level reports": Visit(ADMIN, "/reports/monthly"),
    "report mails": Visit(ADMIN, "/reports/subscriptions"),
    "volume and trends": Visit(
        ADMIN, lambda page, _ref: page.goto("/reports/volume?first_day={}&last_day={}&unit=week"
                                            .format(*_this_month()))),
    "monthly service-level report": Visit(
        ADMIN, lambda page, _ref: page.goto(f"/reports/monthly/epost/{_this_month()[0][:7]}")),
}


PAGES = {
    "login": Visit(None, "/login"),
    "catalogue": Visit(ANNA, "/portal"),
    "new ticket form": Visit(ANNA, "/portal/services/epost"),
    "new ticket form with errors": Visit(ANNA, show_form_errors),
    "my tickets": Visit(ANNA, "/portal/tickets"),
    "portal ticket": Visit(ANNA, "/portal/tickets/{reference}"),
    "agent queues": Visit(OLOF, "/agent"),
    "agent queue": Visit(OLOF, "/agent/queues/central-support"),
    "all my queues": Visit(OLOF, "/agent/queues/mine"),
    "agent ticket (worker)": Visit(OLOF, "/agent/tickets/{reference}"),
    "agent ticket (consulted group)": Visit(EVA, "/agent/tickets/{reference}"),
    "mail quarantine": Visit(ADMIN, "/admin/mail/quarantine"),
    "outgoing mail": Visit(ADMIN, "/admin/outbox"),
    "one outgoing mail": Visit(ADMIN, open_first_mail),
    "not found": Visit(ANNA, "/portal/services/finns-inte"),
    "API tokens": Visit(ANNA, "/account/tokens"),
    "API tokens with a new token": Visit(ANNA, lambda page, _ref: create_api_token(page)),
    "API reference": Visit(ANNA, "/api/v1/docs"),
    "webhooks": Visit(ADMIN, "/admin/webhooks"),
    "webhook subscription": Visit(ADMIN, open_webhook_subscription),
    "webhook subscription with errors": Visit(ADMIN, show_webhook_subscription_errors),
    "webhook subscription with a new secret": Visit(ADMIN, show_new_webhook_secret),
    "webhook subscription, deletion not confirmed": Visit(ADMIN, show_webhook_deletion_unconfirmed),
    "ticket intake": Visit(ADMIN, "/admin/ticket-intake"),
    **CATALOGUE_PAGES,
    # External vendors
    "agent ticket with a vendor handoff": Visit(OLOF, open_vendor_handoff),
    "vendors and agreements": Visit(ADMIN, "/admin/vendors"),
    # Managers' reports
    **REPORT_PAGES,
}


def open_page(open_as, visit: Visit, locale: str, reference: str) -> Page:
    page: Page = open_as(visit.user, locale)
    if visit.user:
        switch = {"en": "English", "sv": "Svenska"}[locale]
        if page.locator("html").get_attribute("lang") != locale:
            page.get_by_role("button", name=switch).click()  # kept on the user
            expect(page.locator("html")).to_have_attribute("lang", locale)
    if callable(visit.path):
        visit.path(page, reference)
    else:
        page.goto(visit.path.format(reference=reference))
    expect(page.locator("html")).to_have_attribute("lang", locale)
    return page


def describe(violation: dict) -> str:
    nodes = "\n".join(f"      {node['html']}" for node in violation["nodes"][:5])
    return f"  [{violation['impact']}] {violation['id']}: {violation['help']}\n{nodes}"


@pytest.mark.parametrize("locale", ["sv", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_serious_accessibility_violations(open_as, story, name, locale):
    from axe_playwright_python.sync_playwright import Axe

    page = open_page(open_as, PAGES[name], locale, story)
    # axe skips hidden content: open every disclosure so the action forms are checked too.
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})

    assert results.response["passes"], "axe checked nothing"
    violations = results.response["violations"]
    for violation in violations:
        if violation["impact"] not in FAILING:
            print(f"{name} ({locale}):\n{describe(violation)}")
    print(f"{name} ({locale}): {len(results.response['passes'])} rules passed, "
          f"{len(violations)} violated, {len(results.response['incomplete'])} need a person")
    failing = [v for v in violations if v["impact"] in FAILING]
    assert not failing, f"{name} ({locale}) at {page.url}:\n" + "\n".join(map(describe, failing))


def test_axe_reports_a_planted_violation(open_as):
    """The harness itself works: a picture without a text alternative is found."""
    from axe_playwright_python.sync_playwright import Axe

    page: Page = open_as(None, "en")
    page.evaluate("document.querySelector('main').append(document.createElement('img'))")
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert "image-alt" in {v["id"] for v in results.response["violations"]}


def test_not_found_page_says_so(open_as, story):
    page = open_page(open_as, PAGES["not found"], "en", story)
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")


def test_keyboard_only_skip_link_first_then_log_in(open_as):
    page: Page = open_as(None, "en")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # shown when focused, hidden otherwise
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    page.keyboard.press("Tab")
    expect(page.get_by_label("E-mail address")).to_be_focused()
    page.keyboard.type(ANNA)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Log in")).to_be_focused()
    page.keyboard.press("Enter")

    page.wait_for_url("**/portal#main")  # a redirect keeps the fragment the skip link added
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator("form[action='/logout'] button")).to_be_visible()


def test_keyboard_only_delete_a_webhook_subscription(open_as, story):
    page: Page = open_as(ADMIN, "en")
    open_webhook_subscription(page, story)

    page.locator("#confirm").focus()
    page.keyboard.press("Space")
    expect(page.get_by_label("I understand that the delivery log of this subscription is "
                             "removed too")).to_be_checked()
    page.keyboard.press("Tab")
    delete = page.get_by_role("button", name="Delete the subscription")
    expect(delete).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator(".flash")).to_have_text(
        "Subscription Regionens servicedesk deleted, with its delivery log.")
