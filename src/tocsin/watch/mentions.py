"""The inventory's products named in news and alert feeds (generic RSS/Atom items).

A news item has no structured product data: only a title and a text. :class:`MentionIndex`
holds the inventory's vendor and product names as sequences of words;
:meth:`MentionIndex.find` reads an item's title and text once, word by word, and says which
assets it names (:class:`Mention`), with the phrase as it is written and its context.
:func:`news_findings` turns the mentions into findings: name-only, at a low confidence
(:data:`CONFIDENCE`, below every other kind of match, so never ``act_now``), with the
phrase as evidence and the CVEs the item cites (their KEV and EPSS signals count).
docs/matching.md ("News and alert feeds") gives the rules with examples. Pure: no I/O.

Names are compared as words, with case and accents folded ("FortiOS", "fortios",
"FORTIOS" are one name; "Orthanc" is not found in "Orthancs"). Names come from the asset
(its product, the product's key, the name without its trailing version numbers) and from
the alias table (every alias of the product's key under the asset's vendor: a FortiGate
asset is also found as "FortiOS"). Collisions are the main risk, so:

- a name made only of generic words and numbers ("Server", "Gateway 2019") or shorter than
  :data:`MIN_NAME_CHARS` letters never counts;
- a name that is not distinctive (:func:`~tocsin.watch.match.names.is_distinctive`) or whose
  specific words are all common words (:data:`COMMON_WORDS`: "Windows", "Exchange",
  "Teams", "PACS"…) counts only with the asset's vendor named within
  :data:`VENDOR_WINDOW` words ("Microsoft … Exchange Server");
- when another vendor is named right before the product ("Acme Orthanc"), the mention is
  not the asset's product and does not count;
- at each place the longest name wins ("FortiClient EMS" is not also "FortiClient");
- an asset without a product (named only by its own name, "Pare-feu DMZ") is not looked for.

Speed: the names are a dictionary of word sequences, so an item costs one pass over its
words with a few dictionary look-ups per word, whatever the size of the inventory.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from tocsin.inventory.normalise import AliasTable, fold, generic_word
from tocsin.model.advisory import Advisory, Exploitation
from tocsin.model.finding import Finding, MatchKind
from tocsin.model.inventory import Asset
from tocsin.watch.match.merge import signals_for
from tocsin.watch.match.names import is_distinctive
from tocsin.watch.priority import DEFAULT_POLICY, PriorityPolicy, prioritise
from tocsin.watch.sources.rss import cves_in

__all__ = [
    "COMMON_WORDS",
    "CONFIDENCE",
    "MAX_WORDS",
    "MIN_NAME_CHARS",
    "NEWS_DAYS",
    "VENDOR_WINDOW",
    "Mention",
    "MentionIndex",
    "news_findings",
    "words",
]

CONFIDENCE = {"vendor": 0.35, "name": 0.3}  # vendor named near the product, or not
NEWS_DAYS = 90  # how long a news item keeps its findings open (``since`` of the service)
MIN_NAME_CHARS = 4  # letters and digits of a name, spaces aside
MAX_WORDS = 8  # the longest name looked for, in words
VENDOR_WINDOW = 12  # words between a common-word product name and its vendor
_CONTEXT_CHARS = 60
_MAX_EVIDENCE_PHRASE = 80
# Product names that are also everyday words, in English, French or in hospitals: alone
# they name nothing; next to their vendor they do.
COMMON_WORDS = frozenset(
    """
    windows office exchange teams outlook word excel access edge chrome sharepoint project
    visio defender dynamics azure intune skype lync notes domino connect connections sentinel
    guardian vision pulse secure spring struts log4j express react angular vue next nuxt
    zoom slack jira confluence bamboo crowd fisheye jenkins docker kubernetes helm apache
    tomcat nginx openssl openssh bash curl git python java node ruby perl php go rust
    epic cerner meditech allscripts pacs ris his lis dpi emr ehr hl7 dicom fhir
    carestream agfa vue motion sigma alaris plum spectrum infinity apollo horizon
    unity centricity enterprise explorer navigator commander director manager center
    orion citadel fortress shield armor wall gate bridge tower beacon pilot
    mail messenger player reader writer viewer server cloud box drop one drive
    """.split()
)
_WORD = re.compile(r"[a-z0-9]+")


# -- words ------------------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """One character folded to one: lower-case ASCII letter or digit, else a space."""
    if char.isascii():
        return char.lower() if char.isalnum() else " "
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return base.lower() if len(base) == 1 and base.isascii() and base.isalnum() else " "


def _folded(text: str) -> str:
    """``text`` folded character by character: the same length, so positions carry over."""
    if text.isascii():
        return text.lower()  # the word pattern skips everything but letters and digits
    return "".join(_fold_char(c) for c in text)


def words(text: str) -> tuple[str, ...]:
    """The folded words of ``text`` ("FortiOS 7.2" → fortios, 7, 2)."""
    return tuple(_WORD.findall(_folded(text)))


def _key_words(key: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(key.replace("_", " ")))


# -- the index --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Name:
    """A product name looked for: which product it names, and whether it may count alone."""

    vendor: str | None
    product: str
    alone: bool
    release: tuple[str, ...] = ()  # numbers dropped from the end of the name as written


@dataclass
class MentionIndex:
    """The inventory's product and vendor names as word sequences, ready to look for."""

    products: dict[tuple[str, ...], list[_Name]] = field(default_factory=dict)
    vendors: dict[tuple[str, ...], set[str]] = field(default_factory=dict)
    assets: dict[tuple[str | None, str], list[Asset]] = field(default_factory=dict)
    _first_words: set[str] = field(default_factory=set)
    _vendor_first_words: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, assets: Iterable[Asset], aliases: AliasTable) -> MentionIndex:
        """The index of ``assets`` (normalised: vendor_key and product_key filled in)."""
        index = cls()
        product_aliases = _product_aliases(aliases)
        for vendor_alias, vendor_key in aliases.vendors.items():
            index._add_vendor(_key_words(vendor_alias), vendor_key)
        assets = list(assets)
        for asset in assets:
            if asset.vendor_key:
                index._add_vendor(_key_words(asset.vendor_key), asset.vendor_key)
                index._add_vendor(words(asset.vendor or ""), asset.vendor_key)
        written: set[tuple[str | None, str, str]] = set()
        for asset in assets:
            if not asset.product:
                continue  # a product named only by the asset's name: too loose for news
            vendor = asset.vendor_key
            product = asset.product_key or fold(asset.product)
            if not product:
                continue
            as_written = asset.product
            if (vendor, product, as_written) not in written:
                written.add((vendor, product, as_written))
                index._add_product(vendor, product, as_written, product_aliases)
            index.assets.setdefault((vendor, product), []).append(asset)
        return index

    def _add_vendor(self, name: tuple[str, ...], vendor_key: str) -> None:
        if name and sum(map(len, name)) >= 2:
            self.vendors.setdefault(name, set()).add(vendor_key)
            self._vendor_first_words.add(name[0])

    def _add_product(
        self,
        vendor: str | None,
        product: str,
        as_written: str,
        product_aliases: Mapping[tuple[str, str], set[str]],
    ) -> None:
        full = {_key_words(product), words(as_written)}
        if vendor is not None:
            full |= {_key_words(a) for a in product_aliases.get((vendor, product), ())}
            # "Microsoft Exchange" names its vendor itself: "Exchange" is looked for too
            full |= {_without_vendor(n, self.vendors, vendor) for n in full}
        names: dict[tuple[str, ...], tuple[str, ...]] = dict.fromkeys(full, ())
        for name in full:
            base = _without_trailing_numbers(name)
            if base != name:
                names.setdefault(base, name[len(base) :])
        for name, release in names.items():
            kind = _name_kind(name)
            if kind is None or len(name) > MAX_WORDS:
                continue
            entries = self.products.setdefault(name, [])
            entry = _Name(vendor, product, kind, release)
            if entry not in entries:
                entries.append(entry)
            self._first_words.add(name[0])

    def find(self, title: str, text: str = "") -> list[Mention]:
        """The assets ``title`` and ``text`` name, one mention per asset, in reading order."""
        whole = f"{title}\n{text}" if text else title
        folded = _folded(whole)
        spans = [(m.start(), m.end()) for m in _WORD.finditer(folded)]
        tokens = [folded[a:b] for a, b in spans]
        vendors = self._vendor_places(tokens)
        found: dict[str, Mention] = {}
        for start, length, names in self._product_places(tokens):
            for name in names:
                end = start + length
                near = _vendor_near(vendors, name.vendor, start, end)
                if not _counts(name, near, vendors, start) or _other_release(name, tokens, end):
                    continue
                phrase = whole[spans[start][0] : spans[start + length - 1][1]]
                for asset in self.assets.get((name.vendor, name.product), ()):
                    if asset.id not in found:
                        found[asset.id] = Mention(
                            asset=asset,
                            phrase=phrase[:_MAX_EVIDENCE_PHRASE],
                            context=_context(whole, spans[start][0], spans[start + length - 1][1]),
                            vendor_named=near,
                        )
        return list(found.values())

    def _vendor_places(self, tokens: Sequence[str]) -> dict[int, tuple[int, set[str]]]:
        """Where vendors are named: start → (end, vendor keys), longest name first."""
        places: dict[int, tuple[int, set[str]]] = {}
        for start, token in enumerate(tokens):
            if token not in self._vendor_first_words:
                continue
            for length in range(min(MAX_WORDS, len(tokens) - start), 0, -1):
                keys = self.vendors.get(tuple(tokens[start : start + length]))
                if keys:
                    places[start] = (start + length, keys)
                    break
        return places

    def _product_places(self, tokens: Sequence[str]) -> Iterator[tuple[int, int, list[_Name]]]:
        """(start, length, names) of product names, leftmost and longest, not overlapping."""
        start = 0
        while start < len(tokens):
            if tokens[start] in self._first_words:
                for length in range(min(MAX_WORDS, len(tokens) - start), 0, -1):
                    names = self.products.get(tuple(tokens[start : start + length]))
                    if names:
                        yield start, length, names
                        start += length
                        break
                else:
                    start += 1
            else:
                start += 1


