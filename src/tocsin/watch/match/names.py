"""Vendor and product names of advisories and inventories, read into comparable forms.

Advisories name products in their own words: "Windows Server 2019 (Server Core
installation)", "FortiOS versions 7.2.x …" with no vendor (CERT-FR), "Becton, Dickinson and
Company (BD)", a CPE ``fortinet:fortios``, "IntelliVue patient monitor MX400-MX850".
:class:`NameResolver` reads each into a :class:`ProductName`: a vendor key and
:class:`NameForm` values, through the same alias table that normalised the inventory
(:mod:`tocsin.inventory.normalise`), so that product families map the same way on both
sides (a FortiGate asset runs FortiOS). An asset is read into forms the same way, and
:func:`meet` says whether a form of an advisory meets a form of an asset. The forms, from
the strongest:

- ``EXACT``: the whole name, alias-resolved, compared without separators ("FortiClient
  Windows" and "FortiClientWindows", "EC40" and "EC 40" are one name);
- ``BASE``: the name without remarks, editions and release (:mod:`.editions`): "Windows
  Server 2019 Standard" meets "Windows Server 2019"; releases must agree when both sides
  state one ("Windows 10 Version 1809" never meets "Windows 10 Version 22H2"); a release
  stated on one side only is left for the version to confirm (:func:`release_fits` in
  :mod:`.evidence`);
- ``FAMILY``: family words and models (:mod:`.models`): "IntelliVue MX800" meets
  "IntelliVue patient monitor MX400-MX850" and "Affiniti 70" meets "Ultrasound
  EPIQ/Affiniti"; a name listing models never meets an asset that names none; "X, not
  including Y" never meets Y;
- ``HEAD``: the leading name of a described product ("Q-Stress" for "Welch Allyn Q-Stress
  Cardiac Stress Testing System"), at a lower confidence.

Collisions are the main risk of name matching, so the rules are strict (docs/matching.md):

- a wildcard vendor or product ("*") never names anything;
- when both sides have a vendor they must agree; vendors may be inferred from the alias
  table (a product alias known under one vendor only) or from a leading vendor name
  ("Microsoft Exchange Server"). Vendor names of six letters or more that differ by one
  letter ("Phillips", "Philips") agree only for a distinctive name that meets whole;
- a product key made only of generic words and numbers ("Server", "Gateway 2019") matches
  only with vendor agreement; a name-only match without vendor agreement also needs a
  distinctive name (:func:`is_distinctive`); family and model matches need the vendors
  to agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache

from tocsin.inventory.normalise import (
    GENERIC_WORDS,
    AliasTable,
    fold,
    generic_word,
    only_generic,
    repair_text,
)
from tocsin.watch.match.editions import split_name
from tocsin.watch.match.models import (
    Family,
    ModelSpec,
    alternatives,
    described_heads,
    family_of,
    split_exclusions,
)

__all__ = [
    "GENERIC_WORDS",
    "Kind",
    "Meeting",
    "NameForm",
    "NameResolver",
    "ProductName",
    "compact",
    "exact_meeting",
    "is_distinctive",
    "is_generic",
    "meet",
    "product_variants",
    "tokens",
    "vendor_agreement",
    "vendors_close",
]

WILDCARDS = frozenset({"*", "?", "-", "n/a", "na", "any", "all"})
_TOKEN_SPLIT = re.compile(r"[_\s\-/]+")
_PARENS = re.compile(r"\s*\([^()]*\)")
_COMPACT = re.compile(r"[_\-\\\s]+")
_MAX_NAME = 256
_MIN_DISTINCTIVE_LENGTH = 4
_MIN_FUZZY_VENDOR = 6
HEAD_FACTOR = 0.9  # a described product met through its leading name


class Kind(IntEnum):
    """How much of a name a form keeps, weakest first."""

    HEAD = 0
    FAMILY = 1
    BASE = 2
    EXACT = 3


@dataclass(frozen=True, slots=True)
class NameForm:
    """One way of naming a product: ``key`` indexes it (no separators), ``label`` is the
    readable key the guards look at; ``models`` are the models an advisory lists, or the
    one model an asset names (``model``); ``words`` are the family words."""

    key: str
    label: str
    kind: Kind
    release: str | None = None
    models: tuple[ModelSpec, ...] = ()
    model: str | None = None
    words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProductName:
    """An advisory's product: the vendor key (stated or inferred), product keys best first,
    and the forms it is matched by (with the names it excludes)."""

    vendor: str | None
    products: tuple[str, ...]
    vendor_stated: bool = True
    forms: tuple[NameForm, ...] = field(default=(), compare=False, repr=False)
    excluded: tuple[NameForm, ...] = field(default=(), compare=False, repr=False)

    @property
    def release(self) -> str | None:
        """The release the name states ("1809" for "Windows 10 Version 1809")."""
        return next((f.release for f in self.forms if f.kind is Kind.BASE and f.release), None)


@dataclass(frozen=True, slots=True)
class Meeting:
    """How an advisory's form met an asset's: the key for the guards, a release stated on
    one side only (for the version to confirm), a confidence factor, whether family words
    or models carried it (then the vendors must agree), and whether only a version can
    decide it (a family name for a model of it: "Windows" for "Windows 10")."""

    label: str
    release: str | None
    factor: float
    family: bool
    needs_version: bool = False


def tokens(key: str) -> list[str]:
    """The words of a key ("windows_server_2019" → windows, server, 2019)."""
    return [token for token in _TOKEN_SPLIT.split(key) if token]


def compact(key: str) -> str:
    """A key without separators: "forticlient_windows" and "forticlientwindows" agree."""
    return _COMPACT.sub("", key)


@lru_cache(maxsize=1 << 16)
def is_generic(key: str) -> bool:
    """Whether a product key says only what kind of thing it is ("server", "gateway_2019")."""
    return only_generic(key)


@lru_cache(maxsize=1 << 16)
def is_distinctive(key: str) -> bool:
    """Whether a product key is specific enough to match on its name alone, without vendor:
    not generic, and two specific words or one of at least four characters."""
    specific = [token for token in tokens(key) if not generic_word(token)]
    return len(specific) >= 2 or any(len(t) >= _MIN_DISTINCTIVE_LENGTH for t in specific)


def vendor_agreement(advisory_vendor: str | None, asset_vendor: str | None) -> bool | None:
    """True when both vendors are known and equal, False when they differ, None otherwise."""
    if advisory_vendor is None or asset_vendor is None:
        return None
    return advisory_vendor == asset_vendor


@lru_cache(maxsize=1 << 12)
def vendors_close(a: str, b: str) -> bool:
    """Two vendor keys of six letters or more one edit apart ("phillips", "philips")."""
    if min(len(a), len(b)) < _MIN_FUZZY_VENDOR or abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :]
    return a[i:] == b[i + 1 :]


@lru_cache(maxsize=1 << 16)
def product_variants(product: str) -> tuple[str, ...]:
    """The product as written, then without remarks in parentheses, then its base without
    editions and release ("Windows 10 Version 1809" → "Windows 10")."""
    text = " ".join(product.split())[:_MAX_NAME]
    variants = [text, _PARENS.sub("", text).strip(" ,;:"), split_name(text).base]
    return tuple(dict.fromkeys(v for v in variants if v))


@lru_cache(maxsize=1 << 14)
def exact_meeting(label: str) -> Meeting:
    """The meeting of two whole names (the same for every pair: shared)."""
    return Meeting(label, None, 1.0, False)


def _related(query: tuple[str, ...], asset: tuple[str, ...]) -> bool:
    """Family words of a model match: the same, or none on one side ("B650" for "CARESCAPE
    B650", "T1 Ventilator" for "HAMILTON-T1"). "Windows Internet Explorer 10" is not a
    "Windows 10": more words are another product."""
    return set(query) == set(asset) or not query or not asset


def meet(query: NameForm, asset: NameForm) -> Meeting | None:
    """Whether an advisory's form meets an asset's form indexed under the same key."""
    if query.kind is Kind.EXACT and asset.kind is Kind.EXACT:
        return exact_meeting(query.label)
    if query.release and asset.release and query.release != asset.release:
        return None  # "Windows 10 Version 1809" and "… 22H2": other releases
    one_sided = query.release or asset.release
    one_sided = None if query.release and asset.release else one_sided
    if query.kind is Kind.HEAD:
        if asset.kind is Kind.FAMILY or asset.model is not None:
            return None
        return Meeting(query.label, one_sided, HEAD_FACTOR, True)
    if query.models:  # the advisory lists models: the asset must name one of them
        if asset.model is None or not any(spec.holds(asset.model) for spec in query.models):
            return None
        if not _related(query.words, asset.words):
            return None
    family = Kind.FAMILY in (query.kind, asset.kind)
    whole = family and not query.models and asset.model is not None
    label = asset.label if family else query.label
    return Meeting(label, one_sided, 1.0, family, whole)


# --- the resolver ----------------------------------------------------------------------------


class NameResolver:
    """Folds advisory and asset names to forms through one alias table; results are
    memoised, so build one per matching run."""

    def __init__(self, aliases: AliasTable) -> None:
        self.aliases = aliases
        owners: dict[str, set[tuple[str, str]]] = {}
        for vendor, table in aliases.products.items():
            for alias, canonical in table.items():
                owners.setdefault(alias, set()).add((vendor, canonical))
        self._owners = owners
        self._memo: dict[tuple[str | None, str], ProductName | None] = {}
        self._assets: dict[tuple[str | None, str | None, str | None], tuple[NameForm, ...]] = {}
        self._texts: dict[tuple[str | None, str, bool], list[NameForm]] = {}

    def vendor_key(self, vendor: str | None) -> str | None:
        """The key of a vendor name; remarks in parentheses are dropped ("… (BD)")."""
        if vendor is None:
            return None
        text = _PARENS.sub("", vendor).strip() or vendor
        return self.aliases.vendor_key(text[:_MAX_NAME])

    def resolve(self, vendor: str | None, product: str | None) -> ProductName | None:
        """The forms of what an advisory names, or None when it names nothing usable."""
        if not product or not product.strip():
            return None
        memo_key = (vendor, product)
        if memo_key not in self._memo:
            self._memo[memo_key] = self._resolve(vendor, product)
        return self._memo[memo_key]

    def _resolve(self, vendor: str | None, product: str) -> ProductName | None:
        if product.strip().lower() in WILDCARDS:
            return None
        if vendor is not None and vendor.strip().lower() in WILDCARDS:
            if vendor.strip() in ("*", "?"):
                return None  # a wildcard vendor never names anything
            vendor = None
        text = _spaced(repair_text(" ".join(product.split())[:_MAX_NAME]))
        main, excluded = split_exclusions(text)
        vendor_key = self.vendor_key(vendor)
        stated = vendor_key is not None
        if vendor_key is None:
            for variant in (main, _PARENS.sub("", main), split_name(main).base):
                vendor_key, _ = self._infer(variant)
                if vendor_key is not None:
                    break
        forms: list[NameForm] = []
        for name in alternatives(main):
            forms += self._forms(vendor_key, name, query=True)
        forms = _unique(sorted(forms, key=lambda f: -f.kind))
        if not forms:
            return None
        products = tuple(dict.fromkeys(f.label for f in forms if f.kind >= Kind.BASE))
        if not products:
            products = (forms[0].label,)
        out = [f for x in excluded for f in self._forms(vendor_key, x, query=True)]
        return ProductName(vendor_key, products, stated, tuple(forms), tuple(_unique(out)))

    def asset_forms(
        self, vendor_key: str | None, product: str | None, key: str | None
    ) -> tuple[NameForm, ...]:
        """The forms an asset is indexed under: its key, then its base and family."""
        memo = (vendor_key, product, key)
        if memo not in self._assets:
            self._assets[memo] = self._asset_forms(vendor_key, product, key)
        return self._assets[memo]

    def _asset_forms(
        self, vendor_key: str | None, product: str | None, key: str | None
    ) -> tuple[NameForm, ...]:
        forms = [NameForm(compact(key), key, Kind.EXACT)] if key else []
        if product:
            text = _spaced(repair_text(" ".join(product.split())[:_MAX_NAME]))
            forms += self._forms(vendor_key, text, query=False)
        return tuple(_unique(sorted(forms, key=lambda f: -f.kind)))

    def _key(self, vendor_key: str | None, text: str) -> str | None:
        if vendor_key is None:
            return fold(text) or None
        return self.aliases.product_key(vendor_key, text)

    def _forms(self, vendor_key: str | None, text: str, *, query: bool) -> list[NameForm]:
        memo = (vendor_key, text, query)
        if memo not in self._texts:
            self._texts[memo] = self._text_forms(vendor_key, text, query=query)
        return self._texts[memo]

    def _text_forms(self, vendor_key: str | None, text: str, *, query: bool) -> list[NameForm]:
        out: list[NameForm] = []
        key = self._key(vendor_key, text)
        if vendor_key is None and query:
            _, key = self._infer(text)
        if key:
            out.append(NameForm(compact(key), key, Kind.EXACT))
        parts = split_name(text)
        for base_text in dict.fromkeys((_PARENS.sub("", text).strip(" ,;:"), parts.base)):
            base = self._key(vendor_key, base_text)
            if base and base != vendor_key:
                release = parts.release if base_text == parts.base else None
                out.append(NameForm(compact(base), base, Kind.BASE, release))
        family = family_of(parts.base)
        if family is not None:
            out += self._family(vendor_key, family, parts.release, query=query)
        if query and vendor_key is not None:
            out += self._heads(vendor_key, parts.base, parts.release)
        return out

    def _family(
        self, vendor_key: str | None, family: Family, release: str | None, *, query: bool
    ) -> list[NameForm]:
        words = family.words
        if vendor_key is not None and words:
            rest = self.aliases.without_vendor(vendor_key, "_".join(words))
            words = tuple(tokens(rest)) if rest is not None else words
        core = self._key(vendor_key, " ".join(words)) if words else None
        out: list[NameForm] = []
        if query and family.models:
            if vendor_key is None:
                return []
            label = core or vendor_key
            for spec in family.models:
                single = spec.low == spec.high
                token = f"{spec.prefix}{spec.low}{spec.suffix}" if single else "*"
                key = f"@{vendor_key}#{token}"
                out.append(NameForm(key, label, Kind.FAMILY, release, family.models, None, words))
            return out
        model = None if query else family.model
        if family.models and model is None:
            return []  # an asset with several models in its name: no family form
        if core:
            out.append(NameForm(compact(core), core, Kind.FAMILY, release, (), model, words))
        if model is not None and vendor_key is not None:
            label = core or vendor_key
            for key in (f"@{vendor_key}#{model}", f"@{vendor_key}#*"):
                out.append(NameForm(key, label, Kind.FAMILY, release, (), model, words))
        return out

    def _heads(self, vendor_key: str, base: str, release: str | None) -> list[NameForm]:
        key = self._key(vendor_key, base)
        if not key or key in self.aliases.products.get(vendor_key, {}).values():
            return []  # an alias names the product itself
        out: list[NameForm] = []
        for head in described_heads(key.split("_")):
            if is_distinctive(head):
                label = head.replace(" ", "_")
                out.append(NameForm(compact(label), label, Kind.HEAD, release))
        return out

    def _infer(self, product: str) -> tuple[str | None, str | None]:
        """(vendor, product key) of a product named without vendor: a product alias known
        under one vendor only, else a leading vendor name, else no vendor."""
        folded = fold(product)
        owners = self._owners.get(folded, set())
        if len(owners) == 1:
            owner, canonical = next(iter(owners))
            return owner, canonical
        words = folded.split("_")
        first: tuple[str | None, str | None] | None = None
        for size in (1, 2, 3):  # "Microsoft Windows Server 2019": vendor "Microsoft"
            vendor = self.aliases.vendors.get("_".join(words[:size]))
            if vendor is None or len(words) <= size:
                continue
            rest = "_".join(words[size:])
            if rest in self.aliases.products.get(vendor, {}):
                return vendor, self.aliases.products[vendor][rest]
            first = first or (vendor, self.aliases.product_key(vendor, rest))
        return first or (None, folded or None)


def _spaced(text: str) -> str:
    """A CPE-style product ("windows_10_22h2") read as words."""
    return text.replace("_", " ") if "_" in text and " " not in text else text


def _unique(forms: list[NameForm]) -> list[NameForm]:
    """The forms without repeats: the first (strongest) form of each key and release."""
    seen: set[tuple[str, str | None, str | None]] = set()
    out: list[NameForm] = []
    for form in forms:
        mark = (form.key, form.release, form.model)
        if mark not in seen:
            seen.add(mark)
            out.append(form)
    return out
