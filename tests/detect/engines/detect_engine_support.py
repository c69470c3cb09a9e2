"""Helpers for engine tests: a tiny event store written per the store contract.

A plain module (not a conftest.py, whose name would shadow tests/conftest.py for
``from conftest import shared_data``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from sigma.collection import SigmaCollection

from tocsin.detect.engines.base import DetectionResult
from tocsin.detect.engines.duckdb import DuckDBEngine
from tocsin.detect.sigma.compile import CompiledRuleSet, compile_rules
from tocsin.detect.sigma.loader import RuleSet, _resolve_correlations
from tocsin.detect.sigma.select import select

Row = Mapping[str, object]
CONTRACT = {"_time": "TIMESTAMPTZ", "_record": "BIGINT"}


def write_events(store: Path, source: str, rows: Sequence[Row], file: str = "test.log") -> Path:
    """One Parquet file of ``rows`` in the day partition of the first row's time."""
    names: list[str] = ["_time", "_host", "_source", "_file", "_record"]
    for row in rows:
        names.extend(k for k in row if k not in names)
    first = next((r["_time"] for r in rows if r.get("_time") is not None), None)
    day = first.date().isoformat() if isinstance(first, datetime) else "1970-01-01"
    folder = store / f"source={source}" / f"day={day}"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"part-{uuid.uuid4()}.parquet"
    con = duckdb.connect()
    columns = ", ".join(f'"{n}" {CONTRACT.get(n, "VARCHAR")}' for n in names)
    con.execute(f"CREATE TABLE t ({columns})")
    table = []
    for number, row in enumerate(rows, 1):
        values = {"_source": source, "_file": file, "_record": number, **row}
        table.append([values.get(n) for n in names])
    placeholders = ", ".join("?" for _ in names)
    con.executemany(f"INSERT INTO t VALUES ({placeholders})", table)  # noqa: S608
    con.execute(f"COPY t TO '{target}' (FORMAT parquet)")
    con.close()
    return target


def compile_yaml(*documents: str) -> CompiledRuleSet:
    rules = []
    for text in documents:
        rules.extend(SigmaCollection.from_yaml(text, resolve_references=False).rules)
    ruleset = RuleSet(rules=rules)
    _resolve_correlations(ruleset)
    assert not ruleset.problems, ruleset.problems
    return compile_rules(select(ruleset))


T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def runner(tmp_path: Path) -> Callable[..., DetectionResult]:
    """``run(rows, *yaml, source="windows")`` → the DuckDB engine's result."""

    def run(rows: Sequence[Row], *documents: str, source: str = "windows") -> DetectionResult:
        store = tmp_path / f"store-{uuid.uuid4().hex[:6]}"
        write_events(store, source, [{"_time": T0, **r} for r in rows])
        compiled = compile_yaml(*documents)
        assert not compiled.problems, compiled.problems
        result = DuckDBEngine(store, threads=1).run(compiled)
        assert not result.problems, result.problems
        return result

    return run
