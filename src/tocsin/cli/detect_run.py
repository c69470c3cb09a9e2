"""``tocsin detect run``: Sigma rules over log files (or an event store), no database needed.

Parses the options, calls :func:`tocsin.detect.run.run_detection`, renders the alerts
(docs/detect-run.md). Exit codes: 0 done, 1 ``--fail-on`` met, 2 usage, 3 bad input.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from tocsin.cli.output import OutputFormat, console, emit
from tocsin.detect.run import (
    DetectionRequest,
    RunReport,
    alert_document,
    level_at_least,
    run_detection,
)
from tocsin.detect.sigma.select import RuleFilter

COLUMNS = ("level", "title", "count", "first", "last", "hosts", "attack")


class EngineName(StrEnum):
    DUCKDB = "duckdb"
    SPARK = "spark"


class Level(StrEnum):
    INFORMATIONAL = "informational"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Status(StrEnum):
    STABLE = "stable"
    TEST = "test"
    EXPERIMENTAL = "experimental"
    DEPRECATED = "deprecated"
    UNSUPPORTED = "unsupported"


def _print_stats(report: RunReport) -> None:
    out = console(stderr=True)
    if report.ingest is not None:
        ing = report.ingest
        out.print(
            f"ingested {ing.events:,} events from {len(ing.files)} files in "
            f"{ing.seconds:.1f} s; {ing.warnings_total:,} records skipped; "
            f"{len(ing.skipped_files)} files skipped"
        )
    out.print(
        f"{report.events_read:,} events read; {report.rules_loaded:,} rules loaded, "
        f"{report.rules_selected:,} selected, {report.detection.rules_run:,} run; "
        f"{len(report.skipped):,} rules skipped; {len(report.alerts):,} alerts"
    )
    out.print(
        f"{report.engine}: {report.detection.seconds:.2f} s, "
        f"{report.events_per_second:,.0f} events/s; total {report.seconds:.2f} s"
    )
    for reason, count in report.skipped_reasons().most_common():
        out.print(f"  skipped {count:,}: {escape(reason)}")
    for problem in report.skipped:
        out.print(f"  [yellow]skipped[/]: {escape(str(problem))}")


def run(
    rules: Annotated[
        list[Path],
        typer.Option("--rules", "-r", help="Sigma rule folder, file or .zip (repeatable)."),
    ],
    logs: Annotated[
        list[Path] | None,
        typer.Option("--logs", "-L", help="Log file or folder to read (repeatable)."),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Read this existing event store instead of --logs."),
    ] = None,
    engine: Annotated[
        EngineName,
        typer.Option("--engine", "-e", envvar="TOCSIN_DETECT_ENGINE", help="Query engine."),
    ] = EngineName.DUCKDB,
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            envvar="TOCSIN_SPARK_MASTER",
            help="Spark master URL (default: local[*]).",
        ),
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", envvar="TOCSIN_FORMAT", help="Output format.")
    ] = OutputFormat.TABLE,
    stats: Annotated[
        bool, typer.Option("--stats", help="Counts, speed and every skipped rule (stderr).")
    ] = False,
    level: Annotated[
        Level | None, typer.Option("--level", help="Only rules at or above this level.")
    ] = None,
    status: Annotated[
        list[Status] | None, typer.Option("--status", help="Only rules of this status.")
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", help="Only rules with this tag or one under it (attack.t1490)."),
    ] = None,
    fail_on: Annotated[
        Level | None,
        typer.Option("--fail-on", help="Exit 1 when an alert is at or above this level."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            envvar="TOCSIN_INGEST_WORKERS",
            help="Processes reading --logs (default: one per core).",
        ),
    ] = None,
    memory_limit: Annotated[
        str,
        typer.Option(
            "--memory-limit",
            envvar="TOCSIN_DETECT_MEMORY_LIMIT",
            help="DuckDB's memory (2GB, 80%); beyond it, it spills to disk.",
        ),
    ] = "2GB",
    chunk_rows: Annotated[
        int,
        typer.Option(
            "--chunk-rows",
            min=1,
            envvar="TOCSIN_DETECT_CHUNK_ROWS",
            help="Events read at once (whole days): fewer use less memory, more plan less.",
        ),
    ] = 1_000_000,
) -> None:
    """Run Sigma rules over logs and print one alert per rule, host and hour."""
    request = DetectionRequest(
        rules=rules,
        logs=logs or (),
        store=store,
        engine=engine.value,
        spark_master=spark_master,
        ingest_workers=workers,
        memory_limit=memory_limit,
        chunk_rows=chunk_rows,
        rule_filter=RuleFilter(
            statuses=frozenset(s.value for s in status or ()),
            min_level=level.value if level else None,
            tags=frozenset(t.lower() for t in tag or ()),
        ),
    )
    report = run_detection(request)
    documents = (alert_document(alert) for alert in report.alerts)
    if output is OutputFormat.TABLE:
        emit(map(_row, documents), output, COLUMNS, title=f"{len(report.alerts)} alerts")
    else:
        emit(documents, output, (), wrapper="alerts")
    if stats:
        _print_stats(report)
    elif report.skipped:
        console(stderr=True).print(
            f"{len(report.skipped):,} rules skipped (--stats says which and why)"
        )
    if fail_on is not None and any(
        level_at_least(a.rule.level, fail_on.value) for a in report.alerts
    ):
        raise typer.Exit(1)


def _row(document: dict[str, Any]) -> dict[str, Any]:
    """A table row: the alert without its samples, times to the second."""
    row = dict(document)
    for key in ("first", "last"):
        if row[key]:
            row[key] = str(row[key])[:19].replace("T", " ")
    return row
