"""Inbound mail parsing: named cases built here, then every message of the shared corpus."""

from __future__ import annotations

import contextlib
import email
import email.policy
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.mail.parse import (
    MailKind,
    MailParseError,
    find_reference_tags,
    normalise_message_id,
    parse_message,
)


def mail(*headers: str, body: bytes | str = "Hej!\n") -> bytes:
    head = "\n".join(headers).encode()
    return head + b"\n\n" + (body.encode() if isinstance(body, str) else body)


PLAIN = mail(
    "From: Anna Andersson <Anna.Andersson@Example.SE>",
    "To: Servicedesk <servicedesk@example.se>, kemi@example.se",
    "Cc: Bo <bo@example.se>",
    "Subject: =?utf-8?q?Skrivaren_p=C3=A5_plan_3?=   fungerar   inte",
    "Date: Tue, 3 Mar 2026 10:14:00 +0100",
    "Message-ID: <abc.123@mail.example.se>",
    "In-Reply-To: <first@example.se>",
    "References: <first@example.se>\n <second@example.se>",
    "Reply-To: anna.privat@example.com",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    body="Skrivaren på plan 3 säger PC LOAD LETTER.\n",
)


def test_a_plain_mail_gives_its_people_ids_date_and_text():
    parsed = parse_message(PLAIN)
    assert parsed.kind is MailKind.NORMAL and parsed.why == ""
    assert parsed.sender_email == "anna.andersson@example.se"
    assert parsed.sender_name == "Anna Andersson"
    assert parsed.reply_to == "anna.privat@example.com"
    assert parsed.recipients == ("servicedesk@example.se", "kemi@example.se", "bo@example.se")
    assert parsed.subject == "Skrivaren på plan 3 fungerar inte"
    assert parsed.message_id == "abc.123@mail.example.se"
    assert parsed.in_reply_to == ("first@example.se",)
    assert parsed.references == ("first@example.se", "second@example.se")
    assert parsed.date == datetime(2026, 3, 3, 9, 14, tzinfo=UTC)
    assert parsed.text == "Skrivaren på plan 3 säger PC LOAD LETTER."
    assert parsed.html is None and parsed.attachments == () and parsed.bounce is None
    assert ("Message-ID", "<abc.123@mail.example.se>") in parsed.headers
    assert parsed.defects == ()


def test_multipart_alternative_keeps_the_plain_text_and_the_sanitised_html():
    raw = mail(
        "From: anna@example.se", "Content-Type: multipart/alternative; boundary=b",
        body="--b\nContent-Type: text/plain; charset=utf-8\n\nHej *du*\n"
             "--b\nContent-Type: text/html; charset=utf-8\n\n<p>Hej <b>du</b></p>\n--b--\n",
    )
    parsed = parse_message(raw)
    assert parsed.text == "Hej *du*"
    assert parsed.html == "<p>Hej <b>du</b></p>"


def test_a_blank_plain_alternative_gives_way_to_the_html_one():
    raw = mail(
        "From: anna@example.se", "Content-Type: multipart/alternative; boundary=b",
        body="--b\nContent-Type: text/plain\n\n \n--b\nContent-Type: text/html\n\n<div>Hej</div>\n--b--\n",
    )
    assert parse_message(raw).text == "Hej"


def test_text_parts_around_an_attachment_are_joined_in_order():
    raw = mail(
        "From: anna@example.se", "Content-Type: multipart/mixed; boundary=b",
        body="--b\nContent-Type: text/plain\n\nFöre.\n"
             "--b\nContent-Type: image/gif\nContent-Transfer-Encoding: base64\n\nR0lGODlh\n"
             "--b\nContent-Type: text/html\n\n<p>Efter.</p>\n--b--\n",
    )
    parsed = parse_message(raw)
    assert parsed.text == "Före.\n\nEfter."
    assert parsed.html == "<pre>Före.</pre><p>Efter.</p>"
    assert [(a.filename, a.data) for a in parsed.attachments] == [("attachment-1.gif", b"GIF89a")]


def test_an_html_only_mail_is_sanitised_and_converted_to_text():
    raw = mail(
        "From: anna@example.se", "Content-Type: text/html; charset=utf-8",
        body='<p onclick="steal()">Hej!</p><script>alert("x")</script>'
             '<img src="https://tracker.example.com/pixel.gif"><p>Mvh Anna</p>',
    )
    parsed = parse_message(raw)
    assert parsed.html == "<p>Hej!</p><img><p>Mvh Anna</p>"
    assert parsed.text == "Hej!\n\nMvh Anna"


