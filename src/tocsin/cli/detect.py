"""``tocsin detect``: read logs into the event store (and, later, run rules on them)."""

from __future__ import annotations

from enum import StrEnum
from os import cpu_count
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tocsin.cli.output import OutputFormat, console, emit
from tocsin.cli.state import STATE
from tocsin.detect.ingest import IngestReport, ingest
from tocsin.detect.store import default_store

app = typer.Typer(help="Detect attacks in logs: ingest, rules, alerts.", no_args_is_help=True)


class LogFormatName(StrEnum):
    AUTO = "auto"
    EVTX = "evtx"
    JSONL = "jsonl"
    SYSLOG = "syslog"
    WEB = "web"
    FORTIGATE = "fortigate"


def _print_ingest(report: IngestReport, stats: bool) -> None:
    out = console(stderr=True)
    table = Table(title=f"Ingested into {escape(report.store)}")
    for column in ("source", "events"):
        table.add_column(column, justify="right" if column == "events" else "left")
    for source, count in sorted(report.sources.items()):
        table.add_row(source, f"{count:,}")
    console().print(table)
    out.print(
        f"{report.events:,} events from {len(report.files)} files "
        f"({report.bytes / 1e6:,.1f} MB) in {report.seconds:.1f} s; "
        f"{report.warnings_total:,} records skipped; {len(report.skipped_files)} files skipped"
    )
    if stats:
        out.print(f"{report.events_per_second:,.0f} events/s; {len(report.written)} Parquet files")
        for item in report.files:
            out.print(f"  {escape(item.file)}: {item.format}, {item.events:,} events")
    for warning in report.skipped_files[:10]:
        out.print(f"[yellow]skipped file[/]: {escape(str(warning))}")
    for warning in report.warnings[:20]:
        out.print(f"[yellow]warning[/]: {escape(str(warning))}")
    if report.warnings_total > 20:
        out.print(f"… and {report.warnings_total - 20:,} more warnings")


@app.command("ingest")
def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Log files or folders (gzip accepted).")],
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            envvar="TOCSIN_DETECT_STORE",
            help="Event store (default: $TOCSIN_HOME/detect/events).",
        ),
    ] = None,
    log_format: Annotated[
        LogFormatName, typer.Option("--log-format", "-l", help="Force a log format.")
    ] = LogFormatName.AUTO,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", envvar="TOCSIN_FORMAT", help="Report format.")
    ] = OutputFormat.TABLE,
    stats: Annotated[bool, typer.Option("--stats", help="Rates and per-file counts.")] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            envvar="TOCSIN_INGEST_WORKERS",
            help="Processes reading the files (default: one per core).",
        ),
    ] = None,
) -> None:
    """Read logs (EVTX, JSON lines, syslog, web access, FortiGate) into the event store."""
    target = store or default_store(STATE.settings)
    formats = None if log_format is LogFormatName.AUTO else [log_format.value]
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=(progress_console := console(stderr=True)),
        transient=True,
        disable=not progress_console.is_terminal,
    ) as bar:
        task = bar.add_task("reading", total=None)

        def progress(stage: str, done: int, total: int | None) -> None:
            bar.update(task, description=escape(stage[:40]), completed=done, total=total)

        report = ingest(
            paths, target, formats=formats, progress=progress, workers=workers or cpu_count() or 1
        )
    if output is OutputFormat.TABLE:
        _print_ingest(report, stats)
    else:
        emit([report.summary()], output, (), wrapper="ingests")


# The other detect commands live in modules of their own, which register on `app` (they
# import it from here, hence at the end).
from tocsin.cli import detect_alerts, detect_ddos, detect_run, detect_watch  # noqa: E402, F401

app.command("run")(detect_run.run)
