"""Telling machine-written mail (auto-replies, bounces, reports) from mail a person wrote."""

from __future__ import annotations

import pytest

from helpdesk.mail.loops import MailKind, classify

PERSON = [("From", "Anna Andersson <anna@example.se>"), ("To", "servicedesk@example.se")]


def kind_of(*headers: tuple[str, str], content_types: tuple[str, ...] = ("text/plain",),
            report_type: str = "") -> tuple[MailKind, str]:
    return classify([*PERSON, *headers], content_types, report_type)


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ([("Auto-Submitted", "auto-replied")], "Auto-Submitted: auto-replied"),
        ([("Auto-Submitted", "auto-generated; owner-email=x@example.se")], "Auto-Submitted: auto-generated"),
        ([("Precedence", "bulk")], "Precedence: bulk"),
        ([("Precedence", "Junk")], "Precedence: junk"),
        ([("Precedence", "list")], "Precedence: list"),
        ([("Precedence", "auto_reply")], "Precedence: auto_reply"),
        ([("X-Auto-Response-Suppress", "All")], "X-Auto-Response-Suppress: All"),
        ([("X-Auto-Response-Suppress", "DR, OOF")], "X-Auto-Response-Suppress: DR, OOF"),
        ([("X-Autoreply", "yes")], "X-Autoreply header"),
        ([("X-Autorespond", "Out of office")], "X-Autorespond header"),
        ([("X-Auto-Reply", "true")], "X-Auto-Reply header"),
        ([("List-Id", "<kemi.lists.example.se>")], "mailing list mail (List-Id)"),
        ([("List-Unsubscribe", "<mailto:leave@example.se>")], "mailing list mail (List-Unsubscribe)"),
        ([("Return-Path", "<>")], "null envelope sender (Return-Path: <>)"),
    ],
)
def test_auto_reply_headers(headers, why):
    assert kind_of(*headers) == (MailKind.AUTO_REPLY, why)


@pytest.mark.parametrize(
    "headers",
    [
        [("Auto-Submitted", "no")],
        [("Auto-Submitted", "No")],
        [("Precedence", "normal")],
        [("X-Auto-Response-Suppress", "DR, RN, NRN")],  # Outlook on ordinary mail: no receipts please
        [("X-Autoreply", "no")],
    ],
)
def test_headers_that_say_a_person_wrote_it(headers):
    assert kind_of(*headers) == (MailKind.NORMAL, "")


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: Printer on floor 3",
        "Automatiskt svar: Skrivaren",
        "Autosvar: Skrivaren",
        "Auto: Skrivaren",
        "Out of Office: Printer",
        "Out of office reply: Printer",
        "Frånvarande: Skrivaren",
        "Abwesenheitsnotiz: Drucker",
    ],
)
def test_auto_reply_subjects_with_their_usual_prefix(subject):
    kind, why = kind_of(("Subject", subject))
    assert kind is MailKind.AUTO_REPLY and why.startswith("auto-reply subject")


@pytest.mark.parametrize(
    "subject",
    [
        "Re: vacation plans",
        "Vacation plans for July",
        "SV: Frånvarande på fredag",
        "Out of office for the Christmas week, please note",
        "Abwesenheit im August",
        "autosvaret fungerar inte i Outlook",
        "Automatic replies are broken for our shared mailbox",
    ],
)
def test_ordinary_mail_about_absence_stays_normal(subject):
    assert kind_of(("Subject", subject)) == (MailKind.NORMAL, "")


@pytest.mark.parametrize("subject", ["Vacation", "Frånvarande 1–14 juli", "Abwesenheit", "Out of office"])
def test_absence_subjects_count_with_a_weak_machine_hint(subject):
    for hint in [("Return-Path", "<>"), ("X-MS-Exchange-Inbox-Rules-Loop", "anna@example.se")]:
        kind, _ = kind_of(("Subject", subject), hint)
        assert kind is MailKind.AUTO_REPLY