def test_an_attachment_with_an_rfc2231_swedish_name():
    raw = mail(
        "From: anna@example.se", "Content-Type: multipart/mixed; boundary=b",
        body="--b\nContent-Type: text/plain\n\nSe bilagan.\n"
             "--b\nContent-Type: application/pdf; name*=utf-8''%C3%85rsrapport.pdf\n"
             "Content-Disposition: attachment; filename*=utf-8''%C3%85rsrapport.pdf\n"
             "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b--\n",
    )
    parsed = parse_message(raw)
    assert parsed.text == "Se bilagan."
    [attachment] = parsed.attachments
    assert attachment.filename == "Årsrapport.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.data == b"%PDF-1.4\n"
    assert attachment.inline is False and attachment.content_id is None


def test_rfc2231_continuations_and_outlook_style_encoded_words_in_names():
    raw = mail(
        "From: anna@example.se", "Content-Type: multipart/mixed; boundary=b",
        body="--b\nContent-Type: text/plain\nContent-Disposition: attachment;\n"
             " filename*0*=utf-8''%C3%85rs; filename*1*=rapport%202025.txt\n\nett\n"
             '--b\nContent-Type: text/plain; name="=?iso-8859-1?q?=C5rsrapport.txt?="\n'
             'Content-Disposition: attachment; filename="=?iso-8859-1?q?=C5rsrapport.txt?="\n\ntvå\n'
             "--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment;"
             ' filename="..\\\\..\\\\Windows\\\\evil.exe"\n\nMZ\n--b--\n',
    )
    names = [attachment.filename for attachment in parse_message(raw).attachments]
    assert names == ["Årsrapport 2025.txt", "Årsrapport.txt", "evil.exe"]


def test_an_inline_image_referenced_by_cid():
    raw = mail(
        "From: anna@example.se", 'Content-Type: multipart/related; boundary="r"',
        body='--r\nContent-Type: text/html\n\n<p>Se skärmbilden:</p><img src="cid:shot@example.se">\n'
             "--r\nContent-Type: image/png\nContent-ID: <shot@example.se>\nContent-Disposition: inline\n"
             "Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--r--\n",
    )
    parsed = parse_message(raw)
    assert parsed.html == '<p>Se skärmbilden:</p><img src="cid:shot@example.se">'
    [image] = parsed.attachments
    assert image.content_id == "shot@example.se" and image.inline is True
    assert image.filename == "attachment-1.png" and image.data == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("charset", "body", "expected"),
    [
        ("windows-1252", "Hälsningar – Åsa €".encode("cp1252"), "Hälsningar – Åsa €"),
        ("iso-8859-1", "Grüße aus Malmö".encode("latin-1"), "Grüße aus Malmö"),
        # Mail labelled Latin-1 with Windows-1252's curly quotes in it, as Outlook used to send.
        ("iso-8859-1", b"\x93citat\x94", "\u201ccitat\u201d"),
        ("gb2312", "镕 是 GBK 字".encode("gbk"), "镕 是 GBK 字"),  # 镕 is not in GB2312 itself
        ("gb18030", "中文 𠀀".encode("gb18030"), "中文 𠀀"),
        ("koi8-r", "Привет, мир".encode("koi8-r"), "Привет, мир"),
        ("unicode-1-1-utf-7", "Hej på dig".encode("utf-7"), "Hej på dig"),
    ],
)
def test_bodies_in_other_charsets_are_decoded(charset, body, expected):
    raw = mail("From: anna@example.se", f"Content-Type: text/plain; charset={charset}",
               "Content-Transfer-Encoding: 8bit", body=body)
    parsed = parse_message(raw)
    assert parsed.text == expected
    assert parsed.defects == ()


