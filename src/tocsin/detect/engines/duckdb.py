"""The embedded engine: compiled Sigma rules over the Parquet store with DuckDB.

The day partitions of one source are read a chunk of about ``chunk_rows`` events at a time
(whole days), so a rule is planned once per chunk rather than once per day. A chunk with a
``Channel`` column is split by (``Channel``, ``EventID``) in Arrow (``arrow_split.py``) into
one DuckDB table per key some rule is routed to and one for the rest; other chunks are one
table. A rule whose condition requires some channels and event ids (``rule_route``: nearly
every Windows rule) runs only over the tables of those, the others over every table; a
rule whose channel and event ids are absent from the chunk is not run at all. Each split
table keeps only the field columns with a value in it, so a rule naming fields its events
never have is folded to false by DuckDB's optimiser, and holds ``lower(field)`` once as a
column for the patterns of its rules. Rules run in batches of UNION ALL queries, each batch
a task; tasks run costliest first, one per core at once, each on its own cursor
(``_parallel``). Matches go to a ``hits`` table,
the rows that feed correlations to a ``feed`` table; correlations then run over ``feed``
with windowed counts (so their windows cross midnight), and alerts are grouped from
``hits`` per (rule, host, window) with at most ``sample_limit`` events kept each. DuckDB's
tables are bounded by ``memory_limit`` (it spills beyond); the Arrow rows of the chunk
being split come on top, freed as each table is made.

Partitions are read with ``hive_partitioning=false``: the store's layout already says
which source and day a file holds, and the Hive columns ``source``/``day`` would shadow
event fields of those names (DuckDB identifiers ignore case).
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

import duckdb
import pyarrow.parquet as pq

from tocsin.detect.engines.arrow_split import Key, KeyRows, split_files
from tocsin.detect.engines.base import Alert, DetectionResult, EventRef, TimeRange, group_alert
from tocsin.detect.engines.sql import (
    CONTRACT_COLUMNS,
    DUCKDB,
    FULLTEXT_KEY,
    LOWER_MARK,
    ColumnResolver,
    Route,
    alert_groups,
    alert_samples,
    correlation_select,
    feed_select,
    hits_select,
    literal,
    lowered,
    lowered_names,
    rule_route,
)
from tocsin.detect.sigma.compile import CompiledRuleSet
from tocsin.detect.sigma.compiled import CompiledCorrelation, CompiledRule, RuleInfo
from tocsin.detect.sigma.loader import RuleProblem
from tocsin.detect.store import Partition, list_partitions

_HITS = (
    "CREATE TABLE hits (rule VARCHAR, _time TIMESTAMPTZ, _host VARCHAR, _file VARCHAR, "
    "_record BIGINT)"
)
_FEED = (
    "CREATE TABLE feed (corr VARCHAR, rule VARCHAR, _time TIMESTAMPTZ, _host VARCHAR, "
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
        chunk_rows: int = 1_000_000,
        alert_window_seconds: int = 3600,
        sample_limit: int = 10,
    ) -> None:
        self.store = store
        self.memory_limit = memory_limit
        self.threads = threads
        # Split tables scanned at once (see _run_tables): one per DuckDB thread.
        self.workers = threads or os.cpu_count() or 1
        self._lock = threading.Lock()  # the failed rules and the problems, across threads
        self.batch_size = batch_size
        self.chunk_rows = chunk_rows
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
        where = []
        if since is not None:
            where.append(f"_time >= {literal(since.isoformat())}::TIMESTAMPTZ")
        if until is not None:
            where.append(f"_time <= {literal(until.isoformat())}::TIMESTAMPTZ")
        filter_sql = (" WHERE " + " AND ".join(where)) if where else ""
        plan = _Plan.of(rules, source)
        for files in _chunks(partitions, self.chunk_rows):
            file_list = ", ".join(literal(str(f)) for f in files)
            scan = f"read_parquet([{file_list}], union_by_name = true, hive_partitioning = false)"
            described = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()  # noqa: S608
            columns = [r[0] for r in described]
            route = _routing_columns(columns, plan)
            tables: list[_Table] = []
            try:
                if route is None:
                    con.execute(f"CREATE OR REPLACE TABLE ev AS SELECT * FROM {scan}{filter_sql}")  # noqa: S608
                    row = con.execute("SELECT count(*) FROM ev").fetchone()
                    rows = int(row[0]) if row else 0
                    tables = [_Table("ev", None, columns, whole=True, rows=rows)]
                else:
                    groups = split_files(files, *route, plan.wants, since, until, columns)
                    rows = sum(group.rows for group in groups.values())
                    made = [
                        partial(_create_from, plan, table, group)
                        for table, group in _split(plan, columns, groups)
                    ]
                    groups.clear()  # each table frees its rows once made (_create_from)
                    tables = self._parallel(con, made)
                result.events_read += rows
                self._run_tables(con, tables, plan, result, failed)
            finally:
                for table in tables:
                    con.execute(f"DROP TABLE IF EXISTS {table.name}")
                con.execute("DROP TABLE IF EXISTS ev")

    def _run_tables(
        self,
        con: duckdb.DuckDBPyConnection,
        tables: list[_Table],
        plan: _Plan,
        result: DetectionResult,
        failed: set[str],
    ) -> None:
        """The rules routed to each split table, in batches, and the rows that feed
        correlations: one task each, costliest first (rows x rules), run by
        :meth:`_parallel`."""
        tasks: list[tuple[int, _Task[None]]] = []
        for table in tables:
            resolver = ColumnResolver(DUCKDB, table.columns, plan.source, table.derived)
            rules = plan.rules_for(table)
            for start in range(0, len(rules), self.batch_size):
                batch = rules[start : start + self.batch_size]
                task = partial(self._run_batch, resolver, table.name, plan, batch, result, failed)
                tasks.append((table.rows * len(batch), task))
            if any(
                plan.routed_to(plan.by_id[r], table) for c in plan.correlations for r in c.rules
            ):
                task = partial(self._feed, resolver, table, plan, failed)
                tasks.append((table.rows, task))
        tasks.sort(key=lambda t: -t[0])
        self._parallel(con, [task for _, task in tasks])

    def _parallel(self, con: duckdb.DuckDBPyConnection, tasks: Sequence[_Task[_T]]) -> list[_T]:
        """Each task given a cursor on the engine's database, ``workers`` at once, results in
        the tasks' order. Most split tables are smaller than one DuckDB row group (122,880
        rows), which DuckDB scans on one thread: several queries at once keep every core
        busy. DuckDB releases the GIL while a query runs."""
        workers = min(self.workers, len(tasks))
        if workers <= 1:
            return [task(con) for task in tasks]
        cursors = [con.cursor() for _ in range(workers)]
        free: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()
        for cursor in cursors:
            free.put(cursor)

        def run(task: _Task[_T]) -> _T:
            cursor = free.get()
            try:
                return task(cursor)
            finally:
                free.put(cursor)

        try:
            with ThreadPoolExecutor(workers, thread_name_prefix="tocsin-duckdb") as pool:
                futures = [pool.submit(run, task) for task in tasks]
                return [future.result() for future in futures]
        finally:
            for cursor in cursors:
                cursor.close()

    def _feed(
        self,
        resolver: ColumnResolver,
        table: _Table,
        plan: _Plan,
        failed: set[str],
        con: duckdb.DuckDBPyConnection,
    ) -> None:
        """The rows of ``table`` that feed correlations."""
        for correlation in plan.correlations:
            for rule_id in correlation.rules:
                rule = plan.by_id[rule_id]
                if rule_id in failed or not plan.routed_to(rule, table):
                    continue
                condition = resolver.condition(plan.template(rule))
                sql = feed_select(resolver, correlation, rule_id, condition, table.name)
                con.execute("INSERT INTO feed " + sql)

    def _run_batch(
        self,
        resolver: ColumnResolver,
        table: str,
        plan: _Plan,
        rules: list[CompiledRule],
        result: DetectionResult,
        failed: set[str],
        con: duckdb.DuckDBPyConnection,
    ) -> None:
        """One batch of rules over one table, as one query; when it fails, rule by rule,
        and a rule that fails is reported once and not run again."""
        todo = [r for r in rules if r.info.id not in failed]
        if not todo:
            return
        queries = [
            (r, hits_select(r.info.id, resolver.condition(plan.template(r)), table)) for r in todo
        ]
        try:
            con.execute("INSERT INTO hits " + " UNION ALL ".join(q for _, q in queries))
            return
        except duckdb.Error:
            pass  # find the culprit(s): run the batch one rule at a time
        for rule, query in queries:
            if rule.info.id in failed:
                continue
            try:
                con.execute("INSERT INTO hits " + query)
            except duckdb.Error as exc:
                with self._lock:
                    if rule.info.id not in failed:
                        failed.add(rule.info.id)
                        result.problems.append(_problem(rule.info, exc))

    # --- alerts ----------------------------------------------------------------------------
    def _alerts(
        self, con: duckdb.DuckDBPyConnection, info: dict[str, RuleInfo], outputs: list[str]
    ) -> list[Alert]:
        if not outputs:
            return []  # no rule raises alerts of its own (DuckDB refuses an empty executemany)
        con.execute("CREATE TABLE wanted (rule VARCHAR)")
        con.executemany("INSERT INTO wanted VALUES (?)", [(o,) for o in outputs])
        con.execute("CREATE TABLE out_hits AS SELECT h.* FROM hits h JOIN wanted w USING (rule)")
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


_T = TypeVar("_T")
_Task = Callable[[duckdb.DuckDBPyConnection], _T]  # one query's work, given a cursor


@dataclass(frozen=True)
class _Table:
    """Rows of one chunk: those of ``key``; or (None) those of no key a rule is routed to,
    or every row when ``whole``."""

    name: str
    key: Key | None
    columns: list[str]  # the event columns (what the rules' fields resolve against)
    whole: bool = False
    derived: dict[str, str] = field(default_factory=dict)  # lower(x) → column holding it
    rows: int = 0


@dataclass
class _Plan:
    """The rules of one source and the events each is routed to."""

    source: str
    rules: list[CompiledRule]
    correlations: list[CompiledCorrelation]
    by_id: dict[str, CompiledRule]
    routes: dict[str, Route] = field(default_factory=dict)
    templates: dict[str, str] = field(default_factory=dict)  # conditions with lower() tokens

    @classmethod
    def of(cls, rules: CompiledRuleSet, source: str) -> _Plan:
        own = rules.rules_of(source)
        return cls(
            source,
            own,
            [c for c in rules.correlations if c.source == source],
            {r.info.id: r for r in rules.rules},
            {r.info.id: rule_route(r.condition) for r in own},
            {r.info.id: lowered(r.condition) for r in rules.rules},
        )

    def template(self, rule: CompiledRule) -> str:
        return self.templates[rule.info.id]

    def lowered_keys(self, table: _Table) -> set[str]:
        """What the rules routed to ``table`` lower: resolved columns or the full text."""
        resolver = ColumnResolver(DUCKDB, table.columns, self.source)
        names = {n for r in self.rules_for(table) for n in lowered_names(self.template(r))}
        for correlation in self.correlations:
            for rule_id in correlation.rules:
                if self.routed_to(self.by_id[rule_id], table):
                    names |= lowered_names(self.template(self.by_id[rule_id]))
        keys = {resolver.lowered_key(n) for n in names}
        return {k for k in keys if k is not None}

    def wants(self, key: Key) -> bool:
        """Some rule with a channel is routed to the events of ``key``."""
        return any(r.channels is not None and r.admits(*key) for r in self.routes.values())

    def routed_to(self, rule: CompiledRule, table: _Table) -> bool:
        route = self.routes.get(rule.info.id, Route())
        if table.whole:
            return True
        if table.key is None:
            return route.channels is None
        return route.admits(*table.key)

    def rules_for(self, table: _Table) -> list[CompiledRule]:
        return [r for r in self.rules if self.routed_to(r, table)]


def _chunks(partitions: list[Partition], chunk_rows: int) -> Iterator[list[Path]]:
    """The partitions' files in groups of whole days of about ``chunk_rows`` rows."""
    files: list[Path] = []
    rows = 0
    for partition in partitions:
        day = partition.files()
        files.extend(day)
        rows += sum(pq.read_metadata(f).num_rows for f in day)
        if rows >= chunk_rows:
            yield files
            files, rows = [], 0
    if files:
        yield files


