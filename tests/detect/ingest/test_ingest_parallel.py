"""``ingest(..., workers=N)``: the same store content as one process, and all or nothing."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from conftest import shared_data
from tocsin.detect.ingest import ingest
from tocsin.errors import InputError


def _rows(store: Path) -> list[tuple[object, ...]]:
    glob = str(store / "**" / "*.parquet")
    query = (
        "SELECT _file, _record, _time, _host, EventID, Channel FROM read_parquet("  # noqa: S608
        f"'{glob}', union_by_name = true, hive_partitioning = false) ORDER BY ALL"
    )
    return duckdb.connect().execute(query).fetchall()


def test_two_workers_write_what_one_process_writes(tmp_path: Path) -> None:
    root = shared_data("detect", "evtx-attack-samples", "Credential Access")
    one = ingest([root], tmp_path / "one")
    two = ingest([root], tmp_path / "two", workers=2)
    assert two.events == one.events > 0
    assert [f.file for f in two.files] == [f.file for f in one.files]  # input order kept
    assert [f.events for f in two.files] == [f.events for f in one.files]
    assert _rows(tmp_path / "two") == _rows(tmp_path / "one")
    assert not list((tmp_path / "two").rglob(".*.tmp"))


def test_a_failing_worker_leaves_nothing_in_the_store(tmp_path: Path) -> None:
    good = sorted(shared_data("detect", "evtx-attack-samples", "Credential Access").glob("*"))
    bad = tmp_path / "broken.evtx"
    bad.write_bytes(b"ElfFile\x00" + b"\x00" * 100)  # EVTX magic, then nothing readable
    store = tmp_path / "store"
    with pytest.raises(InputError) as caught:
        ingest([*good[:5], bad, *good[5:10]], store, workers=2)
    assert caught.value.location is not None and caught.value.location.file == str(bad)
    assert not [p for p in store.rglob("*") if p.is_file()] if store.exists() else True
