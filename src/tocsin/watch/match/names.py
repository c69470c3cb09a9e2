"""Vendor and product names of advisories, folded to the keys the inventory uses.

Advisories name products in their own words: "Windows Server 2019 (Server Core
installation)", "FortiOS versions 7.2.x …" with no vendor (CERT-FR), "Becton, Dickinson and
Company (BD)", a CPE ``fortinet:fortios``. :class:`NameResolver` turns each into a
:class:`ProductName`: a vendor key and product keys, through the same alias table that
normalised the inventory (:mod:`tocsin.inventory.normalise`), so that product families map
the same way on both sides (a FortiGate asset runs FortiOS).

Collisions are the main risk of name matching, so the rules are strict (docs/matching.md):

- a wildcard vendor or product ("*") never names anything;
- when both sides have a vendor they must agree; vendors may be inferred from the alias
  table (a product alias known under one vendor only) or from a leading vendor name
  ("Microsoft Exchange Server");
- a product key made only of generic words and numbers ("Server", "Gateway 2019") matches
  only with vendor agreement; a name-only match without vendor agreement also needs a
  distinctive name (:func:`is_distinctive`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tocsin.inventory.normalise import AliasTable, fold

__all__ = [
    "GENERIC_WORDS",
    "NameResolver",
    "ProductName",
    "is_distinctive",
    "is_generic",
    "product_variants",
    "tokens",
    "vendor_agreement",
]

# Words that say what kind of thing a product is, not which one (English and French).
GENERIC_WORDS = frozenset(
    """
    access agent api app apps application applications appliance archive backup base basic
    bridge browser build camera center centre client cloud community component components
    connector console control controller core dashboard data database desktop device devices
    driver drivers edge edition editor embedded engine enterprise essentials express extension
    firewall firmware framework gateway hardware home hub installer interface kernel library
    linux management manager media mobile module modules monitor monitoring network node os
    pack package panel platform plugin plus portal pro professional program protocol proxy
    remote router runtime sdk security sensor server servers service services software
    standard station storage studio suite switch system systems terminal tool tools update
    updater utility viewer vpn web webserver wireless workstation
    appareil application logiciel logiciels materiel passerelle plateforme produit produits
    serveur serveurs systeme systemes version versions toutes tous all any other others
    n/a na none unknown unspecified various product products
    """.split()
)
WILDCARDS = frozenset({"*", "?", "-", "n/a", "na", "any", "all"})
_TOKEN_SPLIT = re.compile(r"[_\s\-/]+")
_VERSION_TOKEN = re.compile(r"v?\d[\d.]*[a-z]{0,2}\d*")
_PARENS = re.compile(r"\s*\([^()]*\)")
# Trailing qualifiers that name a release of a product rather than another product.
_QUALIFIER = re.compile(
    r"(?:[\s,]+(?:(?:version|versions|release|service\s+pack)\s+|sp\s*(?=\d))[\w.\-]+"
    r"|[\s,]+[\w.\-]+\s+edition"
    r"|\s+v?\d+(?:\.\d+)+[a-z]?)\s*$",
    re.IGNORECASE,
)
_MAX_NAME = 256
_MIN_DISTINCTIVE_LENGTH = 4


def tokens(key: str) -> list[str]:
    """The words of a key ("windows_server_2019" → windows, server, 2019)."""
    return [token for token in _TOKEN_SPLIT.split(key) if token]


def _generic_token(token: str) -> bool:
    return token in GENERIC_WORDS or len(token) <= 2 or _VERSION_TOKEN.fullmatch(token) is not None


@lru_cache(maxsize=1 << 16)
def is_generic(key: str) -> bool:
    """Whether a product key says only what kind of thing it is ("server", "gateway_2019")."""
    return all(_generic_token(token) for token in tokens(key))


@lru_cache(maxsize=1 << 16)
def is_distinctive(key: str) -> bool:
    """Whether a product key is specific enough to match on its name alone, without vendor:
    not generic, and two specific words or one of at least four characters."""
    specific = [token for token in tokens(key) if not _generic_token(token)]
    return len(specific) >= 2 or any(len(t) >= _MIN_DISTINCTIVE_LENGTH for t in specific)


def vendor_agreement(advisory_vendor: str | None, asset_vendor: str | None) -> bool | None:
    """True when both vendors are known and equal, False when they differ, None otherwise."""
    if advisory_vendor is None or asset_vendor is None:
        return None
    return advisory_vendor == asset_vendor


@lru_cache(maxsize=1 << 16)
def product_variants(product: str) -> tuple[str, ...]:
    """The product as written, then without remarks in parentheses, then without trailing
    release qualifiers ("version 1809", "Service Pack 1", "23H2 Edition", "4.14")."""
    text = " ".join(product.split())[:_MAX_NAME]
    variants = [text]
    stripped = _PARENS.sub("", text).strip(" ,;:")
    if stripped and stripped not in variants:
        variants.append(stripped)
    for _ in range(3):
        shorter = _QUALIFIER.sub("", stripped).strip(" ,;:")
        if not shorter or shorter == stripped:
            break
        stripped = shorter
        variants.append(stripped)
    return tuple(dict.fromkeys(variants))


@dataclass(frozen=True, slots=True)
class ProductName:
    """An advisory's product as keys: the vendor key (stated or inferred) and product keys,
    best first. ``vendor_stated`` is False when the vendor was inferred."""

    vendor: str | None
    products: tuple[str, ...]
    vendor_stated: bool = True


class NameResolver:
    """Folds advisory names to inventory keys through one alias table; results are memoised,
    so build one per matching run."""

    def __init__(self, aliases: AliasTable) -> None:
        self.aliases = aliases
        owners: dict[str, set[tuple[str, str]]] = {}
        for vendor, table in aliases.products.items():
            for alias, canonical in table.items():
                owners.setdefault(alias, set()).add((vendor, canonical))
        self._owners = owners
        self._memo: dict[tuple[str | None, str], ProductName | None] = {}

    def vendor_key(self, vendor: str | None) -> str | None:
        """The key of a vendor name; remarks in parentheses are dropped ("… (BD)")."""
        if vendor is None:
            return None
        text = _PARENS.sub("", vendor).strip() or vendor
        return self.aliases.vendor_key(text[:_MAX_NAME])

    def resolve(self, vendor: str | None, product: str | None) -> ProductName | None:
        """Keys for what an advisory names, or None when it names nothing usable."""
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
        vendor_key = self.vendor_key(vendor)
        stated = vendor_key is not None
        keys: list[str] = []
        for variant in product_variants(product):
            if vendor_key is None:
                vendor_key, key = self._infer(variant)
            else:
                key = self.aliases.product_key(vendor_key, variant)
            if key and key not in keys:
                keys.append(key)
        if not keys:
            return None
        return ProductName(vendor_key, tuple(keys), stated)

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

    def asset_keys(self, vendor_key: str | None, product: str | None, key: str | None) -> list[str]:
        """The product keys an asset is indexed under: its key, then its name's variants."""
        keys = [key] if key else []
        if product:
            for variant in product_variants(product)[1:]:
                extra = (
                    self.aliases.product_key(vendor_key, variant)
                    if vendor_key is not None
                    else fold(variant)
                )
                if extra and extra not in keys:
                    keys.append(extra)
        return keys
