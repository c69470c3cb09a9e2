"""``tocsin serve``: the dashboard, the JSON API, the Atom feeds and the watch scheduler."""

from __future__ import annotations

import logging
import re
from typing import Annotated

import typer

from tocsin.cli.state import STATE

_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s\"]*", re.IGNORECASE)


class RedactFeedTokens(logging.Filter):
    """Keeps feed tokens (``?token=…``) out of the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_QUERY.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = _TOKEN_IN_QUERY.sub(r"\1[redacted]", record.msg)
        return True


def _log_to_stderr(logger: logging.Logger) -> None:
    """Tocsin's own messages (the scheduler's runs, failures) beside uvicorn's."""
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
) -> None:
    """Start the dashboard (Ctrl-C stops it); with [schedule] enabled, the daily watch too."""
    import uvicorn

    from tocsin.web.app import create_app

    settings = STATE.settings
    bind_host = host or settings.web.host
    bind_port = port or settings.web.port
    app = create_app(settings, STATE.database, bind_host=bind_host)
    logging.getLogger("uvicorn.access").addFilter(RedactFeedTokens())
    _log_to_stderr(logging.getLogger("tocsin"))
    typer.echo(f"Tocsin dashboard on http://{bind_host}:{bind_port}/ (Ctrl-C to stop)")
    if settings.schedule.enabled:
        schedule = settings.schedule
        typer.echo(
            f"watch scheduler: every day at {schedule.daily_at:%H:%M} "
            f"({schedule.timezone or 'server time'}), source {schedule.source}"
        )
    uvicorn.run(app, host=bind_host, port=bind_port, log_level="info", proxy_headers=False)
