"""Vendor and product normalisation with a bundled alias table users can extend.

A key is what advisories name a thing by (CPE 2.3 vendor/product style): lower case,
words joined by ``_``, legal suffixes dropped, text mis-decoded as Windows-1252 repaired
("Alarisâ„¢" is "Alaris™"), trade marks dropped. Aliases map what inventories write
("Microsoft Corporation", "FortiGate") to those keys ("microsoft", "fortios").

A product key drops the vendor's name when it leads ("Microsoft Exchange" under vendor
microsoft is ``exchange``; under vendor baxter, "Welch Allyn Connex" drops the brand Welch
Allyn too, an alias of the vendor), except when what is left only says what kind of thing
it is: "Sophos Firewall", "Moodle LMS", "Pulse Secure Client" keep their vendor
(``sophos_firewall``, ``moodle_lms``, ``ivanti_client``), and a product named only by such
words gets its vendor's name ("Firewall" from Sophos is ``sophos_firewall`` too), so that
both spellings meet and another vendor's "Firewall" does not.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from tocsin.data import data_path
from tocsin.errors import ConfigError, Location
from tocsin.model import Asset

_LEGAL_SUFFIXES = re.compile(
    r"[\s,]+(inc|incorporated|corp|corporation|co|company|ltd|limited|llc|plc|sa|sas|sasu|"
    r"sarl|gmbh|ag|se|bv|nv|spa|srl|ab|as|oy|kk|pty|group|s\.a\.s?|s\.a|s\.r\.l)\.?$",
    re.IGNORECASE,
)
_NON_WORD = re.compile(r"[^0-9a-z+&.\-]+")
_TRAILING_CONNECTOR = re.compile(r"[\s,]+(?:&|and|et|\+)$", re.IGNORECASE)
# UTF-8 read as Windows-1252 ("Ã¤" for "ä", "â„¢" for "™"): the lead bytes of UTF-8
# sequences seen as Windows-1252 characters, followed by a continuation byte.
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d"
    "\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022"
    "\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
_MARKS = str.maketrans({"\u2122": " ", "\u00ae": " ", "\u00a9": " ", "\u2120": " "})
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
    lms cms erp crm emr ehr dms ecm itsm mdm siem edr xdr
    appareil application logiciel logiciels materiel passerelle plateforme produit produits
    serveur serveurs systeme systemes version versions toutes tous all any other others
    n/a na none unknown unspecified various product products
    """.split()
)
_WORD_SPLIT = re.compile(r"[_\s\-/]+")
_NUMBER_WORD = re.compile(r"v?\d[\d.]*[a-z]{0,2}\d*")


def repair_text(text: str) -> str:
    """Text decoded with the wrong code page repaired, trade marks (™, ®, ©) dropped."""
    if text.isascii():
        return text
    if _MOJIBAKE.search(text):
        try:
            text = text.encode("cp1252").decode("utf-8")
        except UnicodeError:
            pass
    return text.translate(_MARKS)