@pytest.mark.parametrize(
    ("content_type", "body", "expected", "defect"),
    [
        ("text/plain; charset=x-no-such-charset", "Åsa".encode(), "Åsa", "unknown charset"),
        ("text/plain; charset=us-ascii", "Åsa".encode("cp1252"), "Åsa", "without a usable charset"),
        ("text/plain", "Åsa".encode(), "Åsa", "without a usable charset"),
        ("text/plain; charset=utf-8", b"Hej \xff d\xe5", "Hej \ufffd d\ufffd", "not valid in charset utf-8"),
    ],
)
def test_broken_or_missing_charsets_are_guessed_and_noted(content_type, body, expected, defect):
    parsed = parse_message(mail("From: anna@example.se", f"Content-Type: {content_type}", body=body))
    assert parsed.text == expected
    assert any(defect in note for note in parsed.defects)


def test_a_charset_label_with_a_nul_in_it_is_an_unknown_charset():
    # Found by fuzzing: the email package itself raises ValueError on such a label.
    parsed = parse_message(mail("From: anna@example.se", 'Content-Type: text/plain; charset="ut\x00f"',
                                body="Åsa".encode("cp1252")))
    assert parsed.text == "Åsa"
    assert any("unknown charset" in note for note in parsed.defects)


def test_a_header_with_undecodable_bytes_is_repaired_and_noted():
    raw = mail("From: \xc5sa Berg <asa@example.se>", "Subject: Caf\xe9 \x96 trasig", body="x").replace(
        "\xc5".encode(), b"\xc5").replace("\xe9".encode(), b"\xe9").replace("\x96".encode(), b"\x96")
    assert b"\xc5sa" in raw  # raw Windows-1252 bytes, no encoded words
    parsed = parse_message(raw)
    assert parsed.subject == "Café – trasig"
    assert parsed.sender_name == "Åsa Berg" and parsed.sender_email == "asa@example.se"
    assert "header Subject: raw 8-bit bytes; guessed UTF-8 or Windows-1252" in parsed.defects


def test_a_huge_header_is_cut_before_decoding():
    # The email package's header parser is slower than linear; a 600 kB subject took 19 s.
    parsed = parse_message(mail("From: anna@example.se", "Subject:" + " =?utf-8?q?h=C3=A4j?=" * 40_000))
    assert parsed.subject.startswith("häj") and len(parsed.subject) == 1000
    assert "header Subject of 839999 characters cut to 32000 before decoding" in parsed.defects
    assert parse_message(mail("From: anna@example.se", "Subject:" + " \n" * 40_000 + "X: y")).subject == ""


def test_a_garbled_content_type_is_read_as_a_file():
    raw = mail("From: anna@example.se", "Content-Type: multipart/mixed; boundary=b",
               body="--b\nContent-Type: \x01te\x02xt/pl ain\n\ndata\n--b--\n")
    [attachment] = parse_message(raw).attachments
    assert (attachment.content_type, attachment.filename, attachment.data) == (
        "application/octet-stream", "attachment-1.bin", b"data")


def test_a_mail_without_message_id_or_date():
    parsed = parse_message(mail("From: anna@example.se", "Subject: Hej"))
    assert parsed.message_id is None and parsed.date is None
    assert parsed.in_reply_to == () and parsed.references == ()


def test_an_unreadable_date_is_none_and_noted():
    parsed = parse_message(mail("From: anna@example.se", "Date: someday soon"))
    assert parsed.date is None
    assert any("Date" in note for note in parsed.defects)


def test_an_attached_mail_is_kept_as_an_eml_named_after_its_subject():
    raw = mail(
        "From: anna@example.se", "Content-Type: multipart/mixed; boundary=b",
        body="--b\nContent-Type: text/plain\n\nSe nedan.\n"
             "--b\nContent-Type: message/rfc822\n\nFrom: bo@example.se\nSubject: Fel i/på skrivaren\n"
             "Message-ID: <inner@example.se>\n\nDen skriver inte.\n--b--\n",
    )
    parsed = parse_message(raw)
    [attached] = parsed.attachments
    assert attached.filename == "Fel i_på skrivaren.eml"
    assert attached.content_type == "message/rfc822"
    inner = email.message_from_bytes(attached.data, policy=email.policy.default)
    assert inner["Message-ID"] == "<inner@example.se>"
    assert parsed.text == "Se nedan." and parsed.kind is MailKind.NORMAL


def test_endless_nesting_is_cut_off_and_noted():
    levels = 60
    body = "".join(f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i + 1}\n\n" for i in range(levels))
    raw = mail("From: anna@example.se", "Content-Type: multipart/mixed; boundary=b0",
               body=body + f"--b{levels}\nContent-Type: text/plain\n\ndjupt\n")
    parsed = parse_message(raw)
    assert "MIME parts nested deeper than 20 levels left out" in parsed.defects


