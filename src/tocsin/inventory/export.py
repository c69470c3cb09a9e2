"""Export assets back to Tocsin's CSV format (re-importable) and to JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from tocsin.inventory.importers.csv import COLUMNS
from tocsin.store.inventory import StoredAsset

JSON_SCHEMA_VERSION = 1


def asset_document(stored: StoredAsset) -> dict[str, Any]:
    """The JSON shape of one asset (documented in docs/json-shapes.md, version 1)."""
    a = stored.asset
    return {
        "establishment": stored.establishment,
        "id": a.id,
        "name": a.name,
        "kind": a.kind.value,
        "vendor": a.vendor,
        "product": a.product,
        "version": a.version,
        "cpe": a.cpe,
        "purl": a.purl,
        "criticality": a.criticality.value,
        "exposure": a.exposure.value,
        "function": a.function,
        "owner": a.owner,
        "location": a.location,
        "tags": list(a.tags),
        "vendor_key": a.vendor_key,
        "product_key": a.product_key,
        "source": stored.source,
        "updated_at": stored.updated_at.isoformat(),
    }


def _csv_cells(stored: StoredAsset) -> list[str]:
    doc = asset_document(stored)
    cells = []
    for column in COLUMNS:
        value = doc[column]
        if column == "tags":
            value = ";".join(value)
        cells.append("" if value is None else str(value))
    return cells


def iter_csv(assets: Iterable[StoredAsset]) -> Iterator[str]:
    """CSV text, one chunk a row, header first (UTF-8, comma separated)."""
    buffer = io.StringIO()
    # RFC 4180 line ends: with them the csv module quotes any value holding \r or \n.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield buffer.getvalue()
    for stored in assets:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(_csv_cells(stored))
        yield buffer.getvalue()


def iter_jsonl(assets: Iterable[StoredAsset]) -> Iterator[str]:
    for stored in assets:
        yield json.dumps(asset_document(stored), ensure_ascii=False) + "\n"


def iter_json(assets: Iterable[StoredAsset]) -> Iterator[str]:
    """A JSON document {"version": 1, "assets": [...]}, streamed."""
    yield f'{{"version": {JSON_SCHEMA_VERSION}, "assets": ['
    first = True
    for stored in assets:
        yield ("\n" if first else ",\n") + json.dumps(asset_document(stored), ensure_ascii=False)
        first = False
    yield "\n]}\n"
