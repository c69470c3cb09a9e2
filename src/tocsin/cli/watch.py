"""``tocsin watch``: advisories matched to the inventory.

``tocsin watch match`` is stateless: an inventory file and advisory files in, findings out,
no database (docs/matching.md describes the output). The other commands work on the
database: ``update``, ``mirror`` and ``load`` bring advisories in, ``run`` updates, matches
every establishment, writes and sends the bulletins (for cron or a systemd timer),
``exposures`` and ``exposure`` list and triage, ``bulletin`` renders one bulletin
(docs/bulletins.md). Exit codes: 0 ok, 1 ``--fail-on`` hit, 2 usage, 3 bad input,
4 a feed or a delivery channel unavailable.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from tocsin.cli.output import OutputFormat, console, emit
from tocsin.cli.state import STATE
from tocsin.errors import TocsinError, UsageError
from tocsin.model.finding import Decision, Finding
from tocsin.model.inventory import Criticality
from tocsin.notify import deliver_bulletin
from tocsin.notify.webhook import WebhookMode
from tocsin.report import collect_bulletin, write_bulletin
from tocsin.report.render import BulletinFormat, render_bulletin
from tocsin.store.exposure_queries import ExposureFilter, ExposureView
from tocsin.watch.bulletin import Lang as BulletinLang
from tocsin.watch.bulletin import Period
from tocsin.watch.feeds import Feed, load_feeds
from tocsin.watch.fetch import FetchClient
from tocsin.watch.lifecycle import Status
from tocsin.watch.mirror import mirror
from tocsin.watch.service import (
    FeedDocuments,
    UpdateReport,
    exposure_history,
    feed_from_path,
    get_exposure,
    list_exposures,
    live_feeds,
    load_advisories,
    mirror_feeds,
    run_watch,
)
from tocsin.watch.sources.base import Document
from tocsin.watch.stateless import MatchRun, SourceSpec, run_match
from tocsin.watch.suppress import SuppressionScope
from tocsin.watch.triage import transition

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


# -- feeds into the store --------------------------------------------------------------------
def _progress(out: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} documents"),
        TimeElapsedColumn(),
        console=out,
        transient=True,
        disable=not out.is_terminal,
    )


def _counted(feeds: Iterable[FeedDocuments], bar: Progress) -> Iterator[FeedDocuments]:
    """The feeds, with their documents counted on the progress bar as they are read."""
    task = bar.add_task("feeds", total=None)

    def counting(name: str, documents: Iterable[Document]) -> Iterator[Document]:
        for done, document in enumerate(documents, start=1):
            bar.update(task, description=name, completed=done)
            yield document

    for feed in feeds:
        bar.update(task, description=feed.name, completed=0)
        yield replace(feed, documents=counting(feed.name, feed.documents))


def _chosen(feeds: Iterable[Feed], names: Sequence[str]) -> list[Feed]:
    every = list(feeds)
    unknown = sorted(set(names) - {f.name for f in every})
    if unknown:
        known = ", ".join(f.name for f in every)
        raise UsageError(f"unknown feed {', '.join(unknown)}; configured feeds: {known}")
    return [f for f in every if not names or f.name in names]


def _feeds(
    from_dir: Path | None, names: Sequence[str], client: FetchClient
) -> Iterable[FeedDocuments]:
    if from_dir is not None:
        return (f for f in mirror_feeds(from_dir) if not names or f.name in names)
    return live_feeds(STATE.database, _chosen(load_feeds(), names), client)


def _load_rows(report: UpdateReport) -> Iterator[dict[str, object]]:
    for load in report.feeds:
        reasons = Counter(skip.reason for skip in load.skipped)
        yield {
            "feed": load.feed,
            "kind": load.kind,
            **load.counts(),
            "skips": dict(reasons.most_common()),
            "error": load.error,
        }


_LOAD_COLUMNS: tuple[str, ...] = ("feed", "kind", "documents", "inserted", "updated", "older")
_LOAD_COLUMNS += ("enrichments", "skipped", "error")


def _print_update(report: UpdateReport, fmt: OutputFormat, out: Console) -> None:
    emit(_load_rows(report), fmt, _LOAD_COLUMNS, title="Feeds", wrapper="feeds")
    if fmt is not OutputFormat.TABLE:
        return
    for load in report.feeds:
        reasons = Counter(skip.reason for skip in load.skipped)
        for reason, count in reasons.most_common(_MAX_REASONS_SHOWN):
            out.print(f"  {load.feed}: {count} × {reason}", markup=False, highlight=False)


FeedOption = Annotated[
    list[str] | None, typer.Option("--feed", help="Only this feed (repeat for several).")
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", envvar="TOCSIN_FORMAT")]


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
    with FetchClient() as client, _progress(out) as bar:
        report = load_advisories(
            STATE.database, _counted(_feeds(from_dir, feed or [], client), bar)
        )
    _print_update(report, fmt, out)
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
    with FetchClient() as client, _progress(out) as bar:
        task = bar.add_task("mirror", total=None)

        def progress(name: str, done: int) -> None:
            bar.update(task, description=name, completed=done)

        report = mirror(_chosen(load_feeds(), feed or []), client, dest, progress)
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
    with _progress(out) as bar:
        report = load_advisories(STATE.database, list(_counted(feeds, bar)))
    _print_update(report, fmt, out)
    if report.failed:
        raise typer.Exit(3)


# -- run: update, match, bulletins, delivery -----------------------------------------------
class Lang(StrEnum):
    FR = "fr"
    EN = "en"


EstablishmentsOption = Annotated[
    list[str] | None,
    typer.Option("--establishment", "-e", help="Only this establishment (repeat; default: all)."),
]
PeriodOption = Annotated[Period, typer.Option("--period", help="daily: 24 hours; weekly: 7 days.")]
LangOption = Annotated[
    Lang | None, typer.Option("--lang", help="Bulletin language (default: the setting, fr).")
]


def _lang(lang: Lang | None) -> BulletinLang:
    return "en" if (lang or STATE.settings.language) == "en" else "fr"


_RUN_COLUMNS = ("establishment", "assets", "findings", "created", "reopened", "fixed", "closed")


@app.command("run")
def run(
    establishment: EstablishmentsOption = None,
    no_update: Annotated[
        bool, typer.Option("--no-update", help="Match the stored data only.")
    ] = False,
    from_dir: Annotated[Path | None, typer.Option("--from", help="Update from a mirror.")] = None,
    notify: Annotated[bool, typer.Option("--notify", help="Send the bulletins.")] = False,
    to: Annotated[
        list[str] | None,
        typer.Option("--to", envvar="TOCSIN_NOTIFY_TO", help="Email recipient (repeat)."),
    ] = None,
    webhook: Annotated[
        list[str] | None,
        typer.Option("--webhook", envvar="TOCSIN_NOTIFY_WEBHOOK", help="Webhook URL (repeat)."),
    ] = None,
    webhook_mode: Annotated[
        WebhookMode, typer.Option("--webhook-mode", help="json, or text for Teams/Mattermost.")
    ] = WebhookMode.JSON,
    period: PeriodOption = Period.DAILY,
    lang: LangOption = None,
    bulletins: Annotated[
        Path | None,
        typer.Option("--bulletins", help="Where bulletins go (default: $TOCSIN_HOME/bulletins)."),
    ] = None,
) -> None:
    """Update the feeds, match every establishment, write and send the bulletins.

    Exit 4 when a feed or a delivery failed (everything else was still done).
    """
    out = console(stderr=True)
    database = STATE.database
    with FetchClient() as client, _progress(out) as bar:
        feeds = () if no_update else _counted(_feeds(from_dir, [], client), bar)
        task = bar.add_task("matching", total=None)
        result = run_watch(database, feeds, STATE.aliases, establishments=establishment or [])
        bar.update(task, completed=len(result.matches))
    if not no_update:
        _print_update(result.update, OutputFormat.TABLE, out)
    emit(
        (m.counts() | {"establishment": m.establishment} for m in result.matches),
        OutputFormat.TABLE,
        _RUN_COLUMNS,
        title="Match runs",
    )
    folder = bulletins or STATE.settings.home / "bulletins"
    failed = not result.update.ok
    for report in result.matches:
        bulletin = collect_bulletin(database, report.establishment, period=period, lang=_lang(lang))
        for path in write_bulletin(bulletin, folder):
            out.print(f"bulletin {path}", markup=False, highlight=False)
        if notify:
            for done in deliver_bulletin(
                bulletin,
                STATE.settings.smtp,
                recipients=to or [],
                webhooks=webhook or [],
                webhook_mode=webhook_mode,
            ):
                state = "sent" if done.error is None else f"failed: {done.error}"
                out.print(f"{done.channel} {done.target}: {state}", markup=False, highlight=False)
                failed = failed or done.error is not None
    if failed:
        raise typer.Exit(4)


# -- exposures -------------------------------------------------------------------------------
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
        "status": view.status.value,
        "status_reason": view.status_reason,
        "status_until": None if view.status_until is None else view.status_until.isoformat(),
        "due": None if view.due_date is None else view.due_date.isoformat(),
        "first_seen": view.first_seen.isoformat(),
        "last_seen": view.last_seen.isoformat(),
    }


@app.command("exposures")
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


@app.command("exposure")
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


# -- bulletin --------------------------------------------------------------------------------
@app.command("bulletin")
def bulletin(
    establishment: Annotated[
        str, typer.Option("--establishment", "-e", envvar="TOCSIN_ESTABLISHMENT")
    ],
    period: PeriodOption = Period.DAILY,
    lang: LangOption = None,
    fmt: Annotated[BulletinFormat, typer.Option("--format", "-f")] = BulletinFormat.HTML,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Default: stdout.")] = None,
) -> None:
    """Render the bulletin of one establishment (HTML, Markdown, JSON or PDF)."""
    document = collect_bulletin(STATE.database, establishment, period=period, lang=_lang(lang))
    data = render_bulletin(document, fmt)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
        console(stderr=True).print(f"bulletin written to {output}", markup=False, highlight=False)
