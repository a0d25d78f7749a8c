"""Splitting a reply into what the sender wrote now and the history below it."""

from __future__ import annotations

import pytest

from helpdesk.mail.quoting import split_reply

CASES = {
    "gmail_english": (
        "Thanks, that fixed it.\n\nOn Tue, 3 Mar 2026 at 10:14, Servicedesk <servicedesk@example.se> wrote:\n"
        "> Have you tried restarting it?\n> /Servicedesk\n",
        "Thanks, that fixed it.",
        "On Tue, 3 Mar 2026 at 10:14, Servicedesk <servicedesk@example.se> wrote:\n"
        "> Have you tried restarting it?\n> /Servicedesk",
    ),
    "gmail_wrapped_attribution": (
        "Yes.\n\nOn Tue, 3 Mar 2026 at 10:14, The IT service desk of the university <sd@example.se>\n"
        "wrote:\n> Is it fixed?\n",
        "Yes.",
        "On Tue, 3 Mar 2026 at 10:14, The IT service desk of the university <sd@example.se>\n"
        "wrote:\n> Is it fixed?",
    ),
    "swedish": (
        "Tack, nu fungerar det!\n\nDen 3 mars 2026 kl. 10:14 skrev Servicedesk <servicedesk@example.se>:\n"
        "> Har du provat att starta om?\n",
        "Tack, nu fungerar det!",
        "Den 3 mars 2026 kl. 10:14 skrev Servicedesk <servicedesk@example.se>:\n"
        "> Har du provat att starta om?",
    ),
    "swedish_apple_mail": (
        "Det hjälpte inte.\n\n3 mars 2026 kl. 10:14 skrev Servicedesk <servicedesk@example.se>:\n\n"
        "> Har du provat att starta om?",
        "Det hjälpte inte.",
        "3 mars 2026 kl. 10:14 skrev Servicedesk <servicedesk@example.se>:\n\n> Har du provat att starta om?",
    ),
    "german": (
        "Danke!\n\nAm 03.03.2026 um 10:14 schrieb Servicedesk:\n> Bitte neu starten.\n",
        "Danke!",
        "Am 03.03.2026 um 10:14 schrieb Servicedesk:\n> Bitte neu starten.",
    ),
    "outlook_english": (
        "It works now.\n\n-----Original Message-----\nFrom: Servicedesk <servicedesk@example.se>\n"
        "Sent: Tuesday, 3 March 2026 10:14\nTo: Anna\nSubject: [HD-2026-000042] Printer\n\nRestart it.\n",
        "It works now.",
        "-----Original Message-----\nFrom: Servicedesk <servicedesk@example.se>\n"
        "Sent: Tuesday, 3 March 2026 10:14\nTo: Anna\nSubject: [HD-2026-000042] Printer\n\nRestart it.",
    ),
    "outlook_swedish": (
        "Det fungerar nu.\n\n-----Ursprungligt meddelande-----\nFrån: Servicedesk <servicedesk@example.se>\n"
        "Skickat: den 3 mars 2026 10:14\nTill: Anna\nÄmne: Skrivaren\n\nStarta om.\n",
        "Det fungerar nu.",
        "-----Ursprungligt meddelande-----\nFrån: Servicedesk <servicedesk@example.se>\n"
        "Skickat: den 3 mars 2026 10:14\nTill: Anna\nÄmne: Skrivaren\n\nStarta om.",
    ),
    "outlook_header_block_under_a_rule": (
        "Det fungerar nu.\n\n________________________________\nFrån: Servicedesk <servicedesk@example.se>\n"
        "Skickat: den 3 mars 2026 10:14\nTill: Anna Andersson\nÄmne: Skrivaren\n\nStarta om.\n",
        "Det fungerar nu.",
        "________________________________\nFrån: Servicedesk <servicedesk@example.se>\n"
        "Skickat: den 3 mars 2026 10:14\nTill: Anna Andersson\nÄmne: Skrivaren\n\nStarta om.",
    ),
    "outlook_header_block_in_english": (
        "Done.\n\nFrom: Servicedesk <servicedesk@example.se>\nSent: 3 March 2026 10:14\nTo: Anna\n\nOld.",
        "Done.",
        "From: Servicedesk <servicedesk@example.se>\nSent: 3 March 2026 10:14\nTo: Anna\n\nOld.",
    ),
    "signature": (
        "The printer on floor 3 is jammed.\n\n-- \nAnna Andersson\nKemiska institutionen\n",
        "The printer on floor 3 is jammed.",
        "-- \nAnna Andersson\nKemiska institutionen",
    ),
    "signature_then_history": (
        "Fixed.\n-- \nAnna\n\nOn Tue, 3 Mar 2026, Servicedesk wrote:\n> Fixed?\n",
        "Fixed.",
        "-- \nAnna\n\nOn Tue, 3 Mar 2026, Servicedesk wrote:\n> Fixed?",
    ),
    "trailing_quote_without_attribution": (
        "Floor 3.\n\n> Which printer?\n> /Servicedesk",
        "Floor 3.",
        "> Which printer?\n> /Servicedesk",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_split_reply(name):
    text, new, rest = CASES[name]
    assert split_reply(text) == (new, rest)


@pytest.mark.parametrize(
    "text",
    [
        "Hello,\nno history here.",
        "> only a quote\n> and nothing new\n",
        "On Tue, 3 Mar 2026, Servicedesk wrote:\n> Which printer?\n",
        "-- \nonly a signature",
    ],
)
def test_nothing_is_hidden_when_nothing_would_be_left(text):
    assert split_reply(text) == (text, "")


def test_an_inline_answer_is_kept_whole():
    text = ("On Tue, 3 Mar 2026, Servicedesk wrote:\n> Which printer?\nThe one on floor 3.\n"
            "> Which model?\nHP 4250.\n")
    assert split_reply(text) == (text.rstrip(), "")


def test_a_forwarded_mail_is_what_the_sender_wants_us_to_read():
    text = ("Please help with this.\n\n---------- Forwarded message ---------\nFrom: Boss <boss@example.se>\n"
            "Date: Tue, 3 Mar 2026\nSubject: Printer\n\nFix the printer.")
    assert split_reply(text) == (text, "")


def test_words_like_wrote_in_ordinary_text_are_not_attributions():
    text = "Here is what Anna wrote:\nthe printer is jammed.\n\nAnd then she wrote: nothing more."
    assert split_reply(text) == (text, "")
