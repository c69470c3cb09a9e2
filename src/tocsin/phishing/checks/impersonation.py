"""Impersonation: a message that wears the name of a brand, of the establishment's own
executives and services, or a domain made to look like theirs.

Brands are data (``tocsin/data/phishing/brands.toml``): the names that designate them and
their own domains. Signs:

- ``imp.brand-name``: the From display name names a brand (``Assurance Maladie``,
  ``PayPaI``) and the From domain is not one of the brand's.
- ``imp.brand-subject``: the subject names a brand that does not send it (fewer points:
  newsletters talk about brands).
- ``imp.executive``: the display name is one of ``context.executives`` (``Direction
  générale``, ``DSI``) and the address is outside the establishment's own domains.
- ``imp.own-lookalike-sender`` / ``imp.own-lookalike-link``: the From, Sender, Reply-To or
  Return-Path domain, or a link's host, imitates one of ``context.own_domains``.
- ``imp.lookalike-sender`` / ``imp.lookalike-link``: the same for a brand's domains.

How a domain imitates another (homoglyphs, typos, added words, other TLD, domain in a
subdomain) is :func:`tocsin.phishing.checks.domains.lookalike`.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel, ConfigDict, ValidationError

from tocsin.data import data_path
from tocsin.errors import ConfigError, Location
from tocsin.phishing.checks import CHECKS
from tocsin.phishing.checks.domains import Lookalike, fold, imitation, split, under
from tocsin.phishing.context import Context
from tocsin.phishing.links import Link
from tocsin.phishing.message import Address, ParsedMessage
from tocsin.phishing.model import Reason

POINTS = {
    "imp.brand-name": 30,
    "imp.brand-subject": 10,
    "imp.executive": 35,
    "imp.mixed-script": 25,
    "imp.own-lookalike-sender": 60,
    "imp.own-lookalike-link": 45,
    "imp.lookalike-sender": 40,
    "imp.lookalike-link": 30,
}
"""Points per reason code of this family."""

MAX_HOSTS = 50  # link hosts compared per message (the first ones, distinct)


@dataclass(frozen=True)
class Brand:
    """One brand: the folded names that designate it and its domains."""

    name: str
    names: tuple[str, ...]  # folded (:func:`fold`)
    domains: frozenset[str]
    lookalike: frozenset[str]
    any_tld: bool = False
    subject: bool = True

    def named_in(self, text: str) -> str | None:
        """The first of the brand's names that ``text`` contains as whole words."""
        padded = f" {fold(text)} "
        return next((name for name in self.names if f" {name} " in padded), None)


class _BrandEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    names: list[str]
    domains: list[str]
    lookalike: list[str] | None = None
    any_tld: bool = False
    subject: bool = True


class _BrandsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    brand: list[_BrandEntry]


def parse_brands(text: str, origin: str = "brands.toml") -> tuple[Brand, ...]:
    """The brands of a ``brands.toml`` text; :class:`ConfigError` with the place if invalid."""
    try:
        parsed = _BrandsFile.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", Location(origin)) from exc
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"invalid brand: {first['msg']}", Location(origin, field=field)) from exc
    brands = []
    for entry in parsed.brand:
        domains = frozenset(d.lower() for d in entry.domains)
        names = tuple(dict.fromkeys(f for f in map(fold, entry.names) if f))
        brands.append(
            Brand(
                name=entry.name,
                names=names,
                domains=domains,
                lookalike=frozenset(d.lower() for d in entry.lookalike or domains),
                any_tld=entry.any_tld,
                subject=entry.subject,
            )
        )
    return tuple(brands)


@cache
def bundled_brands() -> tuple[Brand, ...]:
    """The brands shipped with Tocsin."""
    return parse_brands(data_path("phishing", "brands.toml").read_text("utf-8"))


def _senders(message: ParsedMessage) -> list[tuple[str, str]]:
    """(header, domain) of every sending identity: From, Sender, Reply-To, Return-Path."""
    found: list[tuple[str, str]] = []
    for header, addresses in (
        ("From", message.from_),
        ("Sender", message.sender),
        ("Reply-To", message.reply_to),
    ):
        found.extend((header, a.domain) for a in addresses if a.domain)
    path = message.return_path.strip().strip("<>")
    if "@" in path:
        found.append(("Return-Path", path.rpartition("@")[2].lower()))
    return list(dict.fromkeys(found))


def _link_hosts(links: Iterable[Link]) -> list[str]:
    hosts = dict.fromkeys(link.host for link in links if link.host)
    return list(hosts)[:MAX_HOSTS]


def _reason(code: str, detail: str) -> Reason:
    return Reason(code, POINTS[code], detail[:500])


