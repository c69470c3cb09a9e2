"""``tocsin watch exposures`` and ``tocsin watch exposure``: list and triage exposures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from tocsin.cli.output import OutputFormat, console, emit
from tocsin.cli.state import STATE
from tocsin.cli.watch_options import EstablishmentsOption, FormatOption
from tocsin.model.finding import Decision
from tocsin.model.inventory import Criticality
from tocsin.model.reasons import reason_document
from tocsin.store.exposure_queries import ExposureFilter, ExposureView
from tocsin.watch.lifecycle import Status
from tocsin.watch.service import exposure_history, get_exposure, list_exposures
from tocsin.watch.suppress import SuppressionScope
from tocsin.watch.triage import transition

_EXPOSURE_COLUMNS: tuple[str, ...] = (
    "id",
    "decision",
    "score",
    "status",
    "asset",
    "asset_name",
    "criticality",
)
_EXPOSURE_COLUMNS += ("advisory", "fixed", "kev", "due")


def _exposure_row(view: ExposureView) -> dict[str, object]:
    return {
        "id": view.id,
        "establishment": view.establishment,
        "asset": view.asset_key,
        "asset_name": view.asset_name,
        "criticality": None if view.criticality is None else view.criticality.value,
        "advisory": view.advisory,
        "title": view.title,
        "cves": list(view.cves),
        "match": view.match.value,
        "confidence": view.confidence,
        "evidence": view.evidence,
        "fixed": view.fixed_version,
        "kev": view.kev,
        "epss": view.epss,
        "decision": view.decision.value,
        "score": view.score,
        "reasons": list(view.reasons),
        "reason_codes": [reason_document(r) for r in view.reasons],
        "status": view.status.value,
        "status_reason": view.status_reason,
        "status_until": None if view.status_until is None else view.status_until.isoformat(),
        "due": None if view.due_date is None else view.due_date.isoformat(),
        "first_seen": view.first_seen.isoformat(),
        "last_seen": view.last_seen.isoformat(),
    }


def exposures(
    establishment: EstablishmentsOption = None,
    status: Annotated[list[Status] | None, typer.Option("--status", help="Repeatable.")] = None,
    decision: Annotated[
        list[Decision] | None, typer.Option("--decision", help="Repeatable.")
    ] = None,
    criticality: Annotated[
        list[Criticality] | None, typer.Option("--criticality", help="Repeatable.")
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
    limit: Annotated[int | None, typer.Option("--limit", min=1)] = None,
    fail_on: Annotated[
        Decision | None,
        typer.Option("--fail-on", help="Exit 1 when a listed exposure is at or above this."),
    ] = None,
) -> None:
    """List exposures, most urgent first."""
    flt = ExposureFilter(
        establishments=tuple(establishment or ()),
        statuses=tuple(status or ()),
        decisions=tuple(decision or ()),
        criticalities=tuple(criticality or ()),
    )
    views = list_exposures(STATE.database, flt, limit=limit)
    emit(
        (_exposure_row(v) for v in views),
        fmt,
        _EXPOSURE_COLUMNS,
        title="Exposures",
        wrapper="exposures",
    )
    if fail_on is not None and any(v.decision.rank >= fail_on.rank for v in views):
        raise typer.Exit(1)


def exposure(
    exposure_id: Annotated[int, typer.Argument(help="The exposure's number.")],
    set_status: Annotated[Status | None, typer.Option("--set", help="The new status.")] = None,
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    until: Annotated[
        datetime | None, typer.Option("--until", formats=["%Y-%m-%d"], help="Expiry (UTC day).")
    ] = None,
    scope: Annotated[
        SuppressionScope, typer.Option("--scope", help="false_positive: asset or product.")
    ] = SuppressionScope.ASSET,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Show an exposure and its history, or change its status with --set."""
    database = STATE.database
    if set_status is not None:
        day = None if until is None else until.date()
        view = transition(database, exposure_id, set_status, "cli", reason, day, scope=scope)
    else:
        view = get_exposure(database, exposure_id)
    emit(
        [_exposure_row(view)],
        fmt,
        _EXPOSURE_COLUMNS,
        title=f"Exposure #{view.id}",
        wrapper="exposures",
    )
    if fmt is OutputFormat.TABLE:
        out = console()
        for event in exposure_history(database, exposure_id):
            before = event.from_status.value if event.from_status else "—"
            out.print(
                f"{event.at:%Y-%m-%d %H:%M}  {event.actor}  {before} → {event.to_status.value}"
                + (f"  {event.reason}" if event.reason else ""),
                markup=False,
            )
