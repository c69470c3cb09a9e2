"""``tocsin watch``: advisories matched to the inventory.

``tocsin watch match`` is stateless: an inventory file and advisory files in, findings out,
no database (docs/matching.md describes the output).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from tocsin.cli.output import OutputFormat, console, emit
from tocsin.cli.state import STATE
from tocsin.errors import TocsinError
from tocsin.model.finding import Decision, Finding
from tocsin.watch.stateless import MatchRun, SourceSpec, run_match

app = typer.Typer(help="Watch (veille): advisories matched to the inventory.", no_args_is_help=True)

COLUMNS = (
    "decision",
    "score",
    "asset",
    "asset_name",
    "advisory",
    "match",
    "confidence",
    "fixed",
    "kev",
    "epss",
    "due",
)
_MAX_REASONS_SHOWN = 10


@app.callback()
def _group() -> None:
    """Watch (veille): advisories matched to the inventory."""


@app.command("match")
def match(
    inventory: Annotated[
        Path,
        typer.Option(
            "--inventory", "-i", help="Inventory file: Tocsin CSV, CycloneDX JSON or GLPI export."
        ),
    ],
    source: Annotated[
        list[str],
        typer.Option(
            "--source",
            "-s",
            help="KIND=PATH (kinds: nvd, cve5, kev, epss, csaf, certfr, osv); PATH is a file, "
            "a folder or a .gz. Repeat for several sources.",
        ),
    ],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", envvar="TOCSIN_FORMAT")
    ] = OutputFormat.TABLE,
    min_confidence: Annotated[
        float, typer.Option("--min-confidence", min=0.0, max=1.0, help="Hide weaker matches.")
    ] = 0.0,
    fail_on: Annotated[
        Decision | None,
        typer.Option("--fail-on", help="Exit 1 when a finding is at or above this decision."),
    ] = None,
    inventory_format: Annotated[
        str | None,
        typer.Option("--inventory-format", help="Force the inventory format (default: detected)."),
    ] = None,
) -> None:
    """Match advisory files against an inventory file, without any database."""
    out = console(stderr=True)
    try:
        specs = [SourceSpec.parse(text) for text in source]
        result = _run(inventory, specs, inventory_format, out)
    except TocsinError as exc:
        if STATE.debug:
            raise
        out.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(exc.exit_code) from None
    shown = [f for f in result.findings if f.confidence >= min_confidence]
    today = date.today()
    rows = (finding.document(today) for finding in shown)
    emit(rows, fmt, COLUMNS, title="Findings", wrapper="findings")
    _summary(out, result, shown)
    if fail_on is not None and any(f.decision.rank >= fail_on.rank for f in shown):
        raise typer.Exit(1)


def _run(
    inventory: Path, specs: list[SourceSpec], inventory_format: str | None, out: Console
) -> MatchRun:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} documents"),
        TimeElapsedColumn(),
        console=out,
        transient=True,
    ) as bar:
        task = bar.add_task("reading", total=None)

        def progress(label: str, done: int) -> None:
            bar.update(task, description=label, completed=done)

        return run_match(
            inventory,
            specs,
            aliases=STATE.aliases,
            max_bytes=STATE.settings.import_max_bytes,
            inventory_format=inventory_format,
            progress=progress,
        )


def _summary(out: Console, result: MatchRun, shown: list[Finding]) -> None:
    read = result.inventory
    out.print(
        f"inventory {read.file} ({read.format}): {read.records} assets, "
        f"{result.profiles} distinct profiles",
        markup=False,
        highlight=False,
    )
    for warning in read.warnings[:_MAX_REASONS_SHOWN]:
        out.print(f"  warning: {warning}", markup=False, highlight=False)
    for run in result.sources:
        skipped = len(run.report.skipped)
        out.print(
            f"{run.spec}: {run.documents} documents, {run.advisories} advisories, "
            f"{run.enrichments} enrichments, {skipped} skipped",
            markup=False,
            highlight=False,
        )
        reasons = sorted(run.report.reasons().items(), key=lambda item: (-item[1], item[0]))
        for reason, count in reasons[:_MAX_REASONS_SHOWN]:
            out.print(f"  {count} × {reason}", markup=False, highlight=False)
        if len(reasons) > _MAX_REASONS_SHOWN:
            out.print(f"  … and {len(reasons) - _MAX_REASONS_SHOWN} more reasons")
    decisions = Counter(f.decision for f in shown)
    by_decision = ", ".join(f"{decisions[d]} {d.value}" for d in Decision if decisions[d])
    hidden = len(result.findings) - len(shown)
    out.print(
        f"{result.advisories} advisories after merging; {len(shown)} findings"
        + (f" ({by_decision})" if by_decision else "")
        + (f"; {hidden} below --min-confidence" if hidden else ""),
        markup=False,
        highlight=False,
    )
