"""``tocsin watch run`` (the whole cycle, for cron or a systemd timer) and ``watch status``.

``run`` calls the same cycle as the scheduler of ``tocsin serve``
(:func:`tocsin.watch.cycle.run_cycle` through :func:`tocsin.watch.runs.run_recorded`): it
waits for no one, refusing with exit code 4 while another process runs the cycle, and
leaves a record that ``status`` and the dashboard show.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tocsin.cli.output import OutputFormat, console, emit
from tocsin.cli.state import STATE
from tocsin.cli.watch_options import (
    EstablishmentsOption,
    FormatOption,
    Lang,
    LangOption,
    PeriodOption,
    counted,
    print_update,
    progress,
)
from tocsin.notify.webhook import WebhookMode
from tocsin.watch.cycle import CycleReport, CycleRequest, cycle_feeds, run_cycle
from tocsin.watch.fetch import FetchClient
from tocsin.watch.runs import run_recorded
from tocsin.watch.scheduler import WatchStatus, watch_status
from tocsin.watch.service import FeedDocuments

_RUN_COLUMNS = ("establishment", "assets", "findings", "created", "reopened", "fixed", "closed")


def _print_cycle(report: CycleReport, out: Console) -> None:
    if report.updated:
        print_update(report.update, OutputFormat.TABLE, out)
    emit(
        (m.counts() | {"establishment": m.establishment} for m in report.matches),
        OutputFormat.TABLE,
        _RUN_COLUMNS,
        title="Match runs",
    )
    for bulletin in report.bulletins:
        for path in bulletin.paths:
            out.print(f"bulletin {path}", markup=False, highlight=False)
        for done in bulletin.deliveries:
            state = "sent" if done.error is None else f"failed: {done.error}"
            out.print(f"{done.channel} {done.target}: {state}", markup=False, highlight=False)


def run(
    establishment: EstablishmentsOption = None,
    no_update: Annotated[
        bool, typer.Option("--no-update", help="Match the stored data only.")
    ] = False,
    from_dir: Annotated[Path | None, typer.Option("--from", help="Update from a mirror.")] = None,
    notify: Annotated[bool, typer.Option("--notify", help="Send the bulletins.")] = False,
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to", envvar="TOCSIN_NOTIFY_TO", help="Email recipient (repeat; default: notify.to)."
        ),
    ] = None,
    webhook: Annotated[
        list[str] | None,
        typer.Option(
            "--webhook",
            envvar="TOCSIN_NOTIFY_WEBHOOK",
            help="Webhook URL (repeat; default: notify.webhooks).",
        ),
    ] = None,
    webhook_mode: Annotated[
        WebhookMode | None,
        typer.Option(
            "--webhook-mode",
            help="json; text or mattermost (a message), teams (an Adaptive Card). "
            "Default: notify.webhook_mode.",
        ),
    ] = None,
    period: PeriodOption = None,
    lang: LangOption = None,
    bulletins: Annotated[
        Path | None,
        typer.Option("--bulletins", help="Where bulletins go (default: $TOCSIN_HOME/bulletins)."),
    ] = None,
) -> None:
    """Update the feeds, match every establishment, write and send the bulletins.

    Recipients, webhooks, language and period default from the [notify] settings (per
    establishment where set). Exit 4 when a feed or a delivery failed (everything else was
    still done), or when another process is running the cycle.
    """
    out = console(stderr=True)
    database, settings = STATE.database, STATE.settings
    request = CycleRequest(
        establishments=tuple(establishment or ()),
        update=not no_update,
        periods=None if period is None else (period,),
        lang=None if lang is None else ("en" if lang is Lang.EN else "fr"),
        notify=notify,
        recipients=None if to is None else tuple(to),
        webhooks=None if webhook is None else tuple(webhook),
        webhook_mode=None if webhook_mode is None else webhook_mode.value,
        bulletins=bulletins,
    )
    with FetchClient() as client, progress(out) as bar:

        def body() -> CycleReport:
            feeds: Iterable[FeedDocuments] = ()
            if not no_update:
                feeds = counted(cycle_feeds(database, from_dir, client), bar)
            return run_cycle(database, settings, STATE.aliases, request, feeds)

        recorded = run_recorded(
            database, body, trigger="cli", lease_seconds=settings.schedule.lease_seconds
        )
    assert recorded is not None  # no slot: a run by hand is never a duplicate
    _print_cycle(recorded.report, out)
    if recorded.report.outcome != "ok":
        raise typer.Exit(4)


_STATUS_COLUMNS: tuple[str, ...] = (
    *("id", "trigger", "started", "finished", "outcome", "feeds", "failed_feeds"),
)
_STATUS_COLUMNS += ("created", "bulletins", "deliveries_failed", "error")


def _status_row(run: dict[str, object]) -> dict[str, object]:
    counts = run["counts"] if isinstance(run["counts"], dict) else {}
    return {
        **run,
        "started": str(run["started_at"])[:19].replace("T", " "),
        "finished": str(run["finished_at"] or "")[:19].replace("T", " "),
        "feeds": counts.get("feeds"),
        "failed_feeds": counts.get("failed_feeds"),
        "created": counts.get("created"),
        "bulletins": counts.get("bulletins"),
        "deliveries_failed": counts.get("deliveries_failed"),
    }


def _status_lines(status: WatchStatus, out: Console) -> None:
    if status.next_run is None:
        out.print("scheduler: off (set [schedule] enabled = true to run it in tocsin serve)")
    else:
        out.print(f"scheduler: next run {status.next_run.astimezone():%Y-%m-%d %H:%M %Z}")
    if status.running is not None and status.lease is not None:
        out.print(
            f"running now: run {status.running.id} on {status.lease.holder}, "
            f"since {status.running.started_at.astimezone():%Y-%m-%d %H:%M %Z}",
            markup=False,
        )
    if not status.runs:
        out.print("no watch run recorded yet")


def status(
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 10,
    fmt: FormatOption = OutputFormat.TABLE,
    max_age: Annotated[
        float | None,
        typer.Option(
            "--max-age",
            help="Exit 1 unless the last run finished ok within this many hours (monitoring).",
        ),
    ] = None,
) -> None:
    """The last watch runs (from the CLI or the scheduler), and the next scheduled one."""
    current = watch_status(STATE.database, STATE.settings.schedule, limit=limit)
    emit(
        (_status_row(r.document()) for r in current.runs),
        fmt,
        _STATUS_COLUMNS,
        title="Watch runs",
        wrapper="runs",
    )
    _status_lines(current, console(stderr=True))
    if max_age is not None:
        last = current.last
        fresh = datetime.now(UTC) - timedelta(hours=max_age)
        if last is None or last.outcome != "ok" or (last.finished_at or last.started_at) < fresh:
            raise typer.Exit(1)