@dataclass(frozen=True)
class Mention:
    """An asset named in an item: the phrase as written, a little text around it, and
    whether its vendor is named near it."""

    asset: Asset
    phrase: str
    context: str
    vendor_named: bool

    @property
    def confidence(self) -> float:
        return CONFIDENCE["vendor" if self.vendor_named else "name"]

    @property
    def evidence(self) -> str:
        return f'named in the news: "{self.phrase}" in "{self.context}"'


def _product_aliases(aliases: AliasTable) -> dict[tuple[str, str], set[str]]:
    """(vendor key, product key) → the folded aliases of that product."""
    found: dict[tuple[str, str], set[str]] = {}
    for vendor, table in aliases.products.items():
        for alias, canonical in table.items():
            found.setdefault((vendor, fold(canonical)), set()).add(alias)
    return found


def _without_trailing_numbers(name: tuple[str, ...]) -> tuple[str, ...]:
    """ "windows server 2019" → "windows server"; a name of numbers only stays as it is."""
    end = len(name)
    while end > 1 and name[end - 1].isdigit():
        end -= 1
    return name[:end]


def _without_vendor(
    name: tuple[str, ...], vendors: Mapping[tuple[str, ...], set[str]], vendor: str
) -> tuple[str, ...]:
    """The name without its vendor's name in front ("microsoft exchange" → "exchange")."""
    for length in range(len(name) - 1, 0, -1):
        if vendor in vendors.get(name[:length], ()):
            return name[length:]
    return name


