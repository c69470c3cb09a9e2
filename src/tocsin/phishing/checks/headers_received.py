"""Received chain anomalies worth points, measured on ../shared/data/mail (bench/phishing_codes.py).

Kept (they separate phishing and spam from ham):

- a hop whose HELO names a big mail provider (Gmail, Outlook, Yahoo, iCloud, PayPal…) while
  the reverse DNS of the connecting address, written by the receiving server, is another
  domain or ``unknown``: those providers' servers always resolve to their own names;
- a Date header written hours *after* the newest Received timestamp (a message from the
  future: forged or sent by a badly set machine).

Dropped after measuring: dates going backwards along the chain (as frequent in hard-ham as in
phishing), chains of zero or one Received header (a property of how a collection was saved,
not of phishing), counts of hops.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime

from tocsin.phishing.checks.headers_domains import registrable
from tocsin.phishing.message import ParsedMessage
from tocsin.phishing.model import Reason

MAX_HOPS = 50
FUTURE_HOURS = 6
_PROVIDERS = (
    ("google", {"gmail.com", "google.com", "googlemail.com"}),
    (
        "microsoft",
        {"outlook.com", "hotmail.com", "hotmail.fr", "live.com", "msn.com", "microsoft.com"}
        | {"office365.com", "outlook.fr"},
    ),
    ("yahoo", {"yahoo.com", "yahoo.fr", "yahoodns.net", "yahoo.net"}),
    ("apple", {"icloud.com", "apple.com", "me.com", "mac.com"}),
    ("paypal", {"paypal.com"}),
    ("amazon", {"amazon.com", "amazonses.com"}),
)
_FAMILY = {domain: family for family, domains in _PROVIDERS for domain in domains}
_FROM = re.compile(r"^\s*from\s+(\S+)\s*(?:\(([^()]*(?:\([^()]*\)[^()]*)*)\))?", re.IGNORECASE)
_HELO = re.compile(r"\bhelo\s*=\s*([^\s)\]]+)", re.IGNORECASE)
_HOST = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+$")


def _hop(value: str) -> tuple[str, str] | None:
    """(HELO, reverse DNS) of a Received header, when its form gives both."""
    match = _FROM.match(value)
    if not match:
        return None
    first, inside = match.group(1).lower().strip("[]"), (match.group(2) or "").lower()
    helo = _HELO.search(inside)
    if helo:  # Exim: "from RDNS ([IP] helo=HELO)"
        return helo.group(1).strip("[]"), first
    if "[" not in inside:  # no address in brackets: not the Postfix/Sendmail form
        return None
    words = inside.split("[", 1)[0].split()  # Postfix, Sendmail: "from HELO (RDNS [IP])"
    return first, (words[0] if words else "")


def forged_helo(message: ParsedMessage) -> Iterator[Reason]:
    for value in message.header("received")[:MAX_HOPS]:
        hop = _hop(value)
        if hop is None:
            continue
        helo, rdns = hop
        family = _FAMILY.get(registrable(helo)) if _HOST.match(helo) else None
        if family is None or not rdns:
            continue
        if rdns == "unknown" or (_HOST.match(rdns) and _FAMILY.get(registrable(rdns)) != family):
            yield Reason(
                "received.forged-helo",
                15,
                f"a server presented itself as {helo} but its address resolves to {rdns}",
            )
            return


def _when(value: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return moment if moment.tzinfo is not None else None


def date_from_future(message: ParsedMessage) -> Iterator[Reason]:
    received = message.header("received")
    written = _when(message.first("date"))
    if not received or written is None:
        return
    delivered = _when(received[0].rpartition(";")[2])
    if delivered is None:
        return
    ahead = (written - delivered).total_seconds() / 3600
    if ahead > FUTURE_HOURS:
        yield Reason(
            "received.date-future",
            5,
            f"Date header {ahead:.0f} hours after the last Received timestamp",
        )
