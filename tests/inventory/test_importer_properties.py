"""Property tests: parsers never fail with anything but InventoryError; CSV round-trips."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from tocsin.errors import InventoryError
from tocsin.inventory.export import iter_csv
from tocsin.inventory.importers import get_importer
from tocsin.inventory.importers.csv import COLUMNS
from tocsin.inventory.importers.fields import MAX_LENGTHS, parse_purl
from tocsin.inventory.importers.reading import decode
from tocsin.inventory.normalise import fold
from tocsin.model import Asset, AssetKind, Criticality, Exposure
from tocsin.store.inventory import StoredAsset

FAST = settings(max_examples=150, deadline=None)
SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TRICKY = [
    "", " ", ";", ",", "\t", '"', '""', "\n", "\r\n", "\r", "\u2028", "\x85", "\ufeff",
    "id", "name", "product", "vital", "critique", "isolé", "medical_device", "<br>", "$#$",
    "cpe:2.3:a:x:y:1:*:*:*:*:*:*:*", "cpe:/a:x", "pkg:pypi/django@4.2", "pkg:", "pkg:a/",
    "Nom", "Système d'exploitation - Nom", "Versions - Nom", "Éditeur", "ID", "0", "x" * 600,
]  # fmt: skip


def _cells() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(TRICKY), st.text(max_size=12))


def _table(headers: list[str]) -> st.SearchStrategy[str]:
    header = st.lists(st.sampled_from(headers), min_size=1, max_size=8)
    rows = st.lists(st.lists(_cells(), max_size=9), max_size=6)
    sep = st.sampled_from([",", ";", "\t"])
    end = st.sampled_from(["\n", "\r\n", "\r"])
    quote = st.booleans()

    def build(h: list[str], r: list[list[str]], s: str, e: str, q: bool) -> str:
        def line(cells: list[str]) -> str:
            return s.join(f'"{c}"' if q else c for c in cells)

        return e.join([line(h), *(line(cells) for cells in r)]) + e

    return st.builds(build, header, rows, sep, end, quote)


def _returns_or_inventory_error(fmt: str, text: str) -> None:
    try:
        get_importer(fmt).parse(text, "fuzz.csv")
    except InventoryError:
        pass


# -- (a) CSV, GLPI and decode() never raise anything but InventoryError ------------------
@FAST
@given(st.binary(max_size=600), st.sampled_from([None, "utf-8", "latin-1", "cp1252", "koi8", "?"]))
def test_decode_fuzz(data: bytes, encoding: str | None) -> None:
    try:
        decoded = decode(data, "fuzz.csv", encoding)
    except InventoryError:
        return
    assert decoded.size == len(data)


@FAST
@given(st.one_of(st.text(max_size=300), _table([*COLUMNS, "other", "ID", ""])))
def test_csv_importer_fuzz(text: str) -> None:
    _returns_or_inventory_error("csv", text)


GLPI_TITLES = [
    *("Nom", "Name", "ID", "Système d'exploitation - Nom", "Numéro de série", "Usager"),
    *("Versions - Nom", "Éditeur", "Nombre d'installations", "Entité", "Type", ""),
]


@FAST
@given(_table(GLPI_TITLES))
def test_glpi_importers_fuzz(text: str) -> None:
    _returns_or_inventory_error("glpi-computers", text)
    _returns_or_inventory_error("glpi-software", text)


# -- (b) assets → iter_csv → CSV importer → the same assets ------------------------------
_CHARS = st.characters(blacklist_categories=("Cs", "Cc"))
# No lone "\r": export.iter_csv does not quote it (see test_export_quotes_a_lone_carriage_return).
_TEXT_CHARS = st.one_of(_CHARS, st.sampled_from(["\n", '"', ",", ";", "\u2028", "\x85"]))


def _value(limit: int, chars: st.SearchStrategy[str] = _TEXT_CHARS) -> st.SearchStrategy[str]:
    return st.text(chars, min_size=1, max_size=min(limit, 16)).filter(
        lambda v: v == v.strip() and bool(v)
    )


def _optional(field: str) -> st.SearchStrategy[str | None]:
    return st.none() | _value(MAX_LENGTHS[field])


_PURLS = st.builds(
    lambda t, name, version: parse_purl(
        PackageURL(type=t, name=name, version=version).to_string(),
        None,  # type: ignore[arg-type]
    ),
    st.sampled_from(["pypi", "npm", "generic", "deb"]),
    st.from_regex(r"[a-z][a-z0-9\-]{0,12}", fullmatch=True),
    st.none() | st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,2}", fullmatch=True),
)
_CPES = st.sampled_from(
    [
        "cpe:2.3:o:fortinet:fortios:7.2.8:*:*:*:*:*:*:*",
        "cpe:2.3:a:microsoft:exchange_server:2019:cumulative_update_13:*:*:*:*:*:*",
        "cpe:2.3:h:siemens:simatic\\:s7:-:*:*:*:*:*:*:*",
    ]
)
_TAG = _value(30, _CHARS.filter(lambda c: c not in ";,|"))
_FUNCTION = _value(MAX_LENGTHS["function"]).map(str.lower).filter(lambda f: f == f.strip())

assets_strategy = st.builds(
    Asset,
    id=_value(MAX_LENGTHS["id"]),
    name=_value(MAX_LENGTHS["name"]),
    kind=st.sampled_from(AssetKind),
    vendor=_optional("vendor"),
    product=_optional("product"),
    version=_optional("version"),
    cpe=st.none() | _CPES,
    purl=st.none() | _PURLS,
    criticality=st.sampled_from(Criticality),
    exposure=st.sampled_from(Exposure),
    function=st.none() | _FUNCTION,
    owner=_optional("owner"),
    location=_optional("location"),
    tags=st.lists(_TAG, max_size=4, unique=True).map(tuple),
)


@SLOW
@given(st.lists(assets_strategy, max_size=4, unique_by=lambda a: a.id))
def test_csv_export_round_trip(assets: list[Asset]) -> None:
    now = datetime.now(UTC)
    stored = [StoredAsset(a, "ch-exemple", "csv", i, now) for i, a in enumerate(assets)]
    text = "".join(iter_csv(stored))
    assert get_importer("csv").parse(text, "export.csv").assets == assets


def test_export_quotes_a_lone_carriage_return() -> None:
    asset = Asset(id="a", name="Pompe", location="Bloc\rsalle 2")
    text = "".join(iter_csv([StoredAsset(asset, "ch", "csv", 1, datetime.now(UTC))]))
    assert get_importer("csv").parse(text, "export.csv").assets == [asset]


# -- (c) CycloneDX: arbitrary JSON-ish documents -----------------------------------------
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _cells(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_cells(), inner, max_size=3),
    max_leaves=8,
)
_KEYS = ["type", "name", "version", "purl", "cpe", "bom-ref", "group", "publisher", "supplier",
         "manufacturer", "properties", "components"]  # fmt: skip
_TYPES = ["library", "application", "device", "operating-system", "data", "firmware", "x"]
_PROPERTY = st.fixed_dictionaries(
    {"name": st.sampled_from(["tocsin:criticality", "tocsin:kind", "tocsin:tags", "tocsin:x"])},
    optional={"value": _cells()},
)
_COMPONENT: st.SearchStrategy[dict[str, Any]] = st.recursive(
    st.fixed_dictionaries(
        {"type": st.sampled_from(_TYPES), "name": _cells()},
        optional={
            "version": _cells(),
            "purl": _cells(),
            "bom-ref": _cells(),
            "supplier": st.fixed_dictionaries({"name": _cells()}),
            "properties": st.lists(_PROPERTY, max_size=3),
        },
    ),
    lambda inner: st.builds(
        lambda c, children: {**c, "components": children}, inner, st.lists(inner, max_size=3)
    ),
    max_leaves=6,
)
_DOCUMENTS = st.fixed_dictionaries(
    {
        "bomFormat": st.sampled_from(["CycloneDX", "CycloneDX", "SPDX"]),
        "specVersion": st.sampled_from(["1.4", "1.5", "1.6", "1.3", 1.5]),
    },
    optional={
        "components": st.lists(
            _COMPONENT | st.dictionaries(st.sampled_from(_KEYS), _JSON), max_size=4
        ),
        "metadata": st.fixed_dictionaries({"component": _COMPONENT}) | _JSON,
        "services": _JSON,
    },
)


@SLOW
@given(st.one_of(_DOCUMENTS.map(json.dumps), _JSON.map(json.dumps), st.text(max_size=200)))
def test_cyclonedx_importer_fuzz(text: str) -> None:
    _returns_or_inventory_error("cyclonedx", text)


# -- (d) normalisation ------------------------------------------------------------------
@FAST
@given(
    st.text(max_size=60) | st.sampled_from(["Microsoft Corporation", "Siemens AG, Inc.", "É co"])
)
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)