def _name_kind(name: tuple[str, ...]) -> bool | None:
    """True: the name counts alone; False: only with its vendor near; None: never."""
    if not name or sum(len(w) for w in name) < MIN_NAME_CHARS:
        return None
    specific = [w for w in name if not generic_word(w)]
    if not specific:
        return None
    if all(w in COMMON_WORDS for w in specific):
        return False
    return is_distinctive("_".join(name))


def _vendor_near(
    vendors: Mapping[int, tuple[int, set[str]]], vendor: str | None, start: int, end: int
) -> bool:
    """Whether ``vendor`` is named within :data:`VENDOR_WINDOW` words of [start, end), outside
    the name itself ("Zoom" names no vendor for a product "Zoom")."""
    if vendor is None:
        return False
    for place, (stop, keys) in vendors.items():
        inside = place >= start and stop <= end
        if vendor in keys and not inside and start - VENDOR_WINDOW < stop:
            if place < end + VENDOR_WINDOW:
                return True
    return False


def _counts(
    name: _Name, vendor_near: bool, vendors: Mapping[int, tuple[int, set[str]]], start: int
) -> bool:
    """The collision rules of the module docstring for one place of one name."""
    if not name.alone and not vendor_near:
        return False
    for stop, keys in vendors.values():
        if stop == start and name.vendor is not None and name.vendor not in keys:
            return False  # another vendor right before: another vendor's product
    return True


