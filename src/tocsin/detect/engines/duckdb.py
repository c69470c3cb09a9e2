"""The embedded engine: compiled Sigma rules over the Parquet store with DuckDB.

One partition (source, day) at a time is loaded into a temporary table (so memory is
bounded by a day of one source, and DuckDB spills beyond ``memory_limit``); the rules of
that source run over it in batches of UNION ALL queries. Matches go to a ``hits`` table,
the rows that feed correlations to a ``feed`` table; correlations then run over ``feed``
with windowed counts (so their windows cross midnight), and alerts are grouped from
``hits`` per (rule, host, window) with at most ``sample_limit`` events kept each.

Partitions are read with ``hive_partitioning=false``: the store's layout already says
which source and day a file holds, and the Hive columns ``source``/``day`` would shadow
event fields of those names (DuckDB identifiers ignore case).
"""

from __future__ import annotations

import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from tocsin.detect.engines.base import Alert, DetectionResult, EventRef, TimeRange, group_alert
from tocsin.detect.engines.sql import (
    DUCKDB,
    ColumnResolver,
    alert_groups,
    alert_samples,
    correlation_select,
    feed_select,
    hits_select,
    literal,
)
from tocsin.detect.sigma.compile import CompiledRuleSet
from tocsin.detect.sigma.compiled import CompiledRule, RuleInfo
from tocsin.detect.sigma.loader import RuleProblem
from tocsin.detect.store import list_partitions

_HITS = (
    "CREATE TEMP TABLE hits (rule VARCHAR, _time TIMESTAMPTZ, _host VARCHAR, _file VARCHAR, "
    "_record BIGINT)"
)
_FEED = (
    "CREATE TEMP TABLE feed (corr VARCHAR, rule VARCHAR, _time TIMESTAMPTZ, _host VARCHAR, "
    "_file VARCHAR, _record BIGINT, _group VARCHAR, _value VARCHAR)"
)


