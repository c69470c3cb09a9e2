"""``tocsin detect scan`` and ``tocsin detect alerts``: stored alerts of an establishment."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tocsin.cli.detect import app
from tocsin.cli.output import OutputFormat, console, emit
from tocsin.cli.state import STATE
from tocsin.detect.alert_document import alert_record, export_lines
from tocsin.detect.alerts import ScanRequest, scan_establishment
from tocsin.detect.engines.base import TimeRange
from tocsin.errors import UsageError
from tocsin.model.alerts import LEVELS, AlertStatus
from tocsin.store.alerts import OPEN_STATUSES, AlertFilter, StoredAlert, get_alert, list_alerts
from tocsin.store.alerts import set_status as store_set_status
from tocsin.store.inventory import get_establishment

_TIME_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"]
_COLUMNS = ("id", "level", "status", "title", "host", "asset", "count", "first", "attack")

alerts_app = typer.Typer(help="Stored detection alerts: list, show, triage, export.")
app.add_typer(alerts_app, name="alerts")

EstablishmentArg = Annotated[
    str, typer.Option("--establishment", "-e", help="Establishment slug.", show_default=False)
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", envvar="TOCSIN_FORMAT")]
SinceOption = Annotated[
    datetime | None,
    typer.Option("--since", formats=_TIME_FORMATS, help="From this time (UTC if no zone)."),
]
UntilOption = Annotated[
    datetime | None,
    typer.Option("--until", formats=_TIME_FORMATS, help="Up to this time, inclusive."),
]


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _check_level(level: str | None) -> str | None:
    if level is not None and level not in LEVELS:
        raise UsageError(f"unknown level {level!r} (one of {', '.join(LEVELS)})")
    return level


@app.command("scan")
def scan(
    establishment: EstablishmentArg,
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", "-r", help="Rule folder, file or .zip (default: bundled packs)."),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option("--store", envvar="TOCSIN_DETECT_STORE", help="Event store folder."),
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    engine: Annotated[str, typer.Option("--engine", envvar="TOCSIN_DETECT_ENGINE")] = "duckdb",
    spark_master: Annotated[
        str | None,
        typer.Option("--spark-master", envvar="TOCSIN_SPARK_MASTER", help="Spark master URL."),
    ] = None,
    no_ddos: Annotated[bool, typer.Option("--no-ddos", help="Skip the DDoS detector.")] = False,
    timezone: Annotated[
        str, typer.Option("--timezone", envvar="TOCSIN_TIMEZONE", help="DDoS baselines' zone.")
    ] = "UTC",
    notify: Annotated[
        bool, typer.Option("--notify", help="Send new high and critical alerts ([notify]).")
    ] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Run the rules and the DDoS detector over the event store; keep the alerts."""
    request = ScanRequest(
        rules=tuple(rules or ()),
        store=store,
        time_range=TimeRange(_utc(since), _utc(until)) if since or until else None,
        engine=engine,
        spark_master=spark_master,
        ddos=not no_ddos,
        ddos_timezone=timezone,
        notify=notify,
    )
    with console(stderr=True).status("scanning the event store…"):
        report = scan_establishment(STATE.database, STATE.settings, establishment, request)
    summary = report.summary()
    if fmt is OutputFormat.TABLE:
        out = console()
        out.print(
            f"{summary['events_read']:,} events, {summary['rules_run']} rules run "
            f"({summary['rules_skipped']} skipped), {summary['sigma_alerts']} rule alerts, "
            f"{summary['ddos_alerts']} floods: {summary['new']} new, {summary['updated']} updated, "
            f"{summary['unchanged']} unchanged; {summary['linked_to_assets']} on inventory assets"
        )
        for line in report.deliveries:
            state = "sent" if line.error is None else f"[red]failed[/]: {escape(line.error)}"
            out.print(f"{line.channel} {escape(line.target)}: {state}")
    else:
        emit([summary], fmt, (), wrapper="scans")
    if any(d.error for d in report.deliveries):
        raise typer.Exit(4)


def _row(stored: StoredAlert) -> dict[str, object]:
    doc = alert_record(stored, events=False)
    return {
        **doc,
        "asset": stored.asset_key or "",
        "first": f"{stored.alert.first:%Y-%m-%d %H:%M}" if stored.alert.first else "",
        "attack": ", ".join(stored.alert.attack),
    }


