"""``tocsin detect prune``: whole days past the retention leave the event store."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from conftest import Cli  # noqa: I001 - the tests' own conftest
from tocsin.detect.retention import prune
from tocsin.detect.store import NO_TIME_DAY, list_partitions, partition_dir


def _store(root: Path, days: list[date]) -> Path:
    for source in ("windows", "web"):
        for day in days:
            folder = partition_dir(root, source, day)
            folder.mkdir(parents=True)
            (folder / "part-0.parquet").write_bytes(b"x" * 100)
    return root


def test_prune_drops_old_days_only(tmp_path: Path) -> None:
    days = [date(2026, 11, d) for d in (1, 2, 3)] + [NO_TIME_DAY]
    store = _store(tmp_path / "events", days)
    dry = prune(store, date(2026, 11, 3), dry_run=True)
    assert sorted({p.day for p in dry.partitions}) == [date(2026, 11, 1), date(2026, 11, 2)]
    assert dry.bytes == 400 and len(list_partitions(store)) == 8  # nothing removed
    done = prune(store, date(2026, 11, 3))
    left = {(p.source, p.day) for p in list_partitions(store)}
    assert len(done.partitions) == 4
    assert left == {(s, d) for s in ("windows", "web") for d in (date(2026, 11, 3), NO_TIME_DAY)}
    prune(store, date(2026, 12, 1), untimed=True)
    assert list_partitions(store) == [] and not any(store.iterdir())  # empty sources gone


def test_prune_command(cli_env: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    today = datetime.now(UTC).date()
    store = _store(tmp_path / "events", [today - timedelta(days=n) for n in range(10)])
    args = ["detect", "prune", "--keep-days", "7", "--store", str(store), "-f", "json"]
    assert cli_env(*args) == 0
    summary = json.loads(capsys.readouterr().out)["prunes"][0]
    assert summary["partitions"] == 6 and summary["days"][-1] == str(today - timedelta(days=7))
    assert len(list_partitions(store)) == 14