def _routing_columns(columns: list[str], plan: _Plan) -> tuple[str, str | None] | None:
    """The columns holding ``Channel`` and ``EventID``, or None when the chunk is not split
    (no Channel column, or no rule routed by channel)."""
    resolver = ColumnResolver(DUCKDB, columns, plan.source)
    channel = resolver.column("Channel")
    if channel is None or all(r.channels is None for r in plan.routes.values()):
        return None
    return channel, resolver.column("EventID")


def _split(
    plan: _Plan, columns: list[str], groups: dict[Key | None, KeyRows]
) -> list[tuple[_Table, KeyRows]]:
    """The split tables of a chunk (event ``columns``, rows grouped by key): one per
    (Channel, EventID) some rule is routed to and one for the rest, each keeping the field
    columns that have a value in it, largest first."""
    always = set(CONTRACT_COLUMNS) | _homonyms(columns)
    tables: list[tuple[_Table, KeyRows]] = []
    ordered = sorted(groups.items(), key=lambda item: -item[1].rows)
    for number, (target, group) in enumerate(ordered):
        present = group.filled()
        keep = [c for c in columns if c in always or c in present]
        tables.append((_Table(f"ev_{number}", target, keep, rows=group.rows), group))
    return tables


def _create_from(
    plan: _Plan, table: _Table, group: KeyRows, con: duckdb.DuckDBPyConnection
) -> _Table:
    """``table`` made from the Arrow rows of its key (registered on this cursor for the
    time of the copy), with a column for each ``lower(...)`` its rules apply (named with
    a control character: no event field is)."""
    rows = group.table()
    view = f"arrow_{table.name}"
    con.register(view, rows)
    try:
        return _create(plan, table, view, set(rows.column_names), con)
    finally:
        con.unregister(view)
        group.parts.clear()  # the copy is DuckDB's now: free the Arrow rows at once


