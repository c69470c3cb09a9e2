"""``tocsin demo``: a demo establishment on the embedded database, ready to browse."""

from __future__ import annotations

from typing import Annotated

import typer

from tocsin.cli.output import console
from tocsin.cli.state import STATE


def demo(
    reset: Annotated[
        bool, typer.Option("--reset", help="Recreate the demo data from scratch.")
    ] = False,
    serve: Annotated[bool, typer.Option("--serve", help="Start the dashboard afterwards.")] = False,
) -> None:
    """Create the demo establishment with ~300 assets and a demo admin account."""
    from tocsin.demo import run_demo

    result = run_demo(STATE.database, STATE.aliases, reset=reset)
    out = console()
    out.print(f"[bold]{result.establishment_name}[/]: {result.assets} assets")
    if result.password is not None:
        out.print(
            f"demo admin account: [bold]{result.username}[/]  "
            f"password (shown once): [bold]{result.password}[/]"
        )
    else:
        out.print(
            f"demo admin account [bold]{result.username}[/] already exists "
            f"(tocsin user passwd {result.username} to reset it)"
        )
    settings = STATE.settings
    out.print(
        f"open the dashboard: run [bold]tocsin serve[/] (or make serve) and browse "
        f"http://{settings.web.host}:{settings.web.port}/"
    )
    if serve:
        from tocsin.cli.serve import serve as serve_command

        serve_command(None, None)
