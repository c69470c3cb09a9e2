"""``tocsin phish``: analyse reported emails (no database for ``analyze``)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from tocsin.cli.output import OutputFormat, console, emit
from tocsin.cli.state import STATE
from tocsin.errors import InputError, UsageError

if TYPE_CHECKING:  # the engine (and its checks' libraries) load only when a command runs
    from tocsin.phishing.analyze import Analysis

app = typer.Typer(help="Phishing: analyse the emails staff report.", no_args_is_help=True)

_COLUMNS = ("source", "verdict", "score", "from", "subject", "reasons")


def _row(document: dict[str, object]) -> dict[str, object]:
    source = document["source"]
    assert isinstance(source, dict)
    reasons = document["reasons"]
    assert isinstance(reasons, list)
    where = source["file"] if source["index"] is None else f"{source['file']}[{source['index']}]"
    return {
        **document,
        "source": where,
        "reasons": [f"{r['code']} ({r['points']:+d})" for r in reasons[:5]],
    }


def _share(
    shared: list[Analysis], stix: Path | None, misp: Path | None, producer: str, tlp: str
) -> None:
    """Write the indicators of the phishing and suspicious messages, when asked."""
    from tocsin.phishing.share import misp_event, stix_bundle

    outputs: list[tuple[Path, dict[str, object]]] = []
    if stix is not None:
        outputs.append((stix, stix_bundle(shared, producer, tlp=tlp)))
    if misp is not None:
        outputs.append((misp, misp_event(shared, producer, tlp=tlp)))
    for path, document in outputs:
        path.write_text(json.dumps(document, ensure_ascii=False, indent=1), "utf-8")
        console(stderr=True).print(f"indicators of {len(shared)} message(s) → {path}")


@app.command("analyze")
def analyze(
    paths: Annotated[list[Path], typer.Argument(help=".eml files, mbox files or folders.")],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", envvar="TOCSIN_FORMAT")
    ] = OutputFormat.TABLE,
    unwrap: Annotated[
        bool,
        typer.Option("--unwrap/--no-unwrap", help="Judge a forwarded message, not the report."),
    ] = True,
    stats: Annotated[
        bool, typer.Option("--stats", help="Counts and messages/s on stderr.")
    ] = False,
    stix: Annotated[
        Path | None, typer.Option("--stix", help="Write a STIX 2.1 bundle of the indicators.")
    ] = None,
    misp: Annotated[
        Path | None, typer.Option("--misp", help="Write a MISP event of the indicators.")
    ] = None,
    producer: Annotated[
        str, typer.Option("--producer", help="Who shares (the establishment's name).")
    ] = "Tocsin",
    tlp: Annotated[str, typer.Option("--tlp", help="white, green, amber or red.")] = "amber",
) -> None:
    """One verdict per message: phishing, suspicious or legitimate, a score and reasons."""
    from tocsin.phishing.analyze import analyze_bytes
    from tocsin.phishing.context import context_from
    from tocsin.phishing.model import Verdict
    from tocsin.phishing.parse import iter_sources

    settings = STATE.settings
    context = context_from(settings.phishing, settings.language)

    if tlp not in ("white", "green", "amber", "red"):
        raise UsageError("--tlp is white, green, amber or red")
    counts = {"phishing": 0, "suspicious": 0, "legitimate": 0, "refused": 0}
    shared: list[Analysis] = []
    started = time.perf_counter()
    errors = console(stderr=True)

    def documents() -> Iterator[dict[str, object]]:
        for source, raw in iter_sources(paths):
            try:
                result = analyze_bytes(raw, source, context, unwrap=unwrap)
            except InputError as exc:
                counts["refused"] += 1
                errors.print(f"[yellow]refused[/]: {escape(str(exc))}")
                continue
            counts[result.verdict.value] += 1
            if result.verdict is not Verdict.LEGITIMATE:
                shared.append(result)
            document = result.to_dict()
            yield _row(document) if fmt is OutputFormat.TABLE else document

    emit(documents(), fmt, _COLUMNS, title="Phishing analysis", wrapper="messages")
    _share(shared, stix, misp, producer, tlp)
    if stats:
        seconds = time.perf_counter() - started
        total = sum(counts.values())
        errors.print(
            f"{total:,} messages in {seconds:.1f} s ({total / seconds if seconds else 0:,.0f}/s): "
            + ", ".join(f"{n:,} {name}" for name, n in counts.items())
        )


@app.command("export-labelled")
def export_labelled_command(
    folder: Annotated[Path, typer.Argument(help="Where to write phishing/ and legitimate/.")],
    establishment: Annotated[
        str, typer.Option("--establishment", "-e", help="Establishment slug.", show_default=False)
    ],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", envvar="TOCSIN_FORMAT")
    ] = OutputFormat.TABLE,
) -> None:
    """Write the reports an analyst gave a verdict as labelled .eml files, for retraining
    (python -m tocsin.phishing.train --extra FOLDER)."""
    from tocsin.phishing.labelled import export_labelled
    from tocsin.store.inventory import get_establishment
    from tocsin.store.phishing import overridden_reports

    with STATE.database.session() as session:
        est = get_establishment(session, establishment)
        labelled = ((report.verdict, raw) for report, raw in overridden_reports(session, est.id))
        counts = export_labelled(labelled, folder)
    rows = [
        {"folder": name, "messages": counts.get(name, 0)}
        for name in ("phishing", "legitimate", "suspicious")
    ]
    emit(rows, fmt, ("folder", "messages"), title=f"Labelled reports → {folder}", wrapper="folders")


from tocsin.cli import phish_mailbox  # noqa: E402, F401
