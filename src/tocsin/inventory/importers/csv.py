"""Tocsin's own CSV inventory format (docs/inventory-formats.md).

Columns: id,name,vendor,product,version,cpe,purl,kind,criticality,exposure,function,
owner,location,tags. Comma, semicolon or tab separated (detected from the header), a
header row is required, column names are case-insensitive and may come in any order.
"""

from __future__ import annotations

import csv as _csv
import re
from collections.abc import Callable, Iterator, Mapping
from typing import ClassVar

from tocsin.errors import InventoryError, Location
from tocsin.inventory.importers.base import ImportWarning, ParsedInventory, register
from tocsin.inventory.importers.fields import build_asset

COLUMNS = (
    "id",
    "name",
    "vendor",
    "product",
    "version",
    "cpe",
    "purl",
    "kind",
    "criticality",
    "exposure",
    "function",
    "owner",
    "location",
    "tags",
)
MAX_FIELD = 64 * 1024
# Lines end at \n, \r\n or a lone \r (Excel for Mac), and nowhere else: str.splitlines()
# would also break at U+2028, U+0085 and other characters a cell may legitimately hold.
_LINE_END = re.compile(r"(?<=\n)|(?<=\r)(?!\n)")


def split_lines(text: str) -> list[str]:
    """Split text into lines, keeping their endings, for :mod:`csv` (see ``_LINE_END``)."""
    return [line for line in _LINE_END.split(text) if line]


def sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_rows(
    text: str, origin: str, delimiter: str
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Split CSV text into a header and (start line, cells) rows, locating syntax errors."""
    _csv.field_size_limit(MAX_FIELD)
    reader = _csv.reader(split_lines(text), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    line = 1
    try:
        for cells in reader:
            if header is None:
                header = cells
            elif any(c.strip() for c in cells):
                rows.append((line, cells))
            line = reader.line_num + 1
    except _csv.Error as exc:
        raise InventoryError(f"CSV syntax error: {exc}", Location(origin, reader.line_num)) from exc
    if header is None:
        raise InventoryError("file is empty; a header row is expected", Location(origin, 1))
    return header, rows


class RowLocations(Mapping[str, Location]):
    """Where each cell of one row is (column name → location; ``"*"``: the row), each
    made only when asked: only a row with an error needs one."""

    __slots__ = ("_index", "_line", "_origin")

    def __init__(self, origin: str, line: int, index: Mapping[str, int]) -> None:
        self._origin, self._line, self._index = origin, line, index

    def __getitem__(self, column: str) -> Location:
        if column == "*":
            return Location(self._origin, self._line)
        return Location(self._origin, self._line, self._index[column] + 1, column)

    def __iter__(self) -> Iterator[str]:
        return iter([*self._index, "*"])

    def __len__(self) -> int:
        return len(self._index) + 1


@register
class CsvImporter:
    name: ClassVar[str] = "csv"
    description: ClassVar[str] = "Tocsin CSV (id,name,vendor,product,version,cpe,purl,…)"

    def sniff(self, head: str, filename: str) -> bool:
        first = head.lstrip("\ufeff").splitlines()[0].lower() if head.strip() else ""
        cells = {
            c.strip().strip('"') for c in first.replace(";", ",").replace("\t", ",").split(",")
        }
        return "id" in cells and bool(cells & {"name", "product"})

    def parse(
        self, text: str, origin: str, progress: Callable[[int], None] | None = None
    ) -> ParsedInventory:
        text = text.lstrip("\ufeff")
        first_line = text.split("\n", 1)[0]
        header, rows = read_rows(text, origin, sniff_delimiter(first_line))
        names = [h.strip().lower() for h in header]
        warnings: list[ImportWarning] = []
        index: dict[str, int] = {}
        for position, column in enumerate(names, start=1):
            if column in index:
                raise InventoryError(
                    f"column {column!r} appears twice", Location(origin, 1, position, column)
                )
            if column in COLUMNS:
                index[column] = position - 1
            elif column:
                warnings.append(
                    ImportWarning(Location(origin, 1, position, column), "unknown column ignored")
                )
        if "id" not in index:
            raise InventoryError("the header has no 'id' column", Location(origin, 1))
        if "name" not in index and "product" not in index:
            raise InventoryError(
                "the header needs a 'name' or a 'product' column", Location(origin, 1)
            )
        assets = []
        first_seen: dict[str, int] = {}
        for count, (line, cells) in enumerate(rows, start=1):
            if len(cells) > len(names):
                raise InventoryError(
                    f"{len(cells)} cells but the header has {len(names)} columns",
                    Location(origin, line, len(names) + 1),
                )
            raw = {column: (cells[i] if i < len(cells) else None) for column, i in index.items()}
            at = RowLocations(origin, line, index)
            asset = build_asset(raw, at)
            if asset.id in first_seen:
                raise InventoryError(
                    f"duplicate id {asset.id!r} (first on line {first_seen[asset.id]})",
                    at["id"],
                )
            first_seen[asset.id] = line
            assets.append(asset)
            if progress is not None and count % 500 == 0:
                progress(count)
        if progress is not None:
            progress(len(rows))
        return ParsedInventory(assets=assets, source="csv", warnings=warnings)
