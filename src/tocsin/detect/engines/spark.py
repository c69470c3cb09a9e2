"""The scale-out engine: the same compiled Sigma rules over the same Parquet store, on Spark.

For regions that pool their logs: a Spark cluster (``master``: ``spark://…``, ``yarn``,
``k8s://…``) or ``local[*]`` reads ``<store>/source=…/day=…/part-*.parquet`` as DuckDB does,
with ``mergeSchema`` (files of one source have different field columns) and Spark's
case-insensitive column resolution; the compiled conditions are rendered with the ``SPARK``
dialect of :mod:`tocsin.detect.engines.sql` and run in batches, each one pass over the
cached events (:func:`batch_select`); a failing batch is re-run rule by rule and the
culprit reported. Correlations, alert grouping
and samples are the SQL of ``sql.py`` too, so both engines give the same alerts.

Differences handled here:
- Spark SQL string literals treat ``\\`` as an escape character; the compiled SQL uses
  standard literals (``'C:\\Windows'`` means one backslash), so every literal is re-spelled
  (:func:`spark_literals`) before Spark parses it.
- Times leave Spark as epoch microseconds (``unix_micros``), never as Python datetimes
  (PySpark converts those to the driver's local time zone).
- Files are read one source at a time with ``recursiveFileLookup`` (no Hive partition
  columns: ``source``/``day`` would shadow event fields of those names, as in DuckDB).
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from py4j.protocol import Py4JError
from pyspark import StorageLevel
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf

from tocsin.detect.engines.base import Alert, DetectionResult, EventRef, TimeRange, group_alert
from tocsin.detect.engines.sql import (
    SPARK,
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

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

DEFAULT_MASTER = "local[*]"
_SPARK_ERRORS = (PySparkException, Py4JError)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def spark_literals(sql: str) -> str:
    """Standard SQL string literals (``'it''s C:\\x'``) re-spelled for Spark's parser.

    Inside a literal, ``''`` becomes ``\\'`` and ``\\`` becomes ``\\\\``; back-quoted
    identifiers (column names may hold quotes) are copied as they are.
    """
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if char == "`":
            end = i + 1
            while end < n:
                if sql[end] == "`":
                    if end + 1 < n and sql[end + 1] == "`":
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1])
            i = end + 1
        elif char == "'":
            out.append("'")
            i += 1
            while i < n:
                if sql[i] == "'":
                    if i + 1 < n and sql[i + 1] == "'":
                        out.append("\\'")
                        i += 2
                        continue
                    break
                out.append("\\\\" if sql[i] == "\\" else sql[i])
                i += 1
            out.append("'")
            i += 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


def batch_select(conditions: Sequence[tuple[CompiledRule, str]], table: str) -> str:
    """The matches of several rules in one pass: each event yields the ids of its rules.

    Spark plans a ``UNION ALL`` of many rules as that many scans and analyses each one; one
    projection of ``CASE WHEN`` per rule, exploded, reads the events once.
    """
    cases = ", ".join(
        f"CASE WHEN {condition} THEN {literal(rule.info.id)} END" for rule, condition in conditions
    )
    return (
        "SELECT rule, _time, _host, _file, _record FROM ("  # noqa: S608
        f"SELECT explode(filter(array({cases}), r -> r IS NOT NULL)) AS rule, "
        f"_time, _host, _file, _record FROM {table}) AS matched"
    )


def local_session(master: str = DEFAULT_MASTER, shuffle_partitions: int = 8) -> SparkSession:
    """A SparkSession configured as the engine expects (UTC, lenient casts, no UI)."""
    session = (
        SparkSession.builder.master(master)
        .appName("tocsin-detect")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.caseSensitive", "false")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    _quiet_codegen(session)
    return session


def _quiet_codegen(session: SparkSession) -> None:
    """Silence the stack trace Spark logs when generated code exceeds 64 KB.

    Spark then evaluates that query without code generation: a slower path, not an error,
    so nothing the user must read (it would bury the alerts on stderr).
    """
    try:
        jvm: Any = getattr(session.sparkContext, "_jvm", None)
        level = jvm.org.apache.logging.log4j.Level.OFF
        configurator = jvm.org.apache.logging.log4j.core.config.Configurator
        for name in (
            "org.apache.spark.sql.catalyst.expressions.codegen.CodeGenerator",
            "org.apache.spark.sql.execution.WholeStageCodegenExec",
        ):
            configurator.setLevel(name, level)
    except Exception:  # noqa: BLE001, S110 - logging set-up is best effort (remote JVMs)
        pass


class SparkEngine:
    """Runs a :class:`CompiledRuleSet` over the event store at ``store`` with Spark.

    ``batch_size`` rules share one pass over the events: more would make Spark's generated
    code exceed the JVM's 64 KB method limit on SigmaHQ's larger rules (it then falls back
    to slower interpreted evaluation). Give ``spark`` to reuse a session (it is left
    running, as is a session already active in this process); otherwise one is created on
    ``master`` (default ``local[*]``) and stopped at the end of :meth:`run`. On a cluster,
    ``store`` must be a path every executor can read (a shared file system).
    """

    def __init__(
        self,
        store: Path,
        *,
        master: str | None = None,
        spark: SparkSession | None = None,
        batch_size: int = 16,
        alert_window_seconds: int = 3600,
        sample_limit: int = 10,
        shuffle_partitions: int = 8,
    ) -> None:
        self.store = store
        self.master = master or DEFAULT_MASTER
        self.spark = spark
        self.batch_size = batch_size
        self.alert_window_seconds = alert_window_seconds
        self.sample_limit = sample_limit
        self.shuffle_partitions = shuffle_partitions

    def run(self, rules: CompiledRuleSet, time_range: TimeRange | None = None) -> DetectionResult:
        started = time.monotonic()
        # A session already running in this process (a test's, a notebook's) is reused, not
        # stopped; one created here is stopped at the end.
        spark = self.spark or SparkSession.getActiveSession()
        own = spark is None
        if spark is None:
            spark = local_session(self.master, self.shuffle_partitions)
        try:
            result = _Run(self, spark, rules, time_range).execute()
        finally:
            if own:
                spark.stop()
        result.seconds = time.monotonic() - started
        return result


class _Run:
    """One run: the cached DataFrames it made, released at the end."""

    def __init__(
        self,
        engine: SparkEngine,
        spark: SparkSession,
        rules: CompiledRuleSet,
        time_range: TimeRange | None,
    ) -> None:
        self.engine = engine
        self.spark = spark
        self.rules = rules
        self.time_range = time_range
        self.result = DetectionResult(rules_run=len(rules.rules) + len(rules.correlations))
        self.failed: set[str] = set()
        self.hits: list[DataFrame] = []
        self.feeds: list[DataFrame] = []
        self.cached: list[DataFrame] = []
        self.prefix = f"tocsin_{id(self):x}"

    def sql(self, text: str) -> DataFrame:
        return self.spark.sql(spark_literals(text))

    def materialise(self, frame: DataFrame) -> DataFrame:
        """Cache and compute ``frame`` now, so that its errors surface here."""
        frame = frame.persist(StorageLevel.MEMORY_AND_DISK)
        self.cached.append(frame)
        frame.count()
        return frame

    def execute(self) -> DetectionResult:
        try:
            for source in sorted({r.source for r in self.rules.rules}):
                self._scan_source(source)
            feed = self._union(self.feeds)
            if feed is not None:
                feed.createOrReplaceTempView(f"{self.prefix}_feed")
            for correlation in self.rules.correlations:
                if feed is None or self.failed & set(correlation.rules):
                    continue
                try:
                    query = correlation_select(SPARK, correlation, f"{self.prefix}_feed")
                    self.hits.append(self.materialise(self.sql(query)))
                except _SPARK_ERRORS as exc:
                    self.result.problems.append(_problem(correlation.info, exc))
            outputs = [r.info.id for r in self.rules.rules if r.output] + [
                c.info.id for c in self.rules.correlations
            ]
            self.result.alerts = self._alerts(outputs)
        finally:
            for frame in self.cached:
                frame.unpersist()
            for view in ("ev", "feed", "hits"):
                self.spark.catalog.dropTempView(f"{self.prefix}_{view}")
        return self.result

    # --- scanning --------------------------------------------------------------------------
    def _read(self, source: str) -> DataFrame | None:
        since = self.time_range.since if self.time_range else None
        until = self.time_range.until if self.time_range else None
        partitions = list_partitions(
            self.engine.store,
            [source],
            since.date() if since else None,
            until.date() if until else None,
        )
        files = [str(f) for p in partitions for f in p.files()]
        if not files:
            return None
        frame = (
            self.spark.read.option("mergeSchema", "true")
            .option("recursiveFileLookup", "true")
            .parquet(*files)
        )
        if since is not None:
            frame = frame.where(sf.col("_time") >= sf.lit(since))
        if until is not None:
            frame = frame.where(sf.col("_time") <= sf.lit(until))
        return frame

    def _scan_source(self, source: str) -> None:
        frame = self._read(source)
        if frame is None:
            return
        events = self.materialise(frame)
        view = f"{self.prefix}_ev"
        events.createOrReplaceTempView(view)
        self.result.events_read += events.count()
        resolver = ColumnResolver(SPARK, events.columns, source)
        self._run_rules(resolver, self.rules.rules_of(source), view)
        by_id = {r.info.id: r for r in self.rules.rules}
        for correlation in (c for c in self.rules.correlations if c.source == source):
            for rule_id in correlation.rules:
                if rule_id in self.failed:
                    continue
                condition = resolver.condition(by_id[rule_id].condition)
                query = feed_select(resolver, correlation, rule_id, condition, view)
                try:
                    self.feeds.append(self.materialise(self.sql(query)))
                except _SPARK_ERRORS as exc:  # pragma: no cover - its rule failed above
                    self.failed.add(rule_id)
                    self.result.problems.append(_problem(by_id[rule_id].info, exc))

    def _run_rules(self, resolver: ColumnResolver, rules: list[CompiledRule], view: str) -> None:
        todo = [r for r in rules if r.info.id not in self.failed]
        size = self.engine.batch_size
        for start in range(0, len(todo), size):
            batch = todo[start : start + size]
            conditions = [(r, resolver.condition(r.condition)) for r in batch]
            try:
                self.hits.append(self.materialise(self.sql(batch_select(conditions, view))))
                continue
            except _SPARK_ERRORS:
                pass  # find the culprit(s): run the batch one rule at a time
            for rule, condition in conditions:
                try:
                    self.hits.append(
                        self.materialise(self.sql(hits_select(rule.info.id, condition, view)))
                    )
                except _SPARK_ERRORS as exc:
                    self.failed.add(rule.info.id)
                    self.result.problems.append(_problem(rule.info, exc))

    @staticmethod
    def _union(frames: Iterable[DataFrame]) -> DataFrame | None:
        union: DataFrame | None = None
        for frame in frames:
            union = frame if union is None else union.unionByName(frame)
        return union

    # --- alerts ----------------------------------------------------------------------------
    def _alerts(self, outputs: list[str]) -> list[Alert]:
        hits = self._union(self.hits)
        if hits is None or not outputs:
            return []
        view = f"{self.prefix}_hits"
        hits.where(sf.col("rule").isin(outputs)).createOrReplaceTempView(view)
        window = self.engine.alert_window_seconds
        info: dict[str, RuleInfo] = self.rules.info()
        samples: dict[tuple[str, str | None, int | None], list[EventRef]] = defaultdict(list)
        sample_sql = alert_samples(SPARK, view, window, self.engine.sample_limit)
        rows = self.sql(
            "SELECT rule, _host, win, unix_micros(_time) AS t, _file, _record "  # noqa: S608
            f"FROM ({sample_sql}) AS s "
            "ORDER BY rule, _host NULLS LAST, win NULLS LAST, t NULLS LAST, _file, _record"
        ).collect()
        for rule, host, win, micros, file, record in (tuple(r) for r in rows):
            samples[(rule, host, win)].append(EventRef(_time(micros), host, file, record))
        groups = self.sql(
            "SELECT rule, _host, win, n, unix_micros(first) AS f, unix_micros(last) AS l "  # noqa: S608
            f"FROM ({alert_groups(SPARK, view, window)}) AS g "
            "ORDER BY f NULLS LAST, rule, _host NULLS LAST"
        ).collect()
        alerts = [group_alert(info, tuple(g), window, samples, _time) for g in groups]
        return alerts


def _time(micros: Any) -> datetime | None:
    if micros is None:
        return None
    return _EPOCH + timedelta(microseconds=int(micros))


def _problem(info: RuleInfo, exc: Exception) -> RuleProblem:
    text = str(exc).strip()
    reason = text.splitlines()[0] if text else type(exc).__name__
    return RuleProblem(
        info.file or "<memory>", f"failed at run time: {reason}", info.id, info.title
    )
