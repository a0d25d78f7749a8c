"""Why the helpdesk kept a mail in the quarantine, in the reader's language.

A reason is stored in English (``InboundMail.reason``; the mail commands and the logs print
it as it is), always written from one of the messages below. The quarantine page finds the
message a stored reason was written from and shows it translated, with its parameters
translated too where they are messages of their own (why a mail could not be read, why no
ticket could be made of it). Reasons stored before the messages were translated have the
same words, so they read in the reader's language as well; one written from no message here
is shown as it was stored. Reword a message's English only with the old words kept among
the known ones, or the rows stored in them are shown in English again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from helpdesk.core.i18n import N_
from helpdesk.core.labels import LIFECYCLE_LABELS
from helpdesk.mail.parse import PARSE_PROBLEMS
from helpdesk.tickets.operations import NOT_ORDERABLE
from helpdesk.tiers.routing import NO_LEVEL1_GROUP, NO_SERVICE_DESK

NOT_A_MAIL = N_("not a mail message: %(problem)s")
TOO_LARGE = N_("larger than the limit of %(limit)s MB")
NO_SENDER = N_("no sender address to answer")
MAIL_LOOP = N_("more than %(limit)s mails in an hour from %(sender)s: a mail loop?")
NO_MAILBOX = N_("no mailbox is set up for this address, so no service to file it under")
UNKNOWN_SENDER = N_("unknown sender; instructions sent (HELPDESK_MAIL_UNKNOWN_SENDERS=instruct)")
NO_TICKET = N_("no ticket could be created: %(problem)s")
# TRANSLATORS: %(error)s is the program's own error message, shown as it is (in English).
FAILED = N_("could not be handled: %(error)s")
REASONS = (NOT_A_MAIL, TOO_LARGE, NO_SENDER, MAIL_LOOP, NO_MAILBOX, UNKNOWN_SENDER, NO_TICKET,
           FAILED)

# What a reason's problem may be: why the input is not a mail, or why creating a ticket from
# it was refused (the refusals a mail's ticket can meet, with the lifecycle they name).
PROBLEMS = (*PARSE_PROBLEMS, NOT_ORDERABLE, NO_LEVEL1_GROUP, NO_SERVICE_DESK,
            *LIFECYCLE_LABELS.values())

_PARAMETER = re.compile(r"%\((\w+)\)s")


def written(reason: str, **params: object) -> str:
    """The reason as it is stored: ``reason`` (one of REASONS) in English, filled in."""
    return reason % params if params else reason


def in_words(stored: str, translate: Callable[[str], str]) -> str:
    """A stored reason, or a problem it names, in the reader's language (``translate`` is the
    web layer's gettext); text written from no known message is given back as it is."""
    for message in (*REASONS, *PROBLEMS):
        match = _pattern(message).fullmatch(stored)
        if match is None:
            continue
        params = match.groupdict()
        if not params:
            return translate(message)
        return translate(message) % {name: in_words(value, translate)
                                     for name, value in params.items()}
    return stored


@cache
def _pattern(message: str) -> re.Pattern[str]:
    """``message`` as a pattern that matches it filled in, each parameter a named group."""
    # re.split with a group alternates the text between parameters and their names.
    parts = _PARAMETER.split(message)
    return re.compile("".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.*?)"
                              for i, part in enumerate(parts)), re.DOTALL)
