"""The line "last watch run … next run …" on the overview and the exposures page.

Templates call ``watch_run_status(account)`` (a global installed by
:func:`install_run_status`); it answers None for a visitor without ``watch:read``. The new
exposures it counts are those of the user's own establishments only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from jinja2 import Environment

from tocsin.accounts import Account
from tocsin.config import Settings
from tocsin.model import Permission
from tocsin.store.db import Database
from tocsin.store.inventory import list_establishments
from tocsin.watch.scheduler import watch_status
from tocsin.web.i18n import N_

OUTCOME_LABELS = {
    "ok": N_("completed"),
    "partial": N_("completed with errors"),
    "failed": N_("failed"),
    "abandoned": N_("interrupted"),
    "running": N_("running"),
}


@dataclass(frozen=True)
class RunStatus:
    at: datetime | None  # when the last run finished (None: no run yet)
    outcome: str | None
    outcome_label: str
    created: int  # new exposures in the user's establishments
    failed_feeds: tuple[str, ...]
    running_since: datetime | None
    next_run: datetime | None


def run_status(database: Database, settings: Settings, account: object) -> RunStatus | None:
    if not isinstance(account, Account) or not account.can(Permission.WATCH_READ):
        return None
    status = watch_status(database, settings.schedule, limit=5)
    with database.session() as session:
        slugs = {e.slug for e in list_establishments(session, account.scope)}
    last = status.last
    running = status.running
    if last is None:
        return RunStatus(
            None, None, "", 0, (), running.started_at if running else None, status.next_run
        )
    per = last.counts.get("establishments", {})
    created = sum(
        int(v.get("created", 0)) for k, v in per.items() if k in slugs and isinstance(v, dict)
    )
    failed = tuple(str(f) for f in last.counts.get("failed_feeds", []))
    return RunStatus(
        at=last.finished_at or last.started_at,
        outcome=last.outcome,
        outcome_label=OUTCOME_LABELS.get(last.outcome, last.outcome),
        created=created,
        failed_feeds=failed,
        running_since=running.started_at if running else None,
        next_run=status.next_run,
    )


def install_run_status(env: Environment, database: Database, settings: Settings) -> None:
    """Make ``watch_run_status(account)`` available to the templates of one app."""

    def status(account: object) -> RunStatus | None:
        return run_status(database, settings, account)

    provider: Callable[[object], RunStatus | None] = status
    env.globals["watch_run_status"] = provider
