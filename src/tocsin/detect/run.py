"""Stateless detection: logs (or an existing event store) + Sigma rules → alerts.

``run_detection(DetectionRequest(...))`` is the whole of ``tocsin detect run``: it reads the
logs into a temporary Parquet store with the ingest service (or reads the store it is
given), loads, selects and compiles the rules, runs one engine and returns a
:class:`RunReport`. No database, nothing printed, nothing left on disk; the web pages and
the scheduler reuse it as it is. ``alert_document`` is the JSON shape of an alert
(docs/detect-run.md), the one every face renders.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tocsin.detect.engines.base import Alert, DetectionResult, Engine, TimeRange
from tocsin.detect.ingest import IngestReport, ingest
from tocsin.detect.sigma.compile import compile_rules
from tocsin.detect.sigma.loader import RuleLimits, RuleProblem, load_rules
from tocsin.detect.sigma.select import LEVELS, RuleFilter, select
from tocsin.errors import InputError, Location, UsageError

ENGINES = ("duckdb", "spark")
ALERT_VERSION = 1


@dataclass(frozen=True)
class DetectionRequest:
    """What to run: rule paths, and either log paths or an existing store."""

    rules: Sequence[Path]
    logs: Sequence[Path] = ()
    store: Path | None = None
    engine: str = "duckdb"
    rule_filter: RuleFilter = field(default_factory=RuleFilter)
    time_range: TimeRange | None = None
    spark_master: str | None = None
    alert_window_seconds: int = 3600
    sample_limit: int = 10
    log_formats: Sequence[str] | None = None
    rule_limits: RuleLimits = field(default_factory=RuleLimits)
    ingest_workers: int | None = None  # processes reading ``logs``; None: one per core
    memory_limit: str = "2GB"  # DuckDB's own tables (Arrow rows being split come on top)
    chunk_rows: int = 1_000_000  # events DuckDB reads at once (whole days)


@dataclass
class RunReport:
    """The result of one stateless run, with what a ``--stats`` summary needs."""

    engine: str
    detection: DetectionResult
    rules_loaded: int  # rules (and correlations) read without a problem
    rules_selected: int
    skipped: list[RuleProblem]  # load, compile and run-time problems, in that order
    ingest: IngestReport | None = None
    seconds: float = 0.0

    @property
    def alerts(self) -> list[Alert]:
        return self.detection.alerts

    @property
    def events_read(self) -> int:
        return self.detection.events_read

    @property
    def events_per_second(self) -> float:
        """Events scanned per second of the detection step (ingest excluded)."""
        seconds = self.detection.seconds
        return self.events_read / seconds if seconds > 0 else 0.0

    def skipped_reasons(self) -> Counter[str]:
        """Skipped rules counted per kind of reason (see :func:`reason_group`)."""
        return Counter(reason_group(p.reason) for p in self.skipped)

    def summary(self) -> dict[str, Any]:
        """The ``--stats`` numbers as a JSON object."""
        return {
            "engine": self.engine,
            "events_read": self.events_read,
            "events_ingested": self.ingest.events if self.ingest else None,
            "ingest_warnings": self.ingest.warnings_total if self.ingest else None,
            "rules_loaded": self.rules_loaded,
            "rules_selected": self.rules_selected,
            "rules_run": self.detection.rules_run,
            "rules_skipped": len(self.skipped),
            "skipped_reasons": dict(self.skipped_reasons().most_common()),
            "alerts": len(self.alerts),
            "detect_seconds": round(self.detection.seconds, 3),
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.events_per_second, 1),
        }


_IDS = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def reason_group(reason: str) -> str:
    """The kind of a skip reason, for counting (``no Tocsin log source``, ``cannot compile``…)."""
    if reason.startswith("no Tocsin log source"):
        return "no Tocsin log source"
    head = reason.split(":", 1)[0].strip()
    return _IDS.sub("…", head) or reason


def level_at_least(level: str | None, threshold: str) -> bool:
    """Whether ``level`` is ``threshold`` or above (an unknown level never is)."""
    if level not in LEVELS:
        return False
    return LEVELS.index(level) >= LEVELS.index(threshold)


def make_engine(request: DetectionRequest, store: Path) -> Engine:
    """The engine ``request.engine`` names, over ``store``."""
    if request.engine == "duckdb":
        from tocsin.detect.engines.duckdb import DuckDBEngine

        return DuckDBEngine(
            store,
            memory_limit=request.memory_limit,
            chunk_rows=request.chunk_rows,
            alert_window_seconds=request.alert_window_seconds,
            sample_limit=request.sample_limit,
        )
    if request.engine == "spark":
        try:
            from tocsin.detect.engines.spark import SparkEngine
        except ImportError as exc:
            raise UsageError("the Spark engine needs pyspark: pip install 'tocsin[spark]'") from exc
        return SparkEngine(
            store,
            master=request.spark_master,
            alert_window_seconds=request.alert_window_seconds,
            sample_limit=request.sample_limit,
        )
    raise UsageError(f"unknown engine {request.engine!r} (one of {', '.join(ENGINES)})")


_MEMORY = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B|%)", re.IGNORECASE)


def _check(request: DetectionRequest) -> None:
    if not request.rules:
        raise UsageError("give at least one --rules folder, file or archive")
    if bool(request.logs) == (request.store is not None):
        raise UsageError("give either --logs (one or more) or --store, not both")
    if request.engine not in ENGINES:
        raise UsageError(f"unknown engine {request.engine!r} (one of {', '.join(ENGINES)})")
    if request.chunk_rows < 1:
        raise UsageError(f"--chunk-rows must be at least 1, not {request.chunk_rows}")
    if not _MEMORY.fullmatch(request.memory_limit.strip()):
        raise UsageError(
            f"--memory-limit {request.memory_limit!r} is not a size such as 2GB, 512MB or 80%"
        )
    if request.store is not None and not request.store.is_dir():
        raise InputError("no such event store folder", Location(str(request.store)))


def run_detection(request: DetectionRequest) -> RunReport:
    """Load and compile the rules, read the logs, run the engine (see module docstring)."""
    _check(request)
    started = time.perf_counter()
    ruleset = load_rules(request.rules, request.rule_limits)
    if not ruleset.rules and not ruleset.problems:
        raise InputError("no Sigma rules found", Location(str(request.rules[0])))
    selection = select(ruleset, request.rule_filter)
    compiled = compile_rules(selection)

    def detect(store: Path) -> DetectionResult:
        if not compiled.rules and not compiled.correlations:
            return DetectionResult()  # every rule filtered out or skipped: nothing to scan
        return make_engine(request, store).run(compiled, request.time_range)

    if request.store is not None:
        detection = detect(request.store)
        ingest_report = None
    else:
        with tempfile.TemporaryDirectory(prefix="tocsin-detect-run-") as temp:
            store = Path(temp) / "events"
            workers = request.ingest_workers or os.cpu_count() or 1
            ingest_report = ingest(
                request.logs, store, formats=request.log_formats, workers=workers
            )
            detection = detect(store)
    return RunReport(
        engine=request.engine,
        detection=detection,
        rules_loaded=len(ruleset.rules),
        rules_selected=len(selection.rules),
        skipped=[*ruleset.problems, *compiled.problems, *detection.problems],
        ingest=ingest_report,
        seconds=time.perf_counter() - started,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def alert_document(alert: Alert) -> dict[str, Any]:
    """The JSON object of one alert (docs/detect-run.md, docs/json-shapes.md)."""
    info = alert.rule
    return {
        "version": ALERT_VERSION,
        "rule": info.id,
        "title": info.title,
        "level": info.level,
        "status": info.status,
        "count": alert.count,
        "first": _iso(alert.first),
        "last": _iso(alert.last),
        "window_start": _iso(alert.window_start),
        "hosts": [alert.host] if alert.host is not None else [],
        "attack": list(info.attack),
        "tags": list(info.tags),
        "rule_file": info.file,
        "sample": [
            {"file": e.file, "record": e.record, "time": _iso(e.time), "host": e.host}
            for e in alert.events
        ],
    }