def test_nesting_too_deep_for_the_email_package_keeps_the_body_as_text():
    raw = mail("From: anna@example.se", *["Content-Type: message/rfc822\n"] * 3000, body="djupt")
    parsed = parse_message(raw)
    assert parsed.sender_email == "anna@example.se"
    assert any("MIME structure unreadable (RecursionError)" in note for note in parsed.defects)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty input"),
        (b" \r\n\t\n", "empty input"),
        (b"just some words, no headers at all", "no header block"),
        (b"\x00\x01\x02\xff\xfe", "no header block"),
        (b"X-Spam: yes\n\n   \n", "no From, no Message-ID and no body"),
    ],
)
def test_input_that_is_not_a_mail_raises_mail_parse_error(raw, reason):
    with pytest.raises(MailParseError, match=reason):
        parse_message(raw)


@settings(max_examples=200, deadline=None, database=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise_anything_but_mail_parse_error(raw):
    try:
        parsed = parse_message(raw)
    except MailParseError:
        return
    for text in (parsed.text, parsed.subject, parsed.html or "", *(value for _, value in parsed.headers)):
        text.encode("utf-8")  # no lone surrogates left over from raw bytes
        assert "\x00" not in text


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.sampled_from([
    "From: a@example.se\n", "Content-Type: multipart/mixed; boundary=x\n", "Content-Type: message/rfc822\n",
    "Content-Type: text/html; charset=gb2312\n", "Content-Transfer-Encoding: base64\n",
    "Content-Transfer-Encoding: quoted-printable\n", "\n", "--x\n", "--x--\n", "=?utf-8?b?w6U=?=", "=E5",
    "<p onclick=x>", "Subject: =?bogus?q?=FF?=\n", "Content-Disposition: attachment; filename*=utf-8''%FF\n",
    "\udcff", "Content-Type: multipart/report; report-type=delivery-status; boundary=x\n",
    "Content-Type: message/delivery-status\n", "Status: 5.1.1\n", "Final-Recipient: rfc822; x@y\n",
]), max_size=40))
def test_hostile_mime_structures_never_raise_anything_but_mail_parse_error(pieces):
    with contextlib.suppress(MailParseError):
        parse_message("".join(pieces).encode("utf-8", "surrogateescape"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<abc@example.se>", "abc@example.se"),
        ("  <abc@example.se>  ", "abc@example.se"),
        ("<abc@\n example.se>", "abc@example.se"),
        ("abc@example.se", "abc@example.se"),
        ("<abc@example.se> (comment)", "abc@example.se"),
        ("", None),
        ("<>", None),
        ("   ", None),
    ],
)
def test_normalise_message_id(value, expected):
    assert normalise_message_id(value) == expected


@pytest.mark.parametrize(
    ("subject", "prefix", "expected"),
    [
        ("Re: [HD-2026-000042] Skrivaren", "HD", ["HD-2026-000042"]),
        ("SV: [hd-2026-000042] skrivaren", "HD", ["HD-2026-000042"]),
        ("[HD-2026-000042] och [ HD-2025-000007 ] och [HD-2026-000042]", "HD",
         ["HD-2026-000042", "HD-2025-000007"]),
        ("[HD-2026-42] typed by hand", "HD", ["HD-2026-000042"]),
        ("HD-2026-000042 without brackets", "HD", []),
        ("[IT-2026-000042] another desk", "HD", []),
        ("[it-2026-000042] our other prefix", "IT", ["IT-2026-000042"]),
    ],
)
def test_find_reference_tags(subject, prefix, expected):
    assert find_reference_tags(subject, prefix) == expected


# --- the shared corpus: real mail that nobody on this team wrote ---------------------------

CORPUS = Path(__file__).resolve().parents[2] / "data" / "mail-corpus"
NORMAL, AUTO, BOUNCE, REPORT = MailKind.NORMAL, MailKind.AUTO_REPLY, MailKind.BOUNCE, MailKind.REPORT


@dataclass(frozen=True)
class Expect:
    kind: MailKind
    has_text: bool | None = None  # checked for normal mails
    attachments: int | None = None
    original_id: str | None = None  # checked for bounces: the Message-ID of the mail that bounced
    why: str = ""  # what a reader of the file sees