class DuckDBEngine:
    """Runs a :class:`CompiledRuleSet` over the event store at ``store``."""

    def __init__(
        self,
        store: Path,
        *,
        memory_limit: str = "2GB",
        threads: int | None = None,
        batch_size: int = 64,
        alert_window_seconds: int = 3600,
        sample_limit: int = 10,
    ) -> None:
        self.store = store
        self.memory_limit = memory_limit
        self.threads = threads
        self.batch_size = batch_size
        self.alert_window_seconds = alert_window_seconds
        self.sample_limit = sample_limit

    def run(self, rules: CompiledRuleSet, time_range: TimeRange | None = None) -> DetectionResult:
        started = time.monotonic()
        result = DetectionResult(rules_run=len(rules.rules) + len(rules.correlations))
        with tempfile.TemporaryDirectory(prefix="tocsin-duckdb-") as spill:
            config: dict[str, str | bool | int | float | list[str]] = {
                "memory_limit": self.memory_limit,
                "temp_directory": spill,
            }
            if self.threads:
                config["threads"] = self.threads
            con = duckdb.connect(":memory:", config=config)
            try:
                con.execute("SET TimeZone = 'UTC'")
                con.execute(_HITS)
                con.execute(_FEED)
                failed: set[str] = set()
                for source in sorted({r.source for r in rules.rules}):
                    self._scan_source(con, rules, source, time_range, result, failed)
                for correlation in rules.correlations:
                    if failed & set(correlation.rules):
                        continue
                    try:
                        con.execute(
                            "INSERT INTO hits " + correlation_select(DUCKDB, correlation, "feed")
                        )
                    except duckdb.Error as exc:
                        result.problems.append(_problem(correlation.info, exc))
                outputs = [r.info.id for r in rules.rules if r.output] + [
                    c.info.id for c in rules.correlations
                ]
                result.alerts = self._alerts(con, rules.info(), outputs)
            finally:
                con.close()
        result.seconds = time.monotonic() - started
        return result

    # --- scanning --------------------------------------------------------------------------
    def _scan_source(
        self,
        con: duckdb.DuckDBPyConnection,
        rules: CompiledRuleSet,
        source: str,
        time_range: TimeRange | None,
        result: DetectionResult,
        failed: set[str],
    ) -> None:
        since = time_range.since if time_range else None
        until = time_range.until if time_range else None
        partitions = list_partitions(
            self.store,
            [source],
            since.date() if since else None,
            until.date() if until else None,
        )
        correlations = [c for c in rules.correlations if c.source == source]
        by_id = {r.info.id: r for r in rules.rules}
        for partition in partitions:
            files = partition.files()
            if not files:
                continue
            where = []
            if since is not None:
                where.append(f"_time >= {literal(since.isoformat())}::TIMESTAMPTZ")
            if until is not None:
                where.append(f"_time <= {literal(until.isoformat())}::TIMESTAMPTZ")
            filter_sql = (" WHERE " + " AND ".join(where)) if where else ""
            file_list = ", ".join(literal(str(f)) for f in files)
            con.execute(
                "CREATE OR REPLACE TEMP TABLE ev AS SELECT * FROM read_parquet("  # noqa: S608
                f"[{file_list}], union_by_name = true, hive_partitioning = false){filter_sql}"
            )
            try:
                row = con.execute("SELECT count(*) FROM ev").fetchone()
                result.events_read += int(row[0]) if row else 0
                columns = [r[0] for r in con.execute("DESCRIBE ev").fetchall()]
                resolver = ColumnResolver(DUCKDB, columns, source)
                self._run_rules(con, resolver, rules.rules_of(source), result, failed)
                for correlation in correlations:
                    for rule_id in correlation.rules:
                        if rule_id in failed:
                            continue
                        sql = feed_select(
                            resolver,
                            correlation,
                            rule_id,
                            resolver.condition(by_id[rule_id].condition),
                            "ev",
                        )
                        con.execute("INSERT INTO feed " + sql)
            finally:
                con.execute("DROP TABLE IF EXISTS ev")

    def _run_rules(
        self,
        con: duckdb.DuckDBPyConnection,
        resolver: ColumnResolver,
        rules: list[CompiledRule],
        result: DetectionResult,
        failed: set[str],
    ) -> None:
        todo = [r for r in rules if r.info.id not in failed]
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start : start + self.batch_size]
            queries = [
                (r, hits_select(r.info.id, resolver.condition(r.condition), "ev")) for r in batch
            ]
            try:
                con.execute("INSERT INTO hits " + " UNION ALL ".join(q for _, q in queries))
                continue
            except duckdb.Error:
                pass  # find the culprit(s): run the batch one rule at a time
            for rule, query in queries:
                try:
                    con.execute("INSERT INTO hits " + query)
                except duckdb.Error as exc:
                    failed.add(rule.info.id)
                    result.problems.append(_problem(rule.info, exc))

    # --- alerts ----------------------------------------------------------------------------
    def _alerts(
        self, con: duckdb.DuckDBPyConnection, info: dict[str, RuleInfo], outputs: list[str]
    ) -> list[Alert]:
        if not outputs:
            return []  # no rule raises alerts of its own (DuckDB refuses an empty executemany)
        con.execute("CREATE TEMP TABLE wanted (rule VARCHAR)")
        con.executemany("INSERT INTO wanted VALUES (?)", [(o,) for o in outputs])
        con.execute(
            "CREATE TEMP TABLE out_hits AS SELECT h.* FROM hits h JOIN wanted w USING (rule)"
        )
        window = self.alert_window_seconds
        samples: dict[tuple[str, str | None, int | None], list[EventRef]] = defaultdict(list)
        rows = con.execute(
            alert_samples(DUCKDB, "out_hits", window, self.sample_limit)
            + " ORDER BY rule, _host, win, _time, _file, _record"
        ).fetchall()
        for rule, host, win, when, file, record in rows:
            samples[(rule, host, win)].append(EventRef(_utc(when), host, file, record))
        groups = con.execute(
            alert_groups(DUCKDB, "out_hits", window) + " ORDER BY first NULLS LAST, rule, _host"
        ).fetchall()
        alerts = [group_alert(info, g, window, samples, _utc) for g in groups]
        return alerts


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _problem(info: RuleInfo, exc: Exception) -> RuleProblem:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return RuleProblem(
        info.file or "<memory>", f"failed at run time: {reason}", info.id, info.title
    )
