"""Which incoming mails were written by a machine: auto-replies, bounces and reports.

The helpdesk must never answer these (an out-of-office answering our acknowledgement
answering the out-of-office is the classic mail loop), and bounces and reports get their
own handling. Pure: works on decoded header pairs and the content types of the mail's
own MIME tree (not of messages attached to it).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable


class MailKind(enum.StrEnum):
    NORMAL = "normal"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    REPORT = "report"  # complaint/feedback reports (ARF), disposition notifications (read receipts)


_AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_SUPPRESS_MEANS_AUTO = {"all", "oof", "autoreply"}
_AUTO_FLAG_HEADERS = ("x-autoreply", "x-autorespond", "x-auto-reply")
_LIST_HEADERS = ("list-id", "list-unsubscribe")

# Subjects an auto-responder writes. Alone they are enough only when they begin the subject
# with their usual punctuation; "vacation" and the like also start ordinary mails.
_AUTO_SUBJECT_PREFIXES = re.compile(
    r"^\s*(automatic reply|automatiskt svar|autosvar|auto|autoreply|auto-reply|auto reply"
    r"|out of office(?: autoreply| reply)?|frånvarande|frånvaro|abwesenheitsnotiz|automatische antwort"
    r"|réponse automatique|vacation reply)\s*:",
    re.IGNORECASE,
)
_AUTO_SUBJECT_WORDS = re.compile(
    r"\b(out of office|out-of-office|automatic reply|auto-?reply|autosvar|automatiskt svar|frånvarande"
    r"|frånvaro|abwesenheit|abwesend|vacation|semester|på semester|tjänstledig)\b",
    re.IGNORECASE,
)
# A subject that a person wrote in answer to or forwarding something else.
_HUMAN_PREFIX = re.compile(r"^\s*(re|sv|aw|vs|fw|fwd|vb|wg|tr|rv)\s*(\[\d+\])?\s*:", re.IGNORECASE)

_BOUNCE_SUBJECTS = re.compile(
    r"^\s*(undelivered mail returned to sender|delivery status notification \((failure|delay)\)"
    r"|mail delivery failed|undeliverable|undelivered mail|returned mail|delivery failure"
    r"|failure notice|delayed mail|mail system error|non[- ]delivery|olevererbart|kan inte levereras"
    r"|unzustellbar|nicht zustellbar)",
    re.IGNORECASE,
)
_NULL_SENDER = re.compile(r"^\s*<\s*>\s*$")
_BRACKETED = re.compile(r"<([^<>]*)>")
_LOCAL_PART_STOP = re.compile(r"[\s<>\"(),;:]")


def classify(
    headers: Iterable[tuple[str, str]],
    content_types: Iterable[str] = (),
    report_type: str = "",
) -> tuple[MailKind, str]:
    """The kind of a mail and one short English reason ("" for a normal mail).

    ``headers`` are (name, decoded value) pairs; ``content_types`` the lower-case content
    types of the mail's own parts; ``report_type`` the report-type of a multipart/report.
    """
    first: dict[str, str] = {}
    for name, value in headers:
        first.setdefault(name.strip().lower(), value.strip())
    types = {value.strip().lower() for value in content_types}
    report_type = report_type.strip().lower()
    subject = first.get("subject", "")
    sender = _sender_mailbox(first.get("from", ""))
    null_sender = next((_title(name) for name in ("return-path", "x-envelope-from")
                        if _NULL_SENDER.match(first.get(name, "x"))), None)

    if report_type == "feedback-report" or "message/feedback-report" in types:
        return MailKind.REPORT, "feedback report (complaint)"
    if report_type == "disposition-notification" or "message/disposition-notification" in types:
        return MailKind.REPORT, "disposition notification (read receipt)"
    if report_type == "delivery-status" or "message/delivery-status" in types:
        return MailKind.BOUNCE, "delivery status notification"
    if sender == "mailer-daemon":
        return MailKind.BOUNCE, "sender is MAILER-DAEMON"
    if "x-failed-recipients" in first:
        return MailKind.BOUNCE, "X-Failed-Recipients header"
    if _BOUNCE_SUBJECTS.match(subject) and (
        sender in ("postmaster", None) or null_sender is not None or "auto-submitted" in first
    ):
        return MailKind.BOUNCE, f"bounce subject from an automatic sender: {subject[:60]}"

    auto_submitted = first.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return MailKind.AUTO_REPLY, f"Auto-Submitted: {auto_submitted}"
    precedence = first.get("precedence", "").strip().lower()
    if precedence in _AUTO_PRECEDENCE:
        return MailKind.AUTO_REPLY, f"Precedence: {precedence}"
    suppress = {token.strip().lower() for token in first.get("x-auto-response-suppress", "").split(",")}
    if suppress & _SUPPRESS_MEANS_AUTO:
        return MailKind.AUTO_REPLY, f"X-Auto-Response-Suppress: {first['x-auto-response-suppress']}"
    for name in _AUTO_FLAG_HEADERS:
        if name in first and first[name].lower() not in ("no", "false", "0"):
            return MailKind.AUTO_REPLY, f"{_title(name)} header"
    for name in _LIST_HEADERS:
        if name in first:
            return MailKind.AUTO_REPLY, f"mailing list mail ({_title(name)})"

    if _AUTO_SUBJECT_PREFIXES.match(subject):
        return MailKind.AUTO_REPLY, f"auto-reply subject: {subject[:60]}"
    # RFC 3834 asks responders to send from the null sender, and Exchange marks what its own
    # inbox rules generate. Either makes an out-of-office-like subject enough.
    weak_hint = null_sender is not None or "x-ms-exchange-inbox-rules-loop" in first
    if weak_hint and not _HUMAN_PREFIX.match(subject) and _AUTO_SUBJECT_WORDS.search(subject):
        return MailKind.AUTO_REPLY, f"auto-reply subject from an automatic sender: {subject[:60]}"
    if null_sender is not None:
        # A person's mail client never sends with an empty envelope sender.
        return MailKind.AUTO_REPLY, f"null envelope sender ({null_sender}: <>)"
    return MailKind.NORMAL, ""


def _sender_mailbox(from_value: str) -> str | None:
    """The lower-case local part of the From address, or None when From has none."""
    # Plain string work rather than one address pattern: a pattern search is quadratic on a
    # long From without any "@", and From is the sender's to choose.
    bracketed = _BRACKETED.search(from_value)
    address = bracketed.group(1) if bracketed else from_value
    if "@" not in address:
        return None
    return _LOCAL_PART_STOP.split(address.split("@", 1)[0])[-1].lower()


def _title(header_name: str) -> str:
    return "-".join(piece.capitalize() for piece in header_name.split("-"))
