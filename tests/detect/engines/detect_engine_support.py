"""Helpers for engine tests: a tiny event store written per the store contract, and
pySigma's SQLite backend as the reference of the differential tests.

A plain module (not a conftest.py, whose name would shadow tests/conftest.py for
``from conftest import shared_data``).
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from tocsin.detect.engines.base import DetectionResult
from tocsin.detect.engines.duckdb import DuckDBEngine
from tocsin.detect.sigma.compile import CompiledRuleSet, compile_rules
from tocsin.detect.sigma.loader import RuleSet, _resolve_correlations
from tocsin.detect.sigma.pipelines import tocsin_pipeline
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


# --- the reference for differential tests: pySigma's SQLite backend ------------------------
Hit = tuple[str, str, int]  # (rule id, _file, _record)
FULLTEXT = "_fulltext"
_MISSING = re.compile(r"no such column: (.+)$")
_PREFIX = "SELECT * FROM logs WHERE "


def _regexp(pattern: str, value: object) -> bool:
    return value is not None and re.search(pattern, str(value)) is not None


class SQLiteReference:
    """pySigma's SQLite backend (``pysigma-backend-sqlite``) over one in-memory table.

    The table is laid out as Zircolite builds it: one ``TEXT COLLATE NOCASE`` column per
    field (the backend runs with ``collate_nocase``), names ignoring case as SQLite's do
    (``ProcessID``/``ProcessId``: one column, the later value winning, as DuckDB's
    ``union_by_name``), and ``_fulltext`` for keywords: the event's field values joined by
    chr(31), the text Tocsin's keyword search reads (``engines/sql.py``). A column a rule
    names but no event has is added, all NULL, when SQLite says it is missing.
    """

    def __init__(self, rows: Iterable[Row]) -> None:
        self.con = sqlite3.connect(":memory:")
        self.con.create_function("REGEXP", 2, _regexp, deterministic=True)
        table: list[dict[str, object]] = []
        columns: dict[str, str] = {}
        for row in rows:
            fields = {k: v for k, v in row.items() if not k.startswith("_") and v is not None}
            for name in fields:
                columns.setdefault(name.lower(), name)
            values = {k.lower(): v for k, v in fields.items()}
            values[FULLTEXT] = chr(31).join(str(v) for v in fields.values())
            table.append({"_file": row["_file"], "_record": row["_record"], **values})
        names = list(columns)
        spec = ", ".join(f'"{columns[n]}" TEXT COLLATE NOCASE' for n in names)
        self.con.execute(f'CREATE TABLE logs ("_file", "_record", "{FULLTEXT}" TEXT, {spec})')
        keys = ["_file", "_record", FULLTEXT, *names]
        self.con.executemany(
            f"INSERT INTO logs VALUES ({', '.join('?' for _ in keys)})",  # noqa: S608
            [[values.get(k) for k in keys] for values in table],
        )
        self.backend = sqliteBackend(
            tocsin_pipeline(), collate_nocase=True, fulltext_field=FULLTEXT
        )

    def _fetch(self, sql: str) -> list[tuple[Any, ...]]:
        while True:
            try:
                return self.con.execute(sql).fetchall()
            except sqlite3.OperationalError as exc:
                missing = _MISSING.search(str(exc))
                if not missing:
                    raise
                self.con.execute(f'ALTER TABLE logs ADD COLUMN "{missing.group(1)}" TEXT')

    def hits(self, rules: Iterable[SigmaRule], batch: int = 1) -> tuple[set[Hit], dict[str, str]]:
        """The (rule, file, record) matches of ``rules``, and the rules it refused, with why.

        ``batch`` conditions share one pass over the table (``SELECT c1, c2… WHERE c1 OR
        c2…``); a batch SQLite refuses is re-run condition by condition.
        """
        refused: dict[str, str] = {}
        conditions: list[tuple[str, str]] = []
        for rule in rules:
            try:
                queries = self.backend.convert_rule(rule)
            except SigmaError as exc:
                refused[str(rule.id)] = f"cannot convert: {exc}"
                continue
            for query in queries:
                assert query.startswith(_PREFIX), query
                conditions.append((str(rule.id), query.removeprefix(_PREFIX)))
        found: set[Hit] = set()
        for start in range(0, len(conditions), batch):
            chunk = conditions[start : start + batch]
            try:
                found |= self._run(chunk)
            except sqlite3.Error:
                for one in chunk:
                    try:
                        found |= self._run([one])
                    except sqlite3.Error as exc:
                        refused[one[0]] = f"SQLite: {exc}"
        return found, refused

    def _run(self, chunk: Sequence[tuple[str, str]]) -> set[Hit]:
        tests = ", ".join(f"({c})" for _, c in chunk)
        where = " OR ".join(f"({c})" for _, c in chunk)
        rows = self._fetch(f'SELECT "_file", "_record", {tests} FROM logs WHERE {where}')  # noqa: S608
        return {
            (rule_id, str(row[0]), int(row[1]))
            for row in rows
            for (rule_id, _), matched in zip(chunk, row[2:], strict=True)
            if matched
        }
