"""A chunk of Windows events split by (Channel, EventID) in Arrow, before DuckDB sees it.

The DuckDB engine runs each rule over the events of the channels and event ids it names
(``engines/duckdb.py``). Building one wide DuckDB table of the whole chunk first (every
column any file has: ~400 for the EVTX attack samples, most of them empty in any one
event) and then selecting each key's rows out of it cost more than the rules on the
smaller tables. Here each Parquet file is read with pyarrow (its own ~40 columns), its
rows are grouped by the lower-cased routing keys, and the groups of one key from every
file are concatenated (schemas unified by name): each split table is built from its own
rows and columns only. Pure: reads the files it is given, decides nothing about rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

Key = tuple[str | None, str | None]  # lower-case Channel and EventID


@dataclass
class KeyRows:
    """The rows of one key (None: of every key no rule is routed to) from every file."""

    parts: list[pa.Table]
    rows: int = 0

    def table(self) -> pa.Table:
        """The parts as one table, columns unified by name (absent ones null)."""
        return pa.concat_tables(self.parts, promote_options="permissive")

    def filled(self) -> set[str]:
        """The columns with a value in at least one row."""
        filled: set[str] = set()
        for part in self.parts:
            for name, column in zip(part.column_names, part.columns, strict=True):
                if name not in filled and column.null_count < len(column):
                    filled.add(name)
        return filled


def split_files(
    files: Iterable[Path],
    channel: str,
    event_id: str | None,
    wanted: Callable[[Key], bool],
    since: datetime | None = None,
    until: datetime | None = None,
    columns: Iterable[str] | None = None,
) -> dict[Key | None, KeyRows]:
    """The rows of ``files`` (within [since, until] by ``_time``) grouped by the lower-case
    values of columns ``channel`` and ``event_id``; keys ``wanted`` rejects are pooled
    under None. Files are read as plain Parquet: no Hive columns from their paths.

    ``columns`` are the chunk's column names as DuckDB's ``union_by_name`` gives them: it
    merges names that differ only in case (``commandline`` in one file, ``CommandLine`` in
    another) into the first spelling, and so does this."""
    spelling: dict[str, str] = {}
    for name in columns or ():
        spelling.setdefault(name.lower(), name)
    groups: dict[Key | None, KeyRows] = {}
    for path in files:
        table = _spelt(pq.ParquetFile(path).read(), spelling)
        table = _within(table, since, until)
        if table.num_rows == 0:
            continue
        for key, rows in _by_key(table, channel, event_id):
            target = key if wanted(key) else None
            group = groups.setdefault(target, KeyRows([]))
            group.parts.append(rows)
            group.rows += rows.num_rows
    return groups


def _spelt(table: pa.Table, spelling: dict[str, str]) -> pa.Table:
    """``table`` with its columns named as ``spelling`` says (by lower-case name); columns
    of one file that meet under one name are merged, the first non-null value winning."""
    names = [spelling.get(name.lower(), name) for name in table.column_names]
    if names == table.column_names:
        return table
    if len(set(names)) == len(names):
        return table.rename_columns(names)
    merged: dict[str, pa.ChunkedArray] = {}
    for name, column in zip(names, table.columns, strict=True):
        merged[name] = pc.coalesce(merged[name], column) if name in merged else column
    return pa.table(merged)


def _within(table: pa.Table, since: datetime | None, until: datetime | None) -> pa.Table:
    if since is None and until is None:
        return table
    if "_time" not in table.column_names:
        return table.slice(0, 0)  # as ``_time >= …`` over a missing column: nothing
    keep = None
    when = table["_time"]
    if since is not None:
        keep = pc.greater_equal(when, pa.scalar(since, when.type))
    if until is not None:
        before = pc.less_equal(when, pa.scalar(until, when.type))
        keep = before if keep is None else pc.and_kleene(keep, before)
    return table.filter(pc.fill_null(keep, False))


def _lowered(table: pa.Table, column: str | None) -> pa.ChunkedArray:
    if column is None or column not in table.column_names:
        return pa.chunked_array([pa.nulls(table.num_rows, pa.string())])
    values = table[column]
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    return pc.utf8_lower(values)


def _by_key(table: pa.Table, channel: str, event_id: str | None) -> list[tuple[Key, pa.Table]]:
    channels, channel_names = _codes(_lowered(table, channel))
    events, event_names = _codes(_lowered(table, event_id))
    width = len(event_names) + 1  # code len(names) stands for a missing value
    combined = pc.add(
        pc.multiply(_filled(channels, len(channel_names)), pa.scalar(width, pa.int64())),
        _filled(events, len(event_names)),
    )
    found: list[tuple[Key, pa.Table]] = []
    codes = pc.unique(combined).to_pylist()
    for code in codes:
        channel_code, event_code = divmod(code, width)
        key = (_name(channel_names, channel_code), _name(event_names, event_code))
        if len(codes) == 1:
            return [(key, table)]
        found.append((key, table.filter(pc.equal(combined, pa.scalar(code, pa.int64())))))
    return found


def _codes(values: pa.ChunkedArray) -> tuple[pa.Array, list[str]]:
    """Dictionary codes of ``values`` (null where missing) and the distinct values."""
    encoded = pc.dictionary_encode(values.combine_chunks())
    return encoded.indices, encoded.dictionary.to_pylist()


def _filled(codes: pa.Array, missing: int) -> pa.Array:
    return pc.fill_null(pc.cast(codes, pa.int64()), pa.scalar(missing, pa.int64()))


def _name(names: list[str], code: int) -> str | None:
    return names[code] if code < len(names) else None
