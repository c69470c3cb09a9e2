"""``tocsin demo``: a demo establishment on the configured database, ready to browse."""

from __future__ import annotations

from typing import Annotated

import typer

from tocsin.cli.output import console
from tocsin.cli.state import STATE


def _dashboard_url() -> str:
    web = STATE.settings.web
    host = "127.0.0.1" if web.host in ("0.0.0.0", "::", "") else web.host  # noqa: S104
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{web.port}/"


def _write_bulletin(establishment: str) -> None:
    """Write this week's French bulletin of the demo hospital under $TOCSIN_HOME/bulletins."""
    from tocsin.report import collect_bulletin, write_bulletin

    bulletin = collect_bulletin(STATE.database, establishment, period="weekly", lang="fr")
    written = write_bulletin(bulletin, STATE.settings.home / "bulletins")
    typer.echo("bulletin (French, weekly): " + ", ".join(str(p) for p in written))


def _detect(establishment: str) -> None:
    """Ingest the bundled demo logs and scan them (the dashboard's Detection page)."""
    from tocsin.demo.detection import run_demo_detection

    with console(stderr=True).status("detection: ingesting and scanning the demo logs…"):
        found = run_demo_detection(STATE.database, STATE.settings, establishment)
    typer.echo(
        f"detect: {found.events:,} log events from the bundled demo logs ({found.store}); "
        f"{found.alerts} alerts for {establishment} ({found.high_or_critical} high or "
        f"critical, {found.new} new)"
    )


def _phishing(establishment: str) -> None:
    """Analyse the demo's reported emails (the dashboard's Phishing page)."""
    from tocsin.demo.reports import record_demo_reports

    kept = record_demo_reports(STATE.database, STATE.settings, establishment)
    detail = ", ".join(f"{n} {verdict}" for verdict, n in sorted(kept.by_verdict.items()))
    typer.echo(f"phishing: {kept.kept} reported emails analysed for {establishment} ({detail})")


def demo(
    reset: Annotated[
        bool,
        typer.Option(
            "--reset", help="Delete the demo assets, import them afresh, new admin password."
        ),
    ] = False,
    serve: Annotated[bool, typer.Option("--serve", help="Start the dashboard afterwards.")] = False,
    detect: Annotated[
        bool,
        typer.Option("--detect/--no-detect", help="Ingest the demo logs and scan them."),
    ] = True,
) -> None:
    """Create (or refresh) the demo establishment, ~300 assets and a demo admin account."""
    from tocsin.demo import run_demo

    result = run_demo(STATE.database, STATE.aliases, reset=reset)
    typer.echo(
        f"{result.establishment_name} ({result.establishment_slug}): {result.assets} assets "
        f"({result.added} added, {result.changed} changed, {result.removed} removed, "
        f"{result.unchanged} unchanged)"
    )
    typer.echo(
        f"watch: {result.advisories} advisory records from the bundled snapshot, "
        f"{result.exposures} exposures for {result.establishment_slug}"
    )
    _write_bulletin(result.establishment_slug)
    if detect:
        _detect(result.establishment_slug)
    _phishing(result.establishment_slug)
    if result.password is not None:
        typer.echo(f"demo admin account: {result.username}")
        typer.echo(f"password (shown once): {result.password}")
        sign_in = f"sign in as {result.username} with the password above"
    else:
        typer.echo(
            f"demo admin account {result.username} already exists; its password is unchanged "
            f"(tocsin demo --reset or tocsin user passwd {result.username} sets a new one)"
        )
        sign_in = f"sign in as {result.username} with the password shown by the first run"
    typer.echo("open the dashboard:")
    typer.echo("  1. run: make serve   (or: .venv/bin/tocsin serve)")
    typer.echo(f"  2. browse {_dashboard_url()}")
    typer.echo(f"  3. {sign_in}")
    typer.echo(
        f"  4. the watch bulletin: {_dashboard_url()}watch/bulletin"
        f"?establishment={result.establishment_slug}&period=weekly"
    )
    if detect:
        typer.echo(f"  5. the detection alerts: {_dashboard_url()}detect/alerts")
    typer.echo(f"  6. the reported emails: {_dashboard_url()}phishing/reports")
    if serve:
        from tocsin.cli.serve import serve as serve_command

        serve_command(None, None)