# Written from reading each file. None of them is "not a mail", so none raises MailParseError.
EXPECTED: dict[str, Expect] = {
    "django-helpdesk/all-special-chars.eml": Expect(NORMAL, True, 0, why="8-bit UTF-8 Czech text"),
    "django-helpdesk/blank-body-with-attachment.eml": Expect(
        NORMAL, False, 1, why="empty text part and a text/plain attachment 'baf'"),
    "django-helpdesk/forwarded-message.eml": Expect(NORMAL, True, 0, why="Outlook-style forward in the body"),
    "django-helpdesk/pgp.eml": Expect(NORMAL, True, 1, why="PGP/MIME signed; signature.asc attached"),
    "django-helpdesk/quoted_printable.eml": Expect(NORMAL, True, 0, why="QP Czech text and HTML"),
    "django-helpdesk/utf-nondecodable.eml": Expect(
        NORMAL, True, 0, why="a forward, 8-bit UTF-8 (valid after all) with a tab in the subject"),
    "flanker/8bitmime.eml": Expect(NORMAL, True, 0, why="8-bit Russian plain text plus HTML"),
    "flanker/apache-message-news-mime.eml": Expect(
        AUTO, True, 1, why="apache list mail (Precedence: bulk) with a message/news part"),
    "flanker/attached-pdf.eml": Expect(NORMAL, True, 1, why="no From at all; nested alternative; a PDF"),
    "flanker/bilingual-simple.eml": Expect(NORMAL, True, 0, why="QP English and Russian"),
    "flanker/bounce_broken-mime.eml": Expect(
        BOUNCE, original_id=None, why="text/plain bounce from Postmaster; returned mail has no Message-ID"),
    "flanker/bounce_delayed-broken.eml": Expect(
        BOUNCE, original_id=None, why="a bare message/delivery-status, no From, no returned mail"),
    "flanker/bounce_delayed.eml": Expect(
        BOUNCE, original_id=None, why="RFC 3464 example; the returned mail has no Message-ID"),
    "flanker/bounce_gmail-invalid-address.eml": Expect(
        BOUNCE, original_id="CAKsfaBUUGqVZiaMrmH3TRPfq1odQPtM7Ey5YW1SgyJJRHtAjgw@mail.gmail.com",
        why="Gmail text bounce; the original's headers are quoted in the body"),
    "flanker/bounce_gmail-no-dns.eml": Expect(
        BOUNCE, original_id=None, why="Gmail text bounce; quoted original has no Message-ID"),
    "flanker/bounce_mailbox-full.eml": Expect(
        BOUNCE, original_id="4E326A95.3010907@example.com", why="AOL DSN with text/rfc822-headers"),
    "flanker/bounce_no-mx.eml": Expect(
        BOUNCE, original_id="19E44CA63F984902B7D654F8FF40F89D@bo", why="delay DSN with text/rfc822-headers"),
    "flanker/bounce_office365.eml": Expect(
        BOUNCE, original_id="20171013111011.20866.254C2F3A4D7AA526@ninomail.com",
        why="Office 365 NDR, 'Undeliverable:' from postmaster, returned message/rfc822"),
    "flanker/bounce_zed.eml": Expect(
        BOUNCE, original_id="20090708054735.GC7578@example.com", why="Postfix DSN from MAILER-DAEMON"),
    "flanker/bz2-attachment.eml": Expect(NORMAL, True, 1, why="text and a .bz2 file"),
    "flanker/complaints_aol.eml": Expect(REPORT, why="AOL ARF feedback report (also Precedence: list)"),
    "flanker/complaints_yahoo.eml": Expect(REPORT, why="Yahoo ARF feedback report"),
    "flanker/dashed-boundaries.eml": Expect(NORMAL, True, 0, why="the boundary itself has -- at both ends"),
    "flanker/disposition-notification.eml": Expect(REPORT, why="RFC 3798 read receipt"),
    "flanker/enclosed-bad-encoding.eml": Expect(NORMAL, True, 1, why="attached mail, raw 8-bit To"),
    "flanker/enclosed-broken-body.eml": Expect(NORMAL, True, 1, why="attached mail with broken base64"),
    "flanker/enclosed-broken.eml": Expect(NORMAL, True, 1, why="no closing boundaries"),
    "flanker/enclosed-endless.eml": Expect(NORMAL, True, 1, why="attached mail with 3,000 HTML alternatives"),
    "flanker/enclosed-global.eml": Expect(NORMAL, True, 1, why="attached mail as message/global"),
    "flanker/enclosed.eml": Expect(NORMAL, True, 1, why="text and an attached mail (thanks.eml)"),
    "flanker/encoded-header.eml": Expect(NORMAL, True, 0, why="encoded-word display name with a comma"),
    "flanker/false-multipart.eml": Expect(
        NORMAL, False, 0, why="declares multipart but the body is blank; has From and Message-ID"),
    "flanker/from-encoding.eml": Expect(AUTO, True, 0, why="list mail (Precedence: bulk), Latin-1 From"),
    "flanker/iphone.eml": Expect(NORMAL, True, 1, why="text, inline photo, text"),
    "flanker/long-header.eml": Expect(NORMAL, True, 0, why="a 130,000-character encoded subject"),
    "flanker/long-links.eml": Expect(NORMAL, True, 0, why="HTML only; postmaster@ but a person"),
    "flanker/mailformed-headers.eml": Expect(
        NORMAL, True, 0, why="raw 8-bit headers; no boundary ever opens, so the body is kept as text"),
    "flanker/mailgun-pic.eml": Expect(NORMAL, True, 1, why="text, HTML and a PNG"),
    "flanker/message-external-body.eml": Expect(
        AUTO, True, 0, why="apache list mail (Precedence: bulk); external-body references left out"),
    "flanker/missing-boundaries.eml": Expect(NORMAL, True, 0, why="text/plain with MIME-looking lines in it"),
    "flanker/missing-final-boundary.eml": Expect(NORMAL, True, 0, why="no closing boundary"),
    "flanker/multi-received-headers.eml": Expect(NORMAL, True, 0, why="Gmail forward of a forward"),
    "flanker/multipart.eml": Expect(NORMAL, True, 0, why="alternative of text and related(HTML)"),
    "flanker/no-ctype.eml": Expect(NORMAL, True, 0, why="no Content-Type: text/plain by default"),
    "flanker/outlook-express.eml": Expect(
        NORMAL, False, 1, why="the whole body is one octet-stream file with a raw 8-bit name"),
    "flanker/quoted-printable.eml": Expect(NORMAL, True, 0, why="two text/plain alternatives (2nd is HTML)"),
    "flanker/relative.eml": Expect(NORMAL, True, 0, why="text and HTML with a signature"),
    "flanker/russian-attachment-yahoo.eml": Expect(NORMAL, True, 1, why="PNG with a raw UTF-8, cut-off name"),
    "flanker/signed.eml": Expect(
        NORMAL, False, 2, why="S/MIME; the signed part is 'application/plain', so a file, not text"),
    "flanker/spam_broken-ctype.eml": Expect(NORMAL, True, 1, why="'Content-Type: ; name=...'"),
    "flanker/spam_broken-headers.eml": Expect(NORMAL, True, 0, why="raw Windows-1252 byte in the subject"),
    "flanker/text-only.eml": Expect(NORMAL, True, 0, why="plain Latin-1 text"),
    "flanker/torture-part.eml": Expect(NORMAL, True, 1, why="text and one attached mail"),
    "flanker/torture.eml": Expect(NORMAL, True, 11, why="text, 8 attached mails, audio and 2 images"),
}

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no mail corpus at {CORPUS}")