def _create(
    plan: _Plan, table: _Table, source: str, have: set[str], con: duckdb.DuckDBPyConnection
) -> _Table:
    """``table`` made from relation ``source`` (whose columns are ``have``; the others of
    the table are NULL), with the ``lower(...)`` columns of its rules."""
    resolver = ColumnResolver(DUCKDB, table.columns, plan.source)
    derived = {key: f"\x01lower\x01{key}" for key in sorted(plan.lowered_keys(table))}
    exprs = [
        DUCKDB.quote(c) if c in have else f"{DUCKDB.null()} AS {DUCKDB.quote(c)}"
        for c in table.columns
    ]
    made = f"SELECT {', '.join(exprs)} FROM {source}"  # noqa: S608
    lowered = [
        resolver.field(LOWER_MARK + ("T" if key == FULLTEXT_KEY else "F" + key))
        + f" AS {DUCKDB.quote(name)}"
        for key, name in derived.items()
    ]
    select = f"SELECT *{''.join(', ' + e for e in lowered)} FROM ({made})"  # noqa: S608
    con.execute(f"CREATE TABLE {table.name} AS {select}")
    return _Table(table.name, table.key, table.columns, table.whole, derived, table.rows)


def _homonyms(columns: list[str]) -> set[str]:
    """Columns that resolve the same field names as another (case and spaces aside): they
    are kept even when empty, so the resolver never picks a different column in a split."""
    loose = Counter(c.replace(" ", "").lower() for c in columns)
    return {c for c in columns if loose[c.replace(" ", "").lower()] > 1}


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _problem(info: RuleInfo, exc: Exception) -> RuleProblem:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return RuleProblem(
        info.file or "<memory>", f"failed at run time: {reason}", info.id, info.title
    )
