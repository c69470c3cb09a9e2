"""``tocsin watch``: advisories matched to the inventory.

``tocsin watch match`` is stateless: an inventory file and advisory files in, findings out,
no database (docs/matching.md describes the output). The other commands work on the
database: ``update``, ``mirror`` and ``load`` bring advisories in, ``run`` updates, matches
every establishment, writes and sends the bulletins (for cron or a systemd timer),
``exposures`` and ``exposure`` list and triage, ``bulletin`` renders one bulletin
(docs/bulletins.md), ``status`` shows the last runs. Exit codes: 0 ok, 1 ``--fail-on`` hit,
2 usage, 3 bad input, 4 a feed or a delivery channel unavailable.

``run`` and ``status`` live in :mod:`tocsin.cli.watch_run`, ``exposures`` and ``exposure`` in
:mod:`tocsin.cli.watch_exposures`; this module registers them.
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from tocsin.cli import watch_exposures, watch_run
from tocsin.cli.output import OutputFormat, console, emit
from tocsin.cli.state import STATE
from tocsin.cli.watch_options import (
    MAX_REASONS_SHOWN,
    FeedOption,
    FormatOption,
    LangOption,
    PeriodOption,
    bulletin_lang,
    counted,
    print_update,
    progress,
)
from tocsin.errors import TocsinError
from tocsin.model.finding import Decision, Finding
from tocsin.report import collect_bulletin
from tocsin.report.render import BulletinFormat, render_bulletin
from tocsin.watch.bulletin import Period
from tocsin.watch.cycle import choose_feeds, cycle_feeds
from tocsin.watch.feeds import load_feeds
from tocsin.watch.fetch import FetchClient
from tocsin.watch.mirror import mirror
from tocsin.watch.service import feed_from_path, load_advisories
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
    for warning in read.warnings[:MAX_REASONS_SHOWN]:
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
        for reason, count in reasons[:MAX_REASONS_SHOWN]:
            out.print(f"  {count} × {reason}", markup=False, highlight=False)
        if len(reasons) > MAX_REASONS_SHOWN:
            out.print(f"  … and {len(reasons) - MAX_REASONS_SHOWN} more reasons")
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


@app.command("update")
def update(
    from_dir: Annotated[
        Path | None, typer.Option("--from", help="Load a mirror folder instead of fetching.")
    ] = None,
    feed: FeedOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Fetch the configured feeds (or load a mirror) into the database; exit 4 if a feed failed."""
    out = console(stderr=True)
    with FetchClient() as client, progress(out) as bar:
        report = load_advisories(
            STATE.database, counted(cycle_feeds(STATE.database, from_dir, client, feed or []), bar)
        )
    print_update(report, fmt, out)
    if report.failed:
        raise typer.Exit(4)


@app.command("mirror")
def mirror_(
    dest: Annotated[Path, typer.Argument(help="Folder to write (replaced when complete).")],
    feed: FeedOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Download every configured feed into a folder, for an air-gapped site."""
    out = console(stderr=True)
    with FetchClient() as client, progress(out) as bar:
        task = bar.add_task("mirror", total=None)

        def advance(name: str, done: int) -> None:
            bar.update(task, description=name, completed=done)

        report = mirror(choose_feeds(load_feeds(), feed or []), client, dest, advance)
    rows = (
        {
            "feed": f.name,
            "kind": f.kind,
            "status": f.status,
            "files": len(f.files),
            "error": f.error,
        }
        for f in report.feeds
    )
    emit(rows, fmt, ("feed", "kind", "status", "files", "error"), title=str(dest), wrapper="feeds")
    if report.failed:
        raise typer.Exit(4)


@app.command("load")
def load(
    sources: Annotated[list[str], typer.Argument(help="KIND=PATH (a file, a folder or a .gz).")],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Load recorded advisory files into the database (demo, tests); exit 3 if one failed."""
    out = console(stderr=True)
    specs = [SourceSpec.parse(text) for text in sources]
    feeds = [feed_from_path(spec.kind, spec.path) for spec in specs]
    with progress(out) as bar:
        report = load_advisories(STATE.database, list(counted(feeds, bar)))
    print_update(report, fmt, out)
    if report.failed:
        raise typer.Exit(3)


# -- bulletin --------------------------------------------------------------------------------
@app.command("bulletin")
def bulletin(
    establishment: Annotated[
        str, typer.Option("--establishment", "-e", envvar="TOCSIN_ESTABLISHMENT")
    ],
    period: PeriodOption = None,
    lang: LangOption = None,
    fmt: Annotated[BulletinFormat, typer.Option("--format", "-f")] = BulletinFormat.HTML,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Default: stdout.")] = None,
) -> None:
    """Render the bulletin of one establishment (HTML, Markdown, JSON or PDF)."""
    target = STATE.settings.notify.target(establishment)
    chosen = period or Period(target.period)
    language = bulletin_lang(lang) if lang or not target.lang else target.lang
    document = collect_bulletin(STATE.database, establishment, period=chosen, lang=language)
    data = render_bulletin(document, fmt)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
        console(stderr=True).print(f"bulletin written to {output}", markup=False, highlight=False)


app.command("run")(watch_run.run)
app.command("status")(watch_run.status)
app.command("exposures")(watch_exposures.exposures)
app.command("exposure")(watch_exposures.exposure)
