"""The advisories, prepared once for any number of inventories: a :class:`Corpus`.

What an advisory says does not depend on the inventory it is matched with, so the work
that reads it is done once, when the corpus is prepared, and shared by every match (each
establishment of a region, each run of ``tocsin watch match`` over the same feeds):

- advisories with the same id are merged (:func:`~tocsin.watch.match.merge.merge_advisories`);
- each affected entry's names are resolved into name forms (:mod:`.names`: alias table,
  editions, releases, families, models), its CPEs read into (vendor, product) keys, its
  purl into a package key, and its version ranges compiled (:class:`~.versions.RangeSet`:
  bounds parsed once for each scheme that can read them);
- NVD configurations lose their wildcard criteria and give their vulnerable products;
- postings map every key (name form, CPE vendor/product, configuration product, package)
  to the advisories that state it.

Matching then starts from the inventory's side: the keys of its profiles, looked up in the
postings, give the only advisories worth reading (:meth:`Corpus.candidates`); an advisory
none of whose keys an inventory has costs nothing. This is the counterpart of the database
other matchers build before they run (cve-bin-tool's, from NVD): bench/README.md times the
two steps apart.

A corpus is tied to the alias table its names were resolved with: the matcher refuses a
corpus prepared with another one. Pure: no I/O; a corpus is read-only once built.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from tocsin.errors import InputError
from tocsin.inventory.normalise import AliasTable
from tocsin.model.advisory import Advisory, AffectedProduct, CpeConfiguration
from tocsin.watch.match.evidence import cpe_names, vulnerable_products, without_wildcards
from tocsin.watch.match.merge import merge_advisories, signals_for
from tocsin.watch.match.names import NameResolver, ProductName
from tocsin.watch.match.purl import PurlKey, purl_key
from tocsin.watch.match.versions import RangeSet
from tocsin.watch.priority import Signals

__all__ = ["Corpus", "PreparedAdvisory", "PreparedEntry", "prepare_entry"]

CpeKey = tuple[str, str]
K = TypeVar("K")


@dataclass(frozen=True, slots=True, eq=False)
class PreparedEntry:
    """One affected entry, read once: its package, CPE keys, names and compiled ranges."""

    entry: AffectedProduct
    package: PurlKey | None
    cpes: tuple[tuple[str, CpeKey], ...]  # (CPE text, (vendor, product)) of plain CPEs
    names: tuple[ProductName, ...]  # its own name first, then its CPEs' names
    ranges: RangeSet

    def form_keys(self) -> Iterator[str]:
        for name in self.names:
            for form in name.forms:
                yield form.key


@dataclass(frozen=True, slots=True, eq=False)
class PreparedAdvisory:
    """An advisory with its configurations stripped of wildcards and its entries read."""

    advisory: Advisory
    configurations: tuple[CpeConfiguration, ...]
    products: frozenset[CpeKey]  # the vulnerable products of its configurations
    entries: tuple[PreparedEntry, ...]
    # Its signals for the priority model before enrichments (:func:`signals_for` with the
    # advisories it is prepared with); equal signals are one object in a corpus.
    signals: Signals
    # The identities of its entries: the key the matcher's memo knows a list of entries by
    # (equal entries are one object in a corpus), made once rather than per match.
    shape: tuple[int, ...]


def prepare_entry(entry: AffectedProduct, resolver: NameResolver) -> PreparedEntry:
    """Read one entry: what the matcher would otherwise redo for every inventory."""
    package: PurlKey | None = None
    if entry.purl:
        try:
            package = purl_key(entry.purl)
        except InputError:
            package = None
    cpes = tuple((text, key) for text in entry.cpes if (key := cpe_names(text)) is not None)
    own = resolver.resolve(entry.vendor, entry.product)
    names = [own] if own is not None else []
    for _, (vendor, product) in cpes:
        name = resolver.resolve(vendor, product)
        # A CPE of another release than the entry's own name is the record's mistake
        # (Microsoft lists windows_10_1809 under "Windows 10 Version 1803").
        if name is not None and not (
            own is not None and own.release and name.release and own.release != name.release
        ):
            names.append(name)
    return PreparedEntry(entry, package, cpes, tuple(names), RangeSet.of(entry.ranges))


def prepare_advisory(
    advisory: Advisory,
    resolver: NameResolver,
    interned: dict[AffectedProduct, PreparedEntry] | None = None,
    related: Mapping[str, Advisory] | None = None,
) -> PreparedAdvisory:
    """Read one advisory. With ``interned``, equal entries of different advisories (CNAs
    repeat the same product and ranges over many CVEs: about half of them in the CVE 5
    records) share one :class:`PreparedEntry`, which the matcher then reads once.
    ``related``: the CVE advisories whose signals a bulletin borrows (:func:`signals_for`)."""
    configurations = without_wildcards(advisory.configurations)
    products = frozenset(vulnerable_products(configurations)) if configurations else frozenset()
    if interned is None:
        entries = tuple(prepare_entry(entry, resolver) for entry in advisory.affected)
    else:
        read: list[PreparedEntry] = []
        for entry in advisory.affected:
            prepared = interned.get(entry)
            if prepared is None:
                prepared = interned[entry] = prepare_entry(entry, resolver)
            read.append(prepared)
        entries = tuple(read)
    signals = signals_for(advisory, {}, {} if related is None else related)
    shape = tuple(map(id, entries))
    return PreparedAdvisory(advisory, configurations, products, entries, signals, shape)


class Corpus:
    """Advisories merged, read and indexed once (see the module docstring).

    ``advisories`` are the merged advisories in order of first appearance; ``related``
    maps CVE ids to them (bulletins borrow their CVEs' signals); ``read`` counts the
    advisories given, before merging.
    """

    def __init__(
        self,
        advisories: Iterable[Advisory],
        aliases: AliasTable,
        *,
        resolver: NameResolver | None = None,
    ) -> None:
        self.aliases = aliases
        self.resolver = resolver if resolver is not None else NameResolver(aliases)
        if self.resolver.aliases is not aliases:
            raise ValueError("the resolver reads another alias table than the corpus")
        self.read = 0
        merged = merge_advisories(self._counted(advisories))
        self.related: Mapping[str, Advisory] = {
            a.id: a for a in merged if a.id.upper().startswith("CVE-")
        }
        self.advisories: list[PreparedAdvisory] = []
        self.entries: list[tuple[int, int]] = []  # (advisory, entry) by global entry number
        self.by_form: dict[str, list[int]] = {}  # name form key → entries
        self.by_cpe: dict[CpeKey, list[int]] = {}  # CPE vendor/product → entries
        self.by_package: dict[PurlKey, list[int]] = {}  # package → entries
        self.by_configuration: dict[CpeKey, list[int]] = {}  # vulnerable product → advisories
        interned: dict[AffectedProduct, PreparedEntry] = {}
        signals: dict[Signals, Signals] = {}
        for advisory in merged:
            prepared = prepare_advisory(advisory, self.resolver, interned, self.related)
            shared = signals.setdefault(prepared.signals, prepared.signals)
            if shared is not prepared.signals:
                prepared = replace(prepared, signals=shared)
            self._add(prepared)

    def __len__(self) -> int:
        return len(self.advisories)

    def _counted(self, advisories: Iterable[Advisory]) -> Iterator[Advisory]:
        for advisory in advisories:
            self.read += 1
            yield advisory

    def _add(self, prepared: PreparedAdvisory) -> None:
        number = len(self.advisories)
        self.advisories.append(prepared)
        if prepared.advisory.withdrawn:
            return  # kept for the count, never matched
        for key in prepared.products:
            _post(self.by_configuration, key, number)
        for position, entry in enumerate(prepared.entries):
            serial = len(self.entries)
            self.entries.append((number, position))
            if entry.package is not None:
                _post(self.by_package, entry.package, serial)
            for _, key in entry.cpes:
                _post(self.by_cpe, key, serial)
            for form in entry.form_keys():
                _post(self.by_form, form, serial)

    def candidates(
        self,
        forms: Iterable[str],
        cpes: Iterable[CpeKey],
        own_cpes: Iterable[CpeKey],
        packages: Iterable[PurlKey],
    ) -> list[tuple[PreparedAdvisory, tuple[int, ...]]]:
        """The advisories worth reading for an inventory, in corpus order, each with the
        positions of its entries that state one of the inventory's keys: its name forms,
        its own CPEs' vendor/products, its packages; an advisory whose configurations name
        one of its profiles' CPE vendor/products comes with the entries it has."""
        serials: set[int] = set()
        _gather(self.by_form, forms, serials)
        _gather(self.by_cpe, own_cpes, serials)
        _gather(self.by_package, packages, serials)
        chosen: dict[int, list[int]] = {}
        for serial in sorted(serials):
            number, position = self.entries[serial]
            chosen.setdefault(number, []).append(position)
        configured: set[int] = set()
        _gather(self.by_configuration, cpes, configured)
        for number in configured:
            chosen.setdefault(number, [])
        return [(self.advisories[number], tuple(chosen[number])) for number in sorted(chosen)]


def _gather(postings: Mapping[K, list[int]], keys: Iterable[K], found: set[int]) -> None:
    for key in keys:
        hit = postings.get(key)
        if hit is not None:
            found.update(hit)


def _post(postings: dict[K, list[int]], key: K, number: int) -> None:
    """Add an advisory to a key's postings once (its entries may repeat a key)."""
    numbers = postings.setdefault(key, [])
    if not numbers or numbers[-1] != number:
        numbers.append(number)
