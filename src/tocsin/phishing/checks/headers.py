"""Header signs: authentication results, sender address mismatches, Received anomalies.

Codes (points; share of messages each fires on is measured by bench/phishing_codes.py):

- ``auth.*``: Authentication-Results / ARC of the establishment's own gateway only
  (:mod:`~tocsin.phishing.checks.headers_auth`): ``auth.dmarc-fail`` (30),
  ``auth.spf-fail`` (15), ``auth.spf-softfail`` (5), ``auth.dkim-fail`` (10, no other
  signature passes), ``auth.dmarc-pass`` (-10, DMARC pass for the From domain, not a free
  mail provider), ``auth.untrusted`` (0, results present but from an id not configured).
- ``from.display-address`` (10): the display name shows an address on another domain than
  the real one (``"support@ameli.fr" <x@evil.tld>``).
- ``from.reply-to-freemail`` (20): answers go to a free mailbox (Gmail, Outlook…) while
  From is a domain that is not a free mail provider.
- ``from.reply-to-mismatch`` (5): answers go to another registrable domain than From
  (mailing lists that set Reply-To to their own address excepted).
- ``from.return-path-mismatch`` (0, informative): bounces go to another registrable domain
  than From; as frequent on legitimate bulk mail (lists, mailing services) as on phishing.
- ``received.forged-helo`` (15), ``received.date-future`` (5):
  :mod:`~tocsin.phishing.checks.headers_received`.

Domains are compared by registrable domain (public-suffix aware):
:mod:`~tocsin.phishing.checks.headers_domains`. The Sender header is not compared: on the
corpora it differs from From mostly on legitimate mail (lists, "on behalf of").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tocsin.phishing.checks import CHECKS
from tocsin.phishing.checks.headers_auth import auth_reasons
from tocsin.phishing.checks.headers_domains import domain_of, is_freemail, registrable
from tocsin.phishing.checks.headers_received import date_from_future, forged_helo
from tocsin.phishing.context import Context
from tocsin.phishing.links import Link
from tocsin.phishing.message import Address, ParsedMessage
from tocsin.phishing.model import Reason

_EMAIL = re.compile(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)")
_LIST_HEADERS = ("list-post", "list-id", "list-subscribe", "list-unsubscribe")


def from_address(message: ParsedMessage) -> Address | None:
    """The first From mailbox that has an address (a display name with a bare comma
    splits into several entries)."""
    return next((a for a in message.from_ if domain_of(a.address)), None)


def display_address(sender: Address) -> Iterator[Reason]:
    for match in _EMAIL.finditer(sender.name[:500]):
        shown = match.group(1).lower()
        if registrable(shown) != registrable(sender.domain):
            yield Reason(
                "from.display-address",
                10,
                f"display name shows {match.group(0)} but the address is {sender.address}",
            )
            return


def _list_domains(message: ParsedMessage) -> set[str]:
    """Registrable domains named by the mailing-list headers (addresses and list ids)."""
    found: set[str] = set()
    for name in _LIST_HEADERS:
        for value in message.header(name)[:5]:
            found.update(registrable(d) for d in _EMAIL.findall(value[:1000]))
            found.update(registrable(d) for d in re.findall(r"<([\w.-]+\.[\w-]+)>", value[:1000]))
    return found


def reply_to(message: ParsedMessage, sender: Address) -> Iterator[Reason]:
    own = registrable(sender.domain)
    others = [a for a in message.reply_to if domain_of(a.address)]
    others = [a for a in others if registrable(a.domain) != own]
    if not others:
        return
    free = [a for a in others if is_freemail(a.domain)] if not is_freemail(own) else []
    if free:
        yield Reason(
            "from.reply-to-freemail",
            20,
            f"answers go to {free[0].address}, a free mailbox, not to {sender.domain}",
        )
        return
    lists = _list_domains(message)
    others = [a for a in others if registrable(a.domain) not in lists]
    if others:
        yield Reason(
            "from.reply-to-mismatch",
            5,
            f"answers go to {others[0].address}, not to {sender.domain}",
        )


def return_path(message: ParsedMessage, sender: Address) -> Iterator[Reason]:
    bounce = domain_of(message.return_path)
    if bounce and registrable(bounce) != registrable(sender.domain):
        yield Reason(
            "from.return-path-mismatch",
            0,
            f"bounces go to {bounce}, not to {sender.domain}",
        )


class HeadersCheck:
    name = "headers"

    def run(
        self, message: ParsedMessage, links: tuple[Link, ...], context: Context
    ) -> Iterator[Reason]:
        yield from auth_reasons(message, context)
        sender = from_address(message)
        if sender is not None:
            yield from display_address(sender)
            yield from reply_to(message, sender)
            yield from return_path(message, sender)
        yield from forged_helo(message)
        yield from date_from_future(message)


CHECKS.register(HeadersCheck())
