"""``tocsin detect ddos``: floods on web and firewall targets of the event store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from tocsin.cli.detect import app
from tocsin.cli.output import OutputFormat, console, emit
from tocsin.cli.state import STATE
from tocsin.detect.detectors.ddos import detect
from tocsin.detect.detectors.ddos_model import DdosAlert, DdosPolicy
from tocsin.detect.detectors.ddos_store import read_minutes
from tocsin.detect.store import default_store
from tocsin.errors import UsageError

_COLUMNS = ("level", "log", "target", "start", "end", "peak_rate", "baseline", "shape", "top")
_TIME_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"]


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _table_row(alert: DdosAlert) -> dict[str, Any]:
    row = alert.to_dict()
    row["start"] = f"{alert.start:%Y-%m-%d %H:%M}"
    row["end"] = f"{alert.end:%H:%M}" + (" (ongoing)" if alert.ongoing else "")
    row["baseline"] = f"{alert.baseline:,.0f}"
    row["peak_rate"] = f"{alert.peak_rate:,} ({row['peak_ratio']}x)"
    row["top"] = [f"{s} ({n:,})" for s, n in alert.top_sources[:3]]
    return row


@app.command("ddos")
def ddos_command(
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            envvar="TOCSIN_DETECT_STORE",
            help="Event store (default: $TOCSIN_HOME/detect/events).",
        ),
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option("--since", formats=_TIME_FORMATS, help="From this time (UTC if no zone)."),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option("--until", formats=_TIME_FORMATS, help="Up to this time, inclusive."),
    ] = None,
    timezone: Annotated[
        str,
        typer.Option(
            "--timezone",
            envvar="TOCSIN_TIMEZONE",
            help="Zone of the hour-of-week baselines (e.g. Europe/Paris).",
        ),
    ] = "UTC",
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", envvar="TOCSIN_FORMAT", help="Output format.")
    ] = OutputFormat.TABLE,
) -> None:
    """Find floods in web access and FortiGate logs (per-minute rates against baselines).

    Baselines are learned from the history in the selected range: give it at least a day
    before the period of interest (a week or more for hour-of-week baselines).
    """
    try:
        policy = DdosPolicy(timezone=timezone)
        minutes = read_minutes(store or default_store(STATE.settings), _utc(since), _utc(until))
        alerts = detect(minutes, policy)
    except (ValueError, LookupError) as exc:  # unknown zone, inverted policy bounds
        raise UsageError(str(exc)) from exc
    if output is OutputFormat.TABLE:
        emit(
            (_table_row(a) for a in alerts),
            output,
            _COLUMNS,
            title=f"DDoS: {len(alerts)} flood(s) over {len({m.target for m in minutes})} target(s)",
        )
        if not minutes:
            console(stderr=True).print("no web or fortigate events in the store for this range")
    else:
        emit((a.to_dict() for a in alerts), output, (), wrapper="alerts")
