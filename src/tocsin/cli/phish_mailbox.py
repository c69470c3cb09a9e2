"""``tocsin phish fetch``: read the report mailbox, keep the reports, answer the reporters.

Set up in docs/phishing-mailbox.md. ``--once`` reads the mailbox once (for a systemd timer
or cron); without it the command reads it every ``--every`` seconds until interrupted, and
a server that cannot be reached is reported and tried again at the next round.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tocsin.cli.output import OutputFormat, console
from tocsin.cli.phish import app
from tocsin.cli.state import STATE
from tocsin.errors import SourceUnavailableError

if TYPE_CHECKING:
    from tocsin.phishing.intake import IntakeReport

_COUNTS = ("fetched", "kept", "duplicates", "replied")
_LISTS = (("skipped", "yellow"), ("unanswered", "cyan"), ("errors", "red"))


def _print(report: IntakeReport, fmt: OutputFormat) -> None:
    document = report.to_dict()
    if fmt is not OutputFormat.TABLE:
        indent = 1 if fmt is OutputFormat.JSON else None
        print(json.dumps(document, ensure_ascii=False, indent=indent))  # noqa: T201 - output
        return
    out = console()
    table = Table(title="Report mailbox")
    for name in (*_COUNTS, "skipped", "errors"):
        table.add_column(name, justify="right")
    table.add_row(
        *(str(document[name]) for name in _COUNTS),
        str(len(report.skipped)),
        str(len(report.errors)),
    )
    out.print(table)
    for name, colour in _LISTS:
        for line in getattr(report, name):
            out.print(f"[{colour}]{name}[/]: {escape(line)}")
    if report.dropped:
        out.print(f"… and {report.dropped} more note(s)")


@app.command("fetch")
def fetch(
    once: Annotated[bool, typer.Option("--once", help="Read the mailbox once, then stop.")] = False,
    every: Annotated[
        int,
        typer.Option(
            "--every", envvar="TOCSIN_PHISH_FETCH_EVERY", min=30, help="Seconds between rounds."
        ),
    ] = 300,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", envvar="TOCSIN_FORMAT")
    ] = OutputFormat.TABLE,
) -> None:
    """Read the report mailbox (settings: phishing.mailbox); keep, file and answer reports."""
    from tocsin.phishing.intake import poll_mailbox

    settings, database = STATE.settings, STATE.database
    if once:
        _print(poll_mailbox(database, settings), fmt)
        return
    errors = console(stderr=True)
    while True:
        try:
            _print(poll_mailbox(database, settings), fmt)
        except SourceUnavailableError as exc:
            stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
            errors.print(f"[red]{stamp} unavailable[/]: {escape(str(exc))}")
        time.sleep(every)