def test_a_reply_about_vacation_from_a_null_sender_is_still_noise_but_not_by_its_subject():
    kind, why = kind_of(("Subject", "Re: vacation plans"), ("Return-Path", "<>"))
    assert (kind, why) == (MailKind.AUTO_REPLY, "null envelope sender (Return-Path: <>)")


@pytest.mark.parametrize(
    ("content_types", "report_type", "why"),
    [
        (("multipart/report", "text/plain", "message/delivery-status"), "delivery-status",
         "delivery status notification"),
        (("message/delivery-status",), "", "delivery status notification"),
        (("multipart/report", "text/plain"), "delivery-status", "delivery status notification"),
    ],
)
def test_delivery_status_notifications_are_bounces(content_types, report_type, why):
    assert kind_of(content_types=content_types, report_type=report_type) == (MailKind.BOUNCE, why)


@pytest.mark.parametrize(
    ("sender", "subject", "extra"),
    [
        ("Mail Delivery Subsystem <mailer-daemon@googlemail.com>", "Delivery Status Notification (Delay)",
         []),
        ("MAILER-DAEMON@example.com (Mail Delivery System)", "Undelivered Mail Returned to Sender", []),
        ("Postmaster <postmaster@example.se>", "Undeliverable: Skrivaren", []),
        ("postmaster@example.se", "Olevererbart: Skrivaren", []),
        ("Mail System <mail@example.se>", "Mail delivery failed: returning message to sender",
         [("Return-Path", "<>")]),
        ("Microsoft Outlook <MicrosoftExchange329e71@example.se>", "Undeliverable: Skrivaren",
         [("Auto-Submitted", "auto-replied")]),
        ("Mail System <mail@example.se>", "Hi", [("X-Failed-Recipients", "bo@example.se")]),
    ],
)
def test_bounces_by_sender_and_subject(sender, subject, extra):
    kind, _ = classify([("From", sender), ("Subject", subject), *extra], ["text/plain"])
    assert kind is MailKind.BOUNCE


def test_a_person_forwarding_a_bounce_is_not_a_bounce():
    assert kind_of(("Subject", "Fwd: Undeliverable: Skrivaren")) == (MailKind.NORMAL, "")


def test_a_bounce_subject_from_a_person_is_not_a_bounce():
    assert kind_of(("Subject", "Undeliverable mail to the whole department?")) == (MailKind.NORMAL, "")


def test_a_person_writing_from_the_postmaster_address_is_a_person():
    headers = [("From", "Bob <postmaster@example.com>"), ("Subject", "Please enjoy this mega long link")]
    assert classify(headers, ["text/html"]) == (MailKind.NORMAL, "")


@pytest.mark.parametrize(
    ("content_types", "report_type", "why"),
    [
        (("multipart/report", "text/plain", "message/feedback-report"), "feedback-report",
         "feedback report (complaint)"),
        (("multipart/report", "text/plain", "message/disposition-notification"), "disposition-notification",
         "disposition notification (read receipt)"),
    ],
)
def test_complaints_and_read_receipts_are_reports(content_types, report_type, why):
    assert kind_of(content_types=content_types, report_type=report_type) == (MailKind.REPORT, why)


def test_a_report_wins_over_list_headers_and_a_bounce_over_auto_submitted():
    report = kind_of(("Precedence", "list"), content_types=("message/feedback-report",))
    assert report[0] is MailKind.REPORT
    bounce = kind_of(("Auto-Submitted", "auto-replied"), report_type="delivery-status")
    assert bounce[0] is MailKind.BOUNCE


def test_header_names_are_matched_whatever_their_case():
    assert kind_of(("AUTO-SUBMITTED", "auto-replied"))[0] is MailKind.AUTO_REPLY
    assert kind_of(("precedence", "BULK"))[0] is MailKind.AUTO_REPLY


def test_the_null_sender_reason_names_its_header():
    kind = kind_of(("X-Envelope-From", "<>"))
    assert kind == (MailKind.AUTO_REPLY, "null envelope sender (X-Envelope-From: <>)")
