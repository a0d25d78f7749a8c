"""Mail ingest benchmark (issue #5): 1,000 mails through IMAP, and through the MTA pipe.

IMAP: 1,000 mails are put into a real Dovecot mailbox (LMTP) and one poll receives
them all: fetch, parse, store the raw mail, create the ticket (routing, SLA clocks,
history, the acknowledgement in the outbox), commit in groups, mark them in IMAP.
Target on SQLite: at least 200 mails/s (django-helpdesk's own ingest manages about
36/s on these machines). Half the mails are replies to tickets the other half made, so
threading is measured too.

Pipe: every mail is a new ``helpdesk mail ingest`` process, as Postfix runs it, so the
rate is mostly the interpreter's start-up; measured on the first PIPE_MAILS mails, four
at a time (Postfix runs pipe deliveries in parallel).

``python -m bench.mail_ingest`` (needs Debian's dovecot-imapd and dovecot-lmtpd and root);
PostgreSQL too when HELPDESK_BENCH_POSTGRES_URL is set (in a scratch database).
"""

from __future__ import annotations

import os
import smtplib
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from bench.common import demo_app, on_each_database

MAILS = int(os.environ.get("HELPDESK_BENCH_MAILS", "1000"))
PIPE_MAILS = int(os.environ.get("HELPDESK_BENCH_PIPE_MAILS", "200"))
TARGET = 200.0
HELPDESK = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "helpdesk"
REQUESTERS = ("anna.requester@demo.example", "erik.requester@demo.example",
              "karin.requester@demo.example")


def _mails(count: int, first: int = 0) -> list[bytes]:
    """New requests; every second one answers the one before by its subject tag."""
    from email.message import EmailMessage
    from email.utils import make_msgid

    mails = []
    for n in range(first, first + count):
        message = EmailMessage()
        message["From"] = REQUESTERS[n % len(REQUESTERS)]
        message["To"] = "support@demo.example"
        message["Message-ID"] = make_msgid(domain="bench.example")
        # Tickets are numbered in order, so mail n+1 can name the ticket mail n makes.
        message["Subject"] = (f"Re: [HD-{time.gmtime().tm_year}-{n // 2 + 1:06d}] Skrivaren"
                              if n % 2 else f"Skrivaren {n} skriver inte ut")
        message.set_content(f"Meddelande {n}.\n\nMed vänlig hälsning\nAnna\n\n"
                            "> Det tidigare meddelandet\n> citerat.\n")
        mails.append(bytes(message))
    return mails


def run(label: str, url: str, instance: Path, *, dovecot: object) -> None:
    from sqlalchemy import func, select

    from helpdesk.core.clock import utcnow
    from helpdesk.extensions import db
    from helpdesk.mail.imap import poll
    from helpdesk.mail.models import InboundMail, Mailbox, Outcome
    from tests.services.imap import PASSWORD

    os.environ["HELPDESK_MAIL_SENDER_LIMIT_PER_HOUR"] = str(10 * MAILS)
    os.environ["BENCH_IMAP_PASSWORD"] = PASSWORD
    app = demo_app(url, instance)
    settings = app.config["HELPDESK"]
    settings.mail.sender_limit_per_hour = 10 * MAILS
    user = dovecot.new_user()  # type: ignore[attr-defined]
    with app.app_context():
        mailbox = db.session.scalars(select(Mailbox).where(Mailbox.code == "support")).one()
        mailbox.imap_host, mailbox.imap_port = "127.0.0.1", dovecot.imap_port  # type: ignore[attr-defined]
        mailbox.imap_user, mailbox.imap_password_env = user, "BENCH_IMAP_PASSWORD"
        db.session.commit()
        with smtplib.LMTP("127.0.0.1", dovecot.lmtp_port) as lmtp:  # type: ignore[attr-defined]
            for raw in _mails(MAILS):
                lmtp.sendmail("bench@example.org", [user], raw)
        t0 = time.perf_counter()
        result = poll(mailbox, settings=settings, now=utcnow, limit=MAILS)
        elapsed = time.perf_counter() - t0
        outcomes = dict(db.session.execute(select(InboundMail.outcome, func.count())
                                           .group_by(InboundMail.outcome)).all())
        rate = result.fetched / elapsed
        verdict = (f"; target >= {TARGET:.0f}/s {'met' if rate >= TARGET else 'MISSED'}: ratio "
                   f"{rate / TARGET:.2f}") if label == "sqlite" else ""
        print(f"[{label}] IMAP : {result.fetched:,} mails in {elapsed:.2f} s = {rate:,.0f} mails/s "
              f"({outcomes.get(Outcome.NEW_TICKET, 0)} new tickets, "
              f"{outcomes.get(Outcome.REPLY, 0)} replies){verdict}")
        db.session.remove()

    env = {**os.environ, "HELPDESK_DATABASE_URL": url, "HELPDESK_INSTANCE_DIR": str(instance)}

    def pipe(raw: bytes) -> int:
        return subprocess.run([str(HELPDESK), "mail", "ingest", "--recipient", "support@demo.example"],
                              input=raw, env=env, capture_output=True, check=False).returncode

    mails = _mails(PIPE_MAILS, first=MAILS)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(pipe, mails))
    elapsed = time.perf_counter() - t0
    print(f"[{label}] pipe : {len(mails):,} mails in {elapsed:.2f} s = {len(mails) / elapsed:,.1f} "
          f"mails/s, 4 processes at a time (exit codes: {sorted(set(codes))}); "
          f"{elapsed / len(mails) * 4 * 1000:.0f} ms per process")


def main() -> None:
    from tests.services.imap import dovecot_installed, running_dovecot

    if not dovecot_installed():
        print("[mail] skipped: Dovecot is not installed (apt-get install dovecot-imapd "
              "dovecot-lmtpd) or not running as root")
        return
    print(f"{MAILS:,} mails through IMAP, {PIPE_MAILS:,} through the pipe")
    with running_dovecot() as dovecot:
        on_each_database(partial(run, dovecot=dovecot), "mail")

if __name__ == "__main__":
    main()