class ImpersonationCheck:
    name = "impersonation"

    def __init__(self, brands: tuple[Brand, ...] | None = None) -> None:
        self._brands = brands

    @property
    def brands(self) -> tuple[Brand, ...]:
        return self._brands if self._brands is not None else bundled_brands()

    def run(
        self, message: ParsedMessage, links: tuple[Link, ...], context: Context
    ) -> Iterator[Reason]:
        sender = message.sender_address
        if sender is not None:
            if not sender.name and "@" not in sender.address:  # From: Microsoft (no address)
                sender = Address(sender.address, "")
            yield from self._names(sender, message.subject, context)
            yield from _executive(sender, context)
        yield from _mixed_scripts(sender.name if sender else "", message.subject)
        yield from self._lookalikes(message, links, context)

    def _names(self, sender: Address, subject: str, context: Context) -> Iterator[Reason]:
        domain = sender.domain
        if under(domain, context.own_domains):
            return
        where = f"sent from {domain or 'no domain'}"
        for brand in self.brands:
            if under(domain, brand.domains):
                return  # the brand itself writing about itself or others
        for brand in self.brands:
            named = brand.named_in(sender.name) if sender.name else None
            if named:
                detail = f'display name "{sender.name}" names {brand.name}, {where}'
                yield _reason("imp.brand-name", detail)
                return
        for brand in self.brands:
            named = brand.named_in(subject) if brand.subject and subject else None
            if named:
                yield _reason("imp.brand-subject", f"subject names {brand.name}, {where}")
                return

    def _lookalikes(
        self, message: ParsedMessage, links: tuple[Link, ...], context: Context
    ) -> Iterator[Reason]:
        legit = frozenset().union(*(b.domains for b in self.brands)) | context.own_domains
        senders = [(f"{header} domain", domain) for header, domain in _senders(message)]
        hosts = [("link host", host) for host in _link_hosts(links)]
        for items, kind in ((senders, "sender"), (hosts, "link")):
            own, brand = self._imitations(items, context, legit)
            if own:
                yield _reason(f"imp.own-lookalike-{kind}", _describe(own))
            if brand:
                yield _reason(f"imp.lookalike-{kind}", _describe(brand))

    def _imitations(
        self, items: list[tuple[str, str]], context: Context, legit: frozenset[str]
    ) -> tuple[list[tuple[str, Lookalike]], list[tuple[str, Lookalike]]]:
        own: list[tuple[str, Lookalike]] = []
        brand: list[tuple[str, Lookalike]] = []
        for where, host in items:
            if under(host, legit):
                continue
            domain = split(host)
            found = imitation(domain, context.own_domains)
            if found is not None:
                own.append((where, found))
                continue
            for each in self.brands:
                found = imitation(domain, each.lookalike, any_tld=each.any_tld)
                if found is not None:
                    brand.append((where, found))
                    break
        return own, brand


def _describe(found: list[tuple[str, Lookalike]]) -> str:
    shown = [f"{where} {m.host} imitates {m.target} ({m.kind.value})" for where, m in found[:3]]
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    return "; ".join(shown) + more


def _script(char: str) -> str:
    """ "latin", "cyrillic", "greek" or "" for any other character."""
    if not char.isalpha():
        return ""
    if char.isascii():
        return "latin"
    name = unicodedata.name(char, "")
    return next((s.lower() for s in ("LATIN", "CYRILLIC", "GREEK") if name.startswith(s)), "")


def _mixed_word(text: str) -> str | None:
    """The first word of ``text`` mixing Latin letters with Cyrillic or Greek ones."""
    for word in text.split()[:100]:
        scripts = {_script(c) for c in word[:100]} - {""}
        if "latin" in scripts and len(scripts) > 1:
            return word
    return None


def _mixed_scripts(name: str, subject: str) -> Iterator[Reason]:
    """Latin words with Cyrillic or Greek look-alike letters (``Yоur`` with a Cyrillic о)."""
    for where, text in (("display name", name), ("subject", subject)):
        word = _mixed_word(text)
        if word:
            detail = f'{where} word "{word}" mixes Latin with Cyrillic or Greek letters'
            yield _reason("imp.mixed-script", detail)
            return


def _executive(sender: Address, context: Context) -> Iterator[Reason]:
    if not sender.name or not context.executives or under(sender.domain, context.own_domains):
        return
    padded = f" {fold(sender.name)} "
    for executive in context.executives:
        folded = fold(executive)
        if folded and f" {folded} " in padded:
            detail = (
                f'display name "{sender.name}" names {executive} of the establishment, '
                f"sent from outside: {sender.address or 'no address'}"
            )
            yield _reason("imp.executive", detail)
            return


CHECKS.register(ImpersonationCheck())
