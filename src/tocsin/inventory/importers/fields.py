"""Validation of asset fields, shared by every importer.

Each function takes the raw text and a :class:`Location` and either returns the clean
value or raises :class:`InventoryError` saying what is wrong and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import TypeVar

from packageurl import PackageURL

from tocsin.errors import InventoryError, Location
from tocsin.model import Asset, AssetKind, Criticality, Exposure
from tocsin.model.inventory import CRITICALITY_SYNONYMS, EXPOSURE_SYNONYMS, KIND_SYNONYMS

E = TypeVar("E", bound=StrEnum)

MAX_LENGTHS = {
    "id": 255,
    "name": 512,
    "vendor": 255,
    "product": 255,
    "version": 128,
    "cpe": 512,
    "purl": 1024,
    "function": 64,
    "owner": 255,
    "location": 255,
    "tags": 2048,
}
# A CPE 2.3 formatted string: 13 colon-separated components, escaped colons allowed.
_CPE_COMPONENT = r"(?:\\.|[^:\\])+"
_CPE = re.compile(rf"^cpe:2\.3:[aoh*\-](?::{_CPE_COMPONENT}){{10}}$")
_TAG_SPLIT = re.compile(r"[;,|]")


def clean_text(value: str | None, field: str, location: Location) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    limit = MAX_LENGTHS.get(field)
    if limit is not None and len(value) > limit:
        raise InventoryError(f"{field} is {len(value)} characters long, over {limit}", location)
    return value


def parse_enum(
    value: str | None,
    enum: type[E],
    synonyms: Mapping[str, E],
    default: E,
    location: Location,
) -> E:
    if value is None or not value.strip():
        return default
    key = value.strip().lower()
    if key in synonyms:
        return synonyms[key]
    try:
        return enum(key)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise InventoryError(
            f"unknown value {value.strip()!r}; expected one of {allowed}", location
        ) from None


def parse_cpe(value: str | None, location: Location) -> str | None:
    value = clean_text(value, "cpe", location)
    if value is None:
        return None
    if not _CPE.match(value):
        raise InventoryError(
            f"not a CPE 2.3 formatted string: {value!r} "
            "(expected cpe:2.3:part:vendor:product:version:update:edition:language:"
            "sw_edition:target_sw:target_hw:other)",
            location,
        )
    return value


def parse_purl(value: str | None, location: Location) -> str | None:
    value = clean_text(value, "purl", location)
    if value is None:
        return None
    try:
        return str(PackageURL.from_string(value).to_string())
    except ValueError as exc:
        raise InventoryError(f"not a valid package URL: {exc}", location) from exc


def parse_tags(value: str | None, location: Location) -> tuple[str, ...]:
    value = clean_text(value, "tags", location)
    if value is None:
        return ()
    tags: list[str] = []
    for tag in _TAG_SPLIT.split(value):
        tag = tag.strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tuple(tags)


_NOWHERE = Location()


def _unplaced(field: str) -> Location:
    return _NOWHERE


def build_asset(raw: Mapping[str, str | None], at: Mapping[str, Location]) -> Asset:
    """Validate one record's fields (keys as in the CSV format) into an :class:`Asset`.

    ``at`` maps each field to where it was read, for error messages. It is read only for
    a record that has an error (then validated again, to say where): an inventory of
    thousands of valid rows makes no location (``at`` may make them when asked).
    """
    try:
        return _build_asset(raw, _unplaced)
    except InventoryError:
        pass

    def where(field: str) -> Location:
        return at.get(field) or at.get("*") or Location(field=field)

    return _build_asset(raw, where)  # raises the same error, located


def _build_asset(raw: Mapping[str, str | None], where: Callable[[str], Location]) -> Asset:
    texts = {
        f: clean_text(raw.get(f), f, where(f))
        for f in MAX_LENGTHS
        if f not in ("cpe", "purl", "tags")
    }
    asset_id = texts["id"]
    if asset_id is None:
        raise InventoryError("id is empty; every asset needs a stable id", where("id"))
    name = texts["name"] or texts["product"]
    if name is None:
        raise InventoryError("name and product are both empty", where("name"))
    function = texts["function"]
    return Asset(
        id=asset_id,
        name=name,
        kind=parse_enum(
            raw.get("kind"), AssetKind, KIND_SYNONYMS, AssetKind.SOFTWARE, where("kind")
        ),
        vendor=texts["vendor"],
        product=texts["product"],
        version=texts["version"],
        cpe=parse_cpe(raw.get("cpe"), where("cpe")),
        purl=parse_purl(raw.get("purl"), where("purl")),
        criticality=parse_enum(
            raw.get("criticality"),
            Criticality,
            CRITICALITY_SYNONYMS,
            Criticality.MEDIUM,
            where("criticality"),
        ),
        exposure=parse_enum(
            raw.get("exposure"), Exposure, EXPOSURE_SYNONYMS, Exposure.INTERNAL, where("exposure")
        ),
        function=function.lower() if function else None,
        owner=texts["owner"],
        location=texts["location"],
        tags=parse_tags(raw.get("tags"), where("tags")),
    )
