"""``tocsin detect canary plant|check|rule`` and ``tocsin detect watch DIR``.

Registered on ``tocsin detect`` by the import at the end of cli/detect.py. Exit codes:
``canary check`` 1 when a canary changed, was renamed or deleted (critical); 3 bad input.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tocsin.cli.detect import app
from tocsin.cli.output import OutputFormat, console, emit
from tocsin.cli.state import STATE
from tocsin.detect.detectors import ransomware_extensions
from tocsin.detect.detectors.canary import Manifest, check, plant, sigma_rules
from tocsin.detect.detectors.watcher import WatchAlert, WatchPolicy
from tocsin.detect.detectors.watcher_fs import FolderWatch

canary_app = typer.Typer(help="Decoy files whose slightest change is critical.")
app.add_typer(canary_app, name="canary")

ManifestOption = Annotated[
    Path | None,
    typer.Option(
        "--manifest",
        envvar="TOCSIN_CANARY_MANIFEST",
        help="Canary manifest (default: $TOCSIN_HOME/detect/canaries.json).",
    ),
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", envvar="TOCSIN_FORMAT", help="Output format.")
]


def _manifest_path(option: Path | None) -> Path:
    return option or STATE.settings.home / "detect" / "canaries.json"


@canary_app.command("plant")
def plant_command(
    folder: Annotated[Path, typer.Argument(help="Folder of the share to protect.")],
    count: Annotated[int, typer.Option("--count", "-n", min=1, max=200)] = 5,
    manifest: ManifestOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Place decoy documents in FOLDER and record them in the manifest."""
    path = _manifest_path(manifest)
    recorded = Manifest.load(path)
    planted = plant(folder, count, recorded)
    recorded.save(path)
    rows = [{"path": c.path, "sha256": c.sha256, "size": c.size} for c in planted]
    emit(rows, output, ("path", "size", "sha256"), title="Canaries planted", wrapper="canaries")
    console(stderr=True).print(
        f"{len(planted)} canaries recorded in {escape(str(path))}; "
        "`tocsin detect canary rule` writes the Sigma rules that watch them"
    )


@canary_app.command("check")
def check_command(
    manifest: ManifestOption = None, output: FormatOption = OutputFormat.TABLE
) -> None:
    """Compare every canary with the manifest; exit 1 if any changed, moved or vanished."""
    results = check(Manifest.load(_manifest_path(manifest)))
    rows = [
        {
            "path": r.path,
            "status": r.status.value,
            "severity": "critical" if r.critical else "ok",
            "detail": r.detail,
        }
        for r in results
    ]
    emit(
        rows, output, ("severity", "status", "path", "detail"), title="Canaries", wrapper="canaries"
    )
    if any(r.critical for r in results):
        raise typer.Exit(1)


@canary_app.command("rule")
def rule_command(
    manifest: ManifestOption = None,
    output_file: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the rules here (default stdout).")
    ] = None,
) -> None:
    """Sigma rules making any Windows object-access or Sysmon file event on a canary critical."""
    text = sigma_rules(Manifest.load(_manifest_path(manifest)))
    if output_file is None:
        typer.echo(text, nl=False)
    else:
        output_file.write_text(text, encoding="utf-8")


@app.command("watch")
def watch_command(
    folder: Annotated[Path, typer.Argument(help="Folder (a Samba share's path) to watch.")],
    window: Annotated[float, typer.Option("--window", help="Sliding window, seconds.")] = 60.0,
    duration: Annotated[
        float | None, typer.Option("--duration", help="Stop after this many seconds.")
    ] = None,
    manifest: ManifestOption = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", envvar="TOCSIN_FORMAT")
    ] = OutputFormat.JSONL,
) -> None:
    """Watch FOLDER for ransomware activity; print each alert as it is raised."""
    if not folder.is_dir():
        raise typer.BadParameter(f"{folder} is not a folder")
    canaries = Manifest.load(_manifest_path(manifest)).paths()
    policy = WatchPolicy(
        window_seconds=window, canaries=canaries, known_extensions=ransomware_extensions()
    )
    err = console(stderr=True)

    def show(alert: WatchAlert) -> None:
        if output is OutputFormat.TABLE:
            err.print(f"[bold red]{alert.severity.value}[/] {escape(alert.detail)}")
        else:
            emit([alert.summary()], OutputFormat.JSONL, ())

    err.print(f"watching {escape(str(folder))} ({len(canaries)} canaries); Ctrl-C to stop")
    started = time.monotonic()
    with FolderWatch(folder, policy, show):
        try:
            while duration is None or time.monotonic() - started < duration:
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