def _filter(
    level: str | None, status: list[AlertStatus] | None, host: str | None, rule: str | None,
    since: datetime | None, until: datetime | None, all_statuses: bool,
) -> AlertFilter:  # fmt: skip
    statuses = (
        [s.value for s in status] if status else (None if all_statuses else list(OPEN_STATUSES))
    )
    return AlertFilter(
        min_level=_check_level(level),
        statuses=statuses,
        host=host,
        rule=rule,
        since=_utc(since),
        until=_utc(until),
    )


@alerts_app.command("list")
def list_command(
    establishment: EstablishmentArg,
    level: Annotated[str | None, typer.Option("--level", help="At or above this level.")] = None,
    status: Annotated[list[AlertStatus] | None, typer.Option("--status")] = None,
    all_statuses: Annotated[bool, typer.Option("--all", help="Closed ones too.")] = False,
    host: Annotated[str | None, typer.Option("--host")] = None,
    rule: Annotated[str | None, typer.Option("--rule")] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1)] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Alerts, latest first (open ones unless --status or --all)."""
    flt = _filter(level, status, host, rule, since, until, all_statuses)
    with STATE.database.session() as session:
        est = get_establishment(session, establishment)
        found = list_alerts(session, est.id, flt, limit=limit)
    rows = (_row(a) for a in found) if fmt is OutputFormat.TABLE else map(alert_record, found)
    emit(rows, fmt, _COLUMNS, title=f"Alerts of {establishment}", wrapper="alerts")


@alerts_app.command("show")
def show(
    alert_id: Annotated[int, typer.Argument(help="The alert's number.")],
    establishment: EstablishmentArg,
    set_status: Annotated[
        AlertStatus | None, typer.Option("--set", help="Change the status.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note with the change.")] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """One alert with its events; --set changes its status (audited)."""
    with STATE.database.session() as session:
        est = get_establishment(session, establishment)
        if set_status is not None:
            stored = store_set_status(session, est.id, alert_id, set_status, "cli", note)
        else:
            stored = get_alert(session, est.id, alert_id)
    if fmt is not OutputFormat.TABLE:
        emit([alert_record(stored)], fmt, (), wrapper="alerts")
        return
    emit([_row(stored)], fmt, _COLUMNS, title=f"Alert #{stored.id}")
    out = console()
    for event in stored.alert.events:
        when = f"{event.time:%Y-%m-%d %H:%M:%S}" if event.time else "?"
        out.print(f"{when}  {event.host or ''}  {event.file or ''}#{event.record}", markup=False)
        for name, value in list(event.fields.items())[:12]:
            out.print(f"    {name}: {value[:200]}", markup=False)


@alerts_app.command("export")
def export(
    establishment: EstablishmentArg,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="jsonl (with events) or csv.")
    ] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    level: Annotated[str | None, typer.Option("--level", help="At or above this level.")] = None,
    since: SinceOption = None,
    until: UntilOption = None,
) -> None:
    """Every alert (all statuses) as JSON lines or CSV, oldest first."""
    if output_format not in ("jsonl", "csv"):
        raise UsageError("--format is jsonl or csv")
    flt = _filter(level, None, None, None, since, until, True)
    with STATE.database.session() as session:
        est = get_establishment(session, establishment)
        found = list_alerts(session, est.id, flt, limit=None, oldest_first=True)
    target = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        target.writelines(export_lines(found, output_format))
    finally:
        if output:
            target.close()


@app.command("prune")
def prune_command(
    keep_days: Annotated[
        int, typer.Option("--keep-days", min=1, help="Keep this many days, today included.")
    ],
    store: Annotated[
        Path | None,
        typer.Option("--store", envvar="TOCSIN_DETECT_STORE", help="Event store folder."),
    ] = None,
    untimed: Annotated[
        bool, typer.Option("--untimed", help="Also drop the records that had no time.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would go.")] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Drop the event store's days older than the retention (alerts keep their events)."""
    from datetime import timedelta

    from tocsin.detect.retention import prune
    from tocsin.detect.store import default_store

    before = datetime.now(UTC).date() - timedelta(days=keep_days - 1)
    report = prune(store or default_store(STATE.settings), before, untimed=untimed, dry_run=dry_run)
    if fmt is not OutputFormat.TABLE:
        emit([report.summary()], fmt, (), wrapper="prunes")
        return
    days = sorted(p.day for p in report.partitions)
    verb = "would remove" if dry_run else "removed"
    span = f" ({days[0]} … {days[-1]})" if days else ""
    console().print(
        f"{verb} {len(report.partitions)} partitions{span}, {report.bytes / 1e6:,.1f} MB, "
        f"before {before.isoformat()}",
        markup=False,
    )