def _other_release(name: _Name, tokens: Sequence[str], end: int) -> bool:
    """Whether the text gives another release right after a name found without its own
    ("Windows Server 2016" for a "Windows Server 2019" asset)."""
    if not name.release or end >= len(tokens) or not tokens[end].isdigit():
        return False
    return tuple(tokens[end : end + len(name.release)]) != name.release


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _context(text: str, start: int, end: int) -> str:
    left = max(0, start - _CONTEXT_CHARS)
    right = min(len(text), end + _CONTEXT_CHARS)
    snippet = " ".join(text[left:right].split())
    return ("…" if left else "") + snippet + ("…" if right < len(text) else "")


# -- findings ---------------------------------------------------------------------------------
def news_findings(
    index: MentionIndex,
    items: Iterable[Advisory],
    *,
    enrichments: Mapping[str, Exploitation] | None = None,
    policy: PriorityPolicy = DEFAULT_POLICY,
    matched: Iterable[Finding] = (),
    since: datetime | None = None,
) -> list[Finding]:
    """A name-only finding for each asset each item names, most urgent first.

    ``items`` are news items (advisories of the ``rss`` source); items published before
    ``since`` are left out (an item without a date is kept). ``enrichments`` gives the KEV
    and EPSS signals of the CVEs the items cite; ``matched`` the findings of the matching
    engine: an item whose CVEs all hit the asset already adds nothing to them.
    """
    found: list[Finding] = []
    signals_of = enrichments or {}
    already: set[tuple[str, str]] = set()
    for finding in matched:
        already.update((finding.asset, cve) for cve in (*finding.cves, finding.advisory))
    for item in items:
        moment = item.published or item.modified
        if since is not None and moment is not None and _aware(moment) < _aware(since):
            continue
        cves = item.cves or cves_in(item.title, item.summary)
        mentions = index.find(item.title, item.summary)
        if not mentions:
            continue
        signals = signals_for(item, signals_of, {})
        for mention in mentions:
            asset = mention.asset
            if (asset.id, item.id) in already:
                continue  # the engine found this item itself
            if cves and all((asset.id, cve) in already for cve in cves):
                continue
            priority = prioritise(asset, signals, mention.confidence, policy)
            found.append(
                Finding(
                    asset=asset.id,
                    advisory=item.id,
                    cves=cves,
                    match=MatchKind.NAME_ONLY,
                    confidence=mention.confidence,
                    evidence=mention.evidence,
                    kev=signals.exploitation.kev,
                    epss=signals.exploitation.epss,
                    decision=priority.decision,
                    score=priority.score,
                    reasons=priority.reasons,
                    asset_name=asset.name,
                    title=item.title,
                    source=item.source,
                    due_days=priority.due_days,
                )
            )
    found.sort(key=lambda f: (-f.decision.rank, -f.score, f.asset, f.advisory))
    return found
