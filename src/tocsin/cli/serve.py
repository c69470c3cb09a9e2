"""``tocsin serve``: the dashboard and the JSON API."""

from __future__ import annotations

from typing import Annotated

import typer

from tocsin.cli.state import STATE


def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
) -> None:
    """Start the dashboard (Ctrl-C stops it)."""
    import uvicorn

    from tocsin.web.app import create_app

    settings = STATE.settings
    bind_host = host or settings.web.host
    bind_port = port or settings.web.port
    app = create_app(settings, STATE.database, bind_host=bind_host)
    typer.echo(f"Tocsin dashboard on http://{bind_host}:{bind_port}/ (Ctrl-C to stop)")
    uvicorn.run(app, host=bind_host, port=bind_port, log_level="info", proxy_headers=False)