def corpus_mail(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


@needs_corpus
def test_the_table_names_every_file_in_the_corpus():
    on_disk = {path.relative_to(CORPUS).as_posix() for path in CORPUS.rglob("*.eml")}
    assert on_disk == set(EXPECTED)


@needs_corpus
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_mail(name):
    expect = EXPECTED[name]
    parsed = parse_message(corpus_mail(name))
    assert parsed.kind is expect.kind, parsed.why
    assert (parsed.why == "") is (expect.kind is NORMAL)
    if expect.has_text is not None:
        assert bool(parsed.text) is expect.has_text
    if expect.attachments is not None:
        assert len(parsed.attachments) == expect.attachments
    if expect.kind is BOUNCE:
        assert parsed.bounce is not None
        assert parsed.bounce.original_message_id == expect.original_id
    else:
        assert parsed.bounce is None


@needs_corpus
@pytest.mark.parametrize(
    ("name", "recipient", "status", "diagnostic_start"),
    [
        ("flanker/bounce_zed.eml", "asdfasdfasdfasdfasdfasdfewrqertrtyrthsfgdfgadfqeadvxzvz@gmail.com",
         "5.1.1", "550-5.1.1 The email account"),
        ("flanker/bounce_mailbox-full.eml", "user@aol.com", "5.2.2", "552 5.2.2 E4.12 user MAILBOX FULL"),
        ("flanker/bounce_office365.eml", "noname@example.com", "5.1.10", "550 5.1.10 RESOLVER.ADR"),
        ("flanker/bounce_no-mx.eml", "user@example.com", "4.4.4", "454 4.4.4 [internal] no MX"),
        ("flanker/bounce_delayed-broken.eml", "demo@example.com", "4.2.2", "Action: failed"),
        ("flanker/bounce_gmail-invalid-address.eml", "awfawfawfawfawfaw@someserverhere.com", "5.1.0",
         "Delivery to the following recipient failed permanently"),
        ("flanker/bounce_broken-mime.eml", None, None, "Delivery failed 10 attempts: info@example.net"),
    ],
)
def test_corpus_bounce_details(name, recipient, status, diagnostic_start):
    bounce = parse_message(corpus_mail(name)).bounce
    assert bounce is not None
    assert (bounce.recipient, bounce.status) == (recipient, status)
    assert bounce.diagnostic.startswith(diagnostic_start)
    assert "Original message" not in bounce.diagnostic  # the human part only


@needs_corpus
def test_corpus_bounce_keeps_the_original_subject():
    assert parse_message(corpus_mail("flanker/bounce_zed.eml")).bounce.original_subject == "test bounce"
    assert parse_message(corpus_mail("flanker/bounce_broken-mime.eml")).bounce.original_subject == "Hey"


@needs_corpus
def test_corpus_raw_8bit_headers_are_guessed():
    assert parse_message(corpus_mail("flanker/from-encoding.eml")).sender_name == "Ingo Lütkebohle"
    assert parse_message(corpus_mail("flanker/spam_broken-headers.eml")).subject.endswith("Exchange…")
    broken = parse_message(corpus_mail("flanker/mailformed-headers.eml"))
    assert broken.sender_name.startswith("Юникод запрещен")  # valid UTF-8 up to one stray byte
    assert broken.sender_email == "headers@gmail.com"


@needs_corpus
def test_corpus_names_and_types_of_odd_attachments():
    [picture] = parse_message(corpus_mail("flanker/russian-attachment-yahoo.eml")).attachments
    assert picture.filename.startswith("Картинка с очень, очень длинным")
    [face] = parse_message(corpus_mail("flanker/spam_broken-ctype.eml")).attachments
    assert (face.filename, face.content_type, face.data[:3]) == ("facejj.jpg", "image/jpeg", b"\xff\xd8\xff")
    [photo] = parse_message(corpus_mail("flanker/iphone.eml")).attachments
    assert (photo.filename, photo.inline) == ("photo.JPG", True)


@needs_corpus
def test_corpus_attached_mail_can_be_read_back():
    parsed = parse_message(corpus_mail("flanker/enclosed.eml"))
    [attached] = parsed.attachments
    assert attached.filename == "thanks.eml"  # its own name wins over the subject
    assert parse_message(attached.data).subject == "Thanks!"


@needs_corpus
def test_corpus_alternatives_and_mixed_text():
    assert parse_message(corpus_mail("flanker/quoted-printable.eml")).text.startswith("Hello Bob,")
    multipart = parse_message(corpus_mail("flanker/multipart.eml"))
    assert (multipart.text, multipart.html) == ("Sasha", "Hi")
    assert parse_message(corpus_mail("flanker/iphone.eml")).text == "Hello\n\n~Danielle"
    assert parse_message(corpus_mail("flanker/long-links.eml")).text.endswith("THis is very long url")


@needs_corpus
def test_corpus_a_very_long_subject_is_cut_and_noted():
    parsed = parse_message(corpus_mail("flanker/long-header.eml"))
    assert len(parsed.subject) == 1000 and parsed.subject.startswith("Die heiße Zypernsonne")
    assert any("cut to 1000" in note for note in parsed.defects)
