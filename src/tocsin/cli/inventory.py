"""``tocsin inventory``: import, list, show and export assets."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from tocsin.cli.output import OutputFormat, console, emit
from tocsin.cli.state import STATE
from tocsin.errors import UsageError
from tocsin.inventory.export import asset_document, iter_csv, iter_json
from tocsin.inventory.service import ImportReport, import_file
from tocsin.model import AssetKind, Criticality, Exposure
from tocsin.store.inventory import AssetFilter, find_assets_by_key, get_asset, iter_assets

app = typer.Typer(
    help="The establishment's assets: import, list, show, export.", no_args_is_help=True
)

LIST_COLUMNS = (
    "establishment",
    "id",
    "name",
    "kind",
    "vendor",
    "product",
    "version",
    "criticality",
    "exposure",
    "function",
)


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"


def _default_establishment(value: str | None) -> str:
    if value:
        return value
    from tocsin.store.inventory import list_establishments

    with STATE.database.session() as session:
        rows = list_establishments(session)
    if len(rows) == 1:
        return rows[0].slug
    if not rows:
        raise UsageError("no establishment yet; create one with 'tocsin establishment add'")
    raise UsageError("several establishments exist; pass --establishment")


def _print_report(report: ImportReport) -> None:
    out = console(stderr=True)
    verb = "would import" if report.dry_run else "imported"
    out.print(
        f"{verb} {report.records} records from {escape(report.file)} "
        f"({report.format}, {report.encoding}) into {escape(report.establishment)} "
        f"{escape(f'[source {report.source}]')}: "
        f"[green]{len(report.diff.added)} added[/], [yellow]{len(report.diff.changed)} changed[/], "
        f"[red]{len(report.diff.removed)} removed[/], {report.diff.unchanged} unchanged"
    )
    for warning in report.warnings[:20]:
        out.print(f"[yellow]warning[/]: {escape(str(warning))}")
    if len(report.warnings) > 20:
        out.print(f"… and {len(report.warnings) - 20} more warnings")


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="CSV, CycloneDX JSON or GLPI CSV export.")],
    establishment: Annotated[
        str | None, typer.Option("--establishment", "-e", envvar="TOCSIN_ESTABLISHMENT")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="csv, cyclonedx, glpi-computers, glpi-software (default: detected).",
        ),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Name of this source; re-imports replace its assets.")
    ] = None,
    encoding: Annotated[str | None, typer.Option(help="Force utf-8 or latin-1.")] = None,
    keep_missing: Annotated[
        bool, typer.Option("--keep-missing", help="Keep this source's assets absent from the file.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the changes, write nothing.")
    ] = False,
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="Report format.")
    ] = OutputFormat.TABLE,
) -> None:
    """Import (or re-import) an inventory file; a bad row aborts the whole import."""
    slug = _default_establishment(establishment)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} records"),
        TimeElapsedColumn(),
        console=(progress_console := console(stderr=True)),
        transient=True,
        disable=not progress_console.is_terminal,
    ) as bar:
        task = bar.add_task("reading", total=None)

        def progress(stage: str, done: int, total: int | None) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        report = import_file(
            STATE.database,
            path,
            slug,
            aliases=STATE.aliases,
            fmt=fmt,
            source=source,
            encoding=encoding,
            prune=not keep_missing,
            dry_run=dry_run,
            max_bytes=STATE.settings.import_max_bytes,
            actor="cli",
            progress=progress,
        )
    if output is OutputFormat.TABLE:
        _print_report(report)
    else:
        emit([report.summary()], output, (), wrapper="imports")


@app.command("list")
def list_(
    establishment: Annotated[list[str] | None, typer.Option("--establishment", "-e")] = None,
    kind: Annotated[list[AssetKind] | None, typer.Option()] = None,
    criticality: Annotated[list[Criticality] | None, typer.Option()] = None,
    exposure: Annotated[list[Exposure] | None, typer.Option()] = None,
    function: Annotated[str | None, typer.Option()] = None,
    tag: Annotated[str | None, typer.Option()] = None,
    search: Annotated[str | None, typer.Option("--search", "-s")] = None,
    limit: Annotated[int | None, typer.Option(min=1)] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", envvar="TOCSIN_FORMAT")
    ] = OutputFormat.TABLE,
) -> None:
    """List assets; jsonl streams one asset a line (bounded memory)."""
    flt = AssetFilter(
        establishments=tuple(establishment or ()),
        kinds=tuple(kind or ()),
        criticalities=tuple(criticality or ()),
        exposures=tuple(exposure or ()),
        function=function,
        tag=tag,
        search=search,
    )
    with STATE.database.session() as session:
        rows = (asset_document(s) for s in iter_assets(session, flt, limit=limit))
        count = emit(rows, fmt, LIST_COLUMNS, title="Assets", wrapper="assets")
    if fmt is OutputFormat.TABLE:
        console(stderr=True).print(f"{count} assets")


@app.command("show")
def show(
    asset_id: Annotated[str, typer.Argument(help="The asset's id.")],
    establishment: Annotated[str | None, typer.Option("--establishment", "-e")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TABLE,
) -> None:
    """Show one asset."""
    with STATE.database.session() as session:
        if establishment:
            found = [get_asset(session, establishment, asset_id)]
        else:
            found = find_assets_by_key(session, asset_id)
            if not found:
                raise UsageError(f"no asset {asset_id!r}")
            if len(found) > 1:
                raise UsageError(
                    f"{len(found)} establishments have an asset {asset_id!r}; pass --establishment"
                )
    doc = asset_document(found[0])
    if fmt is OutputFormat.TABLE:
        out = console()
        for key, value in doc.items():
            shown = (
                ", ".join(value) if isinstance(value, list) else ("" if value is None else value)
            )
            out.print(f"[bold]{key:>14}[/]  {escape(str(shown))}")
    else:
        # One object, not a listing: json is indented, jsonl is one line.
        indent = 2 if fmt is OutputFormat.JSON else None
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=indent) + "\n")


@app.command("export")
def export(
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.CSV,
    establishment: Annotated[list[str] | None, typer.Option("--establishment", "-e")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default: stdout).")
    ] = None,
) -> None:
    """Export assets as CSV (re-importable), JSON or JSON lines."""
    flt = AssetFilter(establishments=tuple(establishment or ()))
    with STATE.database.session() as session:
        assets = iter_assets(session, flt)
        if fmt is ExportFormat.CSV:
            chunks = iter_csv(assets)
        elif fmt is ExportFormat.JSON:
            chunks = iter_json(assets)
        else:
            from tocsin.inventory.export import iter_jsonl

            chunks = iter_jsonl(assets)
        if output is None:
            for chunk in chunks:
                sys.stdout.write(chunk)
            sys.stdout.flush()
            return
        temporary = output.with_name(output.name + ".part")
        try:
            with temporary.open("w", encoding="utf-8", newline="") as handle:
                for chunk in chunks:
                    handle.write(chunk)
            temporary.replace(output)
        finally:
            temporary.unlink(missing_ok=True)
    console(stderr=True).print(f"wrote {escape(str(output))}")