@lru_cache(maxsize=1 << 17)
def fold(text: str) -> str:
    """Lower case, accents removed, legal suffixes dropped, words joined by ``_``."""
    text = unicodedata.normalize("NFKD", repair_text(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).strip().lower()
    previous = None
    while previous != text:
        previous = text
        text = _LEGAL_SUFFIXES.sub("", text).strip()
        text = _TRAILING_CONNECTOR.sub("", text).strip()  # "Becton Dickinson & Co"
    text = _NON_WORD.sub("_", text).strip("_.-")
    return text


def generic_word(word: str) -> bool:
    """A word that says what kind of thing something is, or a number, or too short."""
    return word in GENERIC_WORDS or len(word) <= 2 or _NUMBER_WORD.fullmatch(word) is not None


@lru_cache(maxsize=1 << 16)
def only_generic(key: str) -> bool:
    """Whether a key is made only of generic words and numbers ("server", "client_2019")."""
    return all(generic_word(word) for word in _WORD_SPLIT.split(key) if word)


@dataclass
class AliasTable:
    """Folded alias → canonical key, for vendors and per-vendor products."""

    vendors: dict[str, str] = field(default_factory=dict)
    products: dict[str, dict[str, str]] = field(default_factory=dict)
    _names: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _keys: dict[tuple[str | None, str], str | None] = field(default_factory=dict, repr=False)

    def add(self, data: dict[str, Any], origin: str) -> None:
        vendors = data.get("vendors", {})
        products = data.get("products", {})
        if not isinstance(vendors, dict) or not isinstance(products, dict):
            raise ConfigError("[vendors] and [products.*] must be tables", Location(origin))
        for canonical, aliases in vendors.items():
            key = fold(canonical)
            self.vendors[key] = key
            for alias in _alias_list(aliases, origin, f"vendors.{canonical}"):
                self.vendors[fold(alias)] = key
        self._names = {}
        self._keys = {}
        for vendor, table in products.items():
            if not isinstance(table, dict):
                raise ConfigError("must be a table", Location(origin, field=f"products.{vendor}"))
            vendor_key = self.vendors.get(fold(vendor), fold(vendor))
            mapping = self.products.setdefault(vendor_key, {})
            for canonical, aliases in table.items():
                mapping[fold(canonical)] = canonical
                where = f"products.{vendor}.{canonical}"
                for alias in _alias_list(aliases, origin, where):
                    mapping[fold(alias)] = canonical

    def vendor_key(self, vendor: str | None) -> str | None:
        if not vendor or not vendor.strip():
            return None
        folded = fold(vendor)
        return self.vendors.get(folded, folded) or None

    def vendor_names(self, vendor_key: str) -> tuple[str, ...]:
        """The folded names a vendor is known by (its key and aliases), longest first."""
        if not self._names:
            names: dict[str, set[str]] = {}
            for alias, canonical in self.vendors.items():
                names.setdefault(canonical, {canonical}).add(alias)
            self._names = {k: tuple(sorted(v, key=len, reverse=True)) for k, v in names.items()}
        return self._names.get(vendor_key, (vendor_key,))

    def without_vendor(self, vendor_key: str, folded: str) -> str | None:
        """The folded product without the vendor's names in front ("microsoft_exchange" →
        "exchange"; "baxter_welch_allyn_connex" → "connex"), or None when none leads.
        A name that would leave only generic words is tried after the others
        ("microsoft_windows_server" → "windows_server", not "server")."""
        stripped: str | None = None
        for _ in range(3):  # "Baxter Welch Allyn …": the vendor, then its brand
            fallback: str | None = None
            for name in self.vendor_names(vendor_key):
                if folded == name:
                    fallback = "" if fallback is None else fallback
                elif folded.startswith(name) and folded[len(name)] in "_-":
                    rest = folded[len(name) + 1 :].strip("_-")
                    if rest and not only_generic(rest):
                        fallback = rest
                        break
                    fallback = rest if fallback is None else fallback
            if fallback is None:
                return stripped
            stripped = folded = fallback
            if not folded:
                return folded
        return stripped

    def product_key(self, vendor_key: str | None, product: str | None) -> str | None:
        """The key of a product under a vendor (see the module docstring); memoised."""
        if not product or not product.strip():
            return None
        memo = (vendor_key, product)
        if memo not in self._keys:
            self._keys[memo] = self._product_key(vendor_key, product)
        return self._keys[memo]

    def _product_key(self, vendor_key: str | None, product: str) -> str | None:
        folded = fold(product)
        if not folded:
            return None
        if vendor_key is None:
            return folded
        table = self.products.get(vendor_key, {})
        if folded in table:
            return table[folded]
        rest = self.without_vendor(vendor_key, folded)
        if rest is None:
            # "Firewall" from Sophos: a product named only by generic words takes its
            # vendor's name, as when it is written "Sophos Firewall".
            return f"{vendor_key}_{folded}" if only_generic(folded) else folded
        if rest in table:
            return table[rest]
        if not rest:
            return folded  # the product bears the vendor's name ("Moodle", "Orthanc")
        if only_generic(rest):
            return f"{vendor_key}_{rest}"  # "Moodle LMS", "Pulse Secure Client"
        return rest

    def normalise(self, asset: Asset) -> Asset:
        vendor_key = self.vendor_key(asset.vendor)
        product_key = self.product_key(vendor_key, asset.product or asset.name)
        if vendor_key is None and product_key is not None:
            # A product alias known under exactly one vendor names its vendor.
            owners = [
                v
                for v, table in self.products.items()
                if fold(asset.product or asset.name) in table
            ]
            if len(owners) == 1:
                vendor_key = owners[0]
                product_key = self.product_key(vendor_key, asset.product or asset.name)
        return replace(asset, vendor_key=vendor_key, product_key=product_key)


def _alias_list(value: object, origin: str, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError("must be a list of strings", Location(origin, field=where))
    return list(value)


def _load_toml(path: Path | str, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", Location(str(path))) from exc


def load_aliases(extra: Path | None = None) -> AliasTable:
    """The bundled alias tables, extended (and overridden) by the user's file."""
    table = AliasTable()
    for name in ("vendors.toml", "products.toml"):
        resource = data_path("aliases", name)
        table.add(
            _load_toml(name, resource.read_text(encoding="utf-8")), f"tocsin/data/aliases/{name}"
        )
    if extra is not None:
        try:
            text = extra.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot read alias file: {exc.strerror}", Location(str(extra))
            ) from exc
        table.add(_load_toml(extra, text), str(extra))
    return table
