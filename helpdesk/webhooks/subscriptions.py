"""Adding, changing, stopping and deleting subscriptions (the administrators' page calls
these)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote, urlsplit, urlunsplit

import idna
from marshmallow import ValidationError
from sqlalchemy import select

from helpdesk.core.errors import InvalidInput
from helpdesk.core.i18n import N_
from helpdesk.extensions import db
from helpdesk.tickets.schemas import TOO_LONG, storable
from helpdesk.tiers.models import SupportGroup
from helpdesk.webhooks.events import EVENTS
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription

ADDRESS = N_("Give an http:// or https:// address.")
CREDENTIALS = N_("The address may not contain a user name or password.")
BACKSLASH = N_("The address may not contain a backslash (\\).")
HOST_NAME = N_("The address's host name is not a valid domain name.")
UNKNOWN_GROUP = N_("Choose groups from the list.")
# What DNS and the Host header take (an underscore too, as in some internal names), a
# label at a time: 1 to 63 characters.
_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
# Every printable ASCII character stays as it is (a %-escape already typed too): only
# what is not ASCII is escaped, which http.client could not send.
_KEPT = "".join(chr(code) for code in range(0x21, 0x7F))
# An address's scheme and what comes before an "@" in its authority (as urlsplit reads it:
# up to the first "/", "?" or "#").
_USER_INFO = re.compile(r"^([^:/?#]+://)[^/?#]*@")


class UnusableAddress(ValueError):
    """An address no delivery could be posted to; ``message`` says why (to translate)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def add_subscription(*, name: str, url: str, events: list[str], now: datetime,
                     groups: Sequence[str] = (), secret: str | None = None
                     ) -> WebhookSubscription:
    """``groups``: the codes of the support groups whose tickets it is sent (see
    events.ticket_groups); none, every ticket."""
    name, url, events, group_codes = _checked(name, url, events, groups)
    subscription = WebhookSubscription(name=name, url=url, secret=secret or _fresh_secret(),
                                       events=events, group_codes=group_codes, active=True,
                                       created_at=now)
    db.session.add(subscription)
    db.session.flush()
    return subscription


def edit_subscription(subscription: WebhookSubscription, *, name: str, url: str,
                      events: list[str], groups: Sequence[str]) -> None:
    """A new name, address, events or groups, checked as when it was added (``groups``
    has no default: a change that forgot them would send every ticket). Deliveries already
    queued are posted to the new address: they are read through the subscription as they
    go out, and an administrator who corrects an address wants them to arrive there. They
    are posted even if their event or group is no longer chosen, as the receiver wanted
    them when they were queued."""
    (subscription.name, subscription.url, subscription.events,
     subscription.group_codes) = _checked(name, url, events, groups)
    db.session.flush()


def replace_secret(subscription: WebhookSubscription) -> str:
    """A fresh secret, which signs every post from now on: retries of deliveries queued
    before too, as each post is signed when it goes out."""
    subscription.secret = _fresh_secret()
    db.session.flush()
    return subscription.secret


def delete_subscription(subscription: WebhookSubscription) -> None:
    """The subscription and every delivery for it, sent or not. A delivery being posted
    at this moment still reaches the receiver; its outcome then updates no row.

    The deliveries go by the foreign key's ON DELETE CASCADE, not by a DELETE of our own
    first: a ticket change that read the subscription as active may queue a delivery after
    that DELETE and before this one, and its delivery would then be left behind, breaking
    the key (IntegrityError). The change holds the subscription FOR KEY SHARE from its
    read (events._active_subscriptions), so this waits for it to commit and the cascade
    takes its delivery too; a change that comes after this waits for our commit, and then
    no longer sees the subscription."""
    db.session.delete(subscription)
    db.session.flush()


def _fresh_secret() -> str:
    return secrets.token_urlsafe(32)


