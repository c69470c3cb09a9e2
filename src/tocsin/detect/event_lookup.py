"""Read back the events an alert points at (file + record) from the Parquet event store.

An engine returns :class:`~tocsin.detect.engines.base.EventRef` values: where each sample
event is, not what it says. Before an alert is stored, its sample events are read back in
one DuckDB query over the partitions of the days they fall on, and their non-empty fields
are copied into the alert (cut to sane sizes: logs are untrusted input).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from tocsin.detect.engines.base import EventRef
from tocsin.detect.store import NO_TIME_DAY, list_partitions

MAX_FIELDS = 200
MAX_VALUE_CHARS = 4000
_HIDDEN = frozenset({"_file", "_record", "_source", "_time", "_host"})


def _value(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    text = str(value)
    if not text:
        return None
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


def _fields(row: dict[str, object]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name in sorted(row):
        if name in _HIDDEN:
            continue
        text = _value(row[name])
        if text is not None:
            fields[name] = text
            if len(fields) >= MAX_FIELDS:
                break
    return fields


def lookup_events(store: Path, refs: Iterable[EventRef]) -> dict[tuple[str, int], dict[str, str]]:
    """The fields of each referenced event, keyed by (file, record); missing ones are absent."""
    wanted: set[tuple[str, int]] = set()
    days = set()
    for ref in refs:
        if ref.file is None or ref.record is None:
            continue
        wanted.add((ref.file, ref.record))
        days.add(ref.time.astimezone(UTC).date() if ref.time else NO_TIME_DAY)
    if not wanted:
        return {}
    files = [
        str(path)
        for partition in list_partitions(store)
        if partition.day in days
        for path in partition.files()
    ]
    if not files:
        return {}
    keys = pa.table(
        {
            "k_file": pa.array([f for f, _ in wanted], pa.string()),
            "k_record": pa.array([r for _, r in wanted], pa.int64()),
        }
    )
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("wanted", keys)
        cursor = con.execute(
            "SELECT e.* FROM read_parquet(?, union_by_name = true, hive_partitioning = false) e"
            " JOIN wanted w ON e._file = w.k_file AND e._record = w.k_record",
            [files],
        )
        names = [column[0] for column in cursor.description or ()]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    finally:
        con.close()
    return {(str(row["_file"]), int(str(row["_record"]))): _fields(row) for row in rows}
