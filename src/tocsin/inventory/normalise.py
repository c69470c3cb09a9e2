"""Vendor and product normalisation with a bundled alias table users can extend.

A key is what advisories name a thing by (CPE 2.3 vendor/product style): lower case,
words joined by ``_``, legal suffixes dropped. Aliases map what inventories write
("Microsoft Corporation", "FortiGate") to those keys ("microsoft", "fortios").
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field, replace
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


def fold(text: str) -> str:
    """Lower case, accents removed, legal suffixes dropped, words joined by ``_``."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).strip().lower()
    previous = None
    while previous != text:
        previous = text
        text = _LEGAL_SUFFIXES.sub("", text).strip()
    text = _NON_WORD.sub("_", text).strip("_.-")
    return text


@dataclass
class AliasTable:
    """Folded alias → canonical key, for vendors and per-vendor products."""

    vendors: dict[str, str] = field(default_factory=dict)
    products: dict[str, dict[str, str]] = field(default_factory=dict)

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

    def product_key(self, vendor_key: str | None, product: str | None) -> str | None:
        if not product or not product.strip():
            return None
        folded = fold(product)
        if vendor_key is not None:
            table = self.products.get(vendor_key, {})
            if folded in table:
                return table[folded]
            # "Microsoft Exchange" under vendor microsoft: try without the vendor's name.
            prefix = vendor_key + "_"
            if folded.startswith(prefix) and folded[len(prefix) :] in table:
                return table[folded[len(prefix) :]]
            if folded.startswith(prefix):
                return folded[len(prefix) :] or folded
        return folded or None

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