def _checked(name: str, url: str, events: list[str], groups: Sequence[str]
             ) -> tuple[str, str, list[str], list[str]]:
    """A subscription's name, address, events and groups as they are kept; InvalidInput
    names each field that cannot be."""
    errors: dict[str, list[str]] = {}
    name, url = name.strip(), url.strip()
    if not name:
        errors["name"] = [N_("This field is required.")]
    elif len(name) > 100:
        errors["name"] = [TOO_LONG]
    elif (problem := _unstorable(name)) is not None:
        errors["name"] = [problem]
    try:
        url = deliverable_address(url)
    except UnusableAddress as exc:
        errors["url"] = [exc.message]
    if not events or any(e not in EVENTS for e in events):
        errors["events"] = [N_("Choose at least one event.")]
    group_codes = sorted(set(groups))
    if group_codes and len(group_codes) != len(db.session.scalars(
            select(SupportGroup.code).where(SupportGroup.code.in_(group_codes))).all()):
        errors["groups"] = [UNKNOWN_GROUP]
    if errors:
        raise InvalidInput(errors)
    return name, url, sorted(set(events)), group_codes


def _unstorable(text: str) -> str | None:
    try:
        storable(text)
    except ValidationError as exc:
        return str(exc.messages[0])
    return None


def deliverable_address(url: str) -> str:
    """``url`` as the sender posts to it: its host in IDNA (punycode), what is not ASCII in
    its path and query %-escaped. Checked here, once, rather than failing at every delivery;
    raises UnusableAddress."""
    if any(c.isspace() or not c.isprintable() for c in url):
        raise UnusableAddress(ADDRESS)
    # A browser reads a backslash as a slash: http://a\@b/ would be shown going to a, and
    # posted to b.
    if "\\" in url:
        raise UnusableAddress(BACKSLASH)
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when it is not a number from 0 to 65535
    except ValueError:  # e.g. "http://[::1/hook", an IPv6 address not closed
        raise UnusableAddress(ADDRESS) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        raise UnusableAddress(ADDRESS)
    # urllib takes no login from an address (its post would fail), and the page would show
    # them to every administrator.
    if "@" in parts.netloc:
        raise UnusableAddress(CREDENTIALS)
    host = _looked_up_name(parts.hostname)
    netloc = host if port is None else f"{host}:{port}"
    normalised = urlunsplit((parts.scheme, netloc, quote(parts.path, safe=_KEPT),
                             quote(parts.query, safe=_KEPT), quote(parts.fragment, safe=_KEPT)))
    if len(normalised) > 500:  # the column's length: cut, it would be another address
        raise UnusableAddress(TOO_LONG)
    return normalised


def _looked_up_name(host: str) -> str:
    """``host`` as DNS and the Host header take it (urlsplit has made it lower case)."""
    if ":" in host:  # an IPv6 address, which urlsplit has checked
        return f"[{host}]"
    try:
        # The current rules (IDNA 2008, UTS 46); too long or empty labels are refused.
        name = host if host.isascii() else idna.encode(host, uts46=True).decode("ascii")
    except UnicodeError:  # the idna package's errors are UnicodeErrors too
        raise UnusableAddress(HOST_NAME) from None
    # Checked after IDNA: its mapping may make a "." or an "@" of another character.
    labels = name.lower().removesuffix(".").split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise UnusableAddress(HOST_NAME)
    return name.lower()


def shown_address(url: str) -> str:
    """``url`` for the page: a user name and password in it (kept from before they were
    refused) are not shown."""
    return _USER_INFO.sub(r"\1…@", url)


def set_active(subscription: WebhookSubscription, active: bool) -> None:
    """Stopped or started by hand: why the sender stopped it no longer applies."""
    subscription.active = active
    subscription.stopped_reason = subscription.stopped_at = None
    db.session.flush()


def all_subscriptions() -> list[WebhookSubscription]:
    return list(db.session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


def recent_deliveries(limit: int = 100) -> list[WebhookDelivery]:
    return list(db.session.scalars(
        select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)))
