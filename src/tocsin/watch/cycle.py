"""The watch cycle: update the feeds, match every establishment, write and send bulletins.

One function, :func:`run_cycle`, shared by ``tocsin watch run`` (cron, systemd timer) and
the scheduler of ``tocsin serve`` (:mod:`tocsin.watch.scheduler`), so that both do exactly
the same. Who receives each establishment's bulletin, in which language and for which
period comes from :class:`tocsin.config.NotifySettings`; a :class:`CycleRequest` may
override any of it (the CLI's ``--to``, ``--webhook``, ``--lang``, ``--period``).

A feed that fails, or a channel that cannot be reached, is reported and the cycle goes on;
the report's :attr:`CycleReport.outcome` is then ``partial``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from tocsin.config import NotifyTarget, Settings
from tocsin.errors import UsageError
from tocsin.inventory.normalise import AliasTable
from tocsin.notify import Delivery, deliver_to
from tocsin.report import collect_bulletin, write_bulletin
from tocsin.store.db import Database
from tocsin.watch.bulletin import Lang, Period
from tocsin.watch.feeds import Feed, load_feeds
from tocsin.watch.fetch import FetchClient
from tocsin.watch.service import (
    FeedDocuments,
    MatchRunReport,
    UpdateReport,
    live_feeds,
    mirror_feeds,
    run_watch,
)

__all__ = [
    "BulletinOutcome",
    "CycleReport",
    "CycleRequest",
    "choose_feeds",
    "cycle_feeds",
    "run_cycle",
]


@dataclass(frozen=True)
class CycleRequest:
    """What one cycle does. ``None`` in an override means: as the settings say."""

    establishments: tuple[str, ...] = ()  # empty: every establishment
    update: bool = True
    periods: tuple[Period, ...] | None = None  # None: each establishment's notify.period
    lang: Lang | None = None
    notify: bool = False
    recipients: tuple[str, ...] | None = None
    webhooks: tuple[str | SecretStr, ...] | None = None
    webhook_mode: str | None = None
    bulletins: Path | None = None  # None: $TOCSIN_HOME/bulletins


@dataclass(frozen=True)
class BulletinOutcome:
    establishment: str
    period: Period
    lang: Lang
    paths: tuple[Path, ...]
    deliveries: tuple[Delivery, ...]


@dataclass(frozen=True)
class CycleReport:
    updated: bool
    update: UpdateReport
    matches: tuple[MatchRunReport, ...]
    bulletins: tuple[BulletinOutcome, ...]

    @property
    def failed_deliveries(self) -> tuple[Delivery, ...]:
        return tuple(d for b in self.bulletins for d in b.deliveries if d.error is not None)

    @property
    def outcome(self) -> str:
        """``ok``, or ``partial`` when a feed or a delivery failed."""
        return "ok" if self.update.ok and not self.failed_deliveries else "partial"

    def counts(self) -> dict[str, Any]:
        """The figures kept with the run (``tocsin watch status``, the dashboard)."""
        loads = self.update.feeds
        return {
            "feeds": len(loads),
            "feeds_failed": len(self.update.failed),
            "failed_feeds": [load.feed for load in self.update.failed],
            "inserted": sum(load.inserted for load in loads),
            "updated": sum(load.updated for load in loads),
            "enrichments": sum(load.enrichments for load in loads),
            "establishments": {
                m.establishment: {
                    k: v
                    for k, v in m.counts().items()
                    if k in ("assets", "findings", "created", "reopened", "fixed", "closed")
                }
                for m in self.matches
            },
            "created": sum(m.created for m in self.matches),
            "bulletins": len(self.bulletins),
            "deliveries": sum(len(b.deliveries) for b in self.bulletins),
            "deliveries_failed": len(self.failed_deliveries),
        }


def choose_feeds(feeds: Iterable[Feed], names: Sequence[str]) -> list[Feed]:
    """The feeds named (all when none is), UsageError for an unknown name."""
    every = list(feeds)
    unknown = sorted(set(names) - {f.name for f in every})
    if unknown:
        known = ", ".join(f.name for f in every)
        raise UsageError(f"unknown feed {', '.join(unknown)}; configured feeds: {known}")
    return [f for f in every if not names or f.name in names]


def cycle_feeds(
    database: Database, from_dir: Path | None, client: FetchClient, names: Sequence[str] = ()
) -> Iterable[FeedDocuments]:
    """The configured feeds fetched live, or the feeds of the mirror folder ``from_dir``."""
    if from_dir is not None:
        return (f for f in mirror_feeds(from_dir) if not names or f.name in names)
    return live_feeds(database, choose_feeds(load_feeds(), names), client)


def _target(settings: Settings, request: CycleRequest, slug: str) -> NotifyTarget:
    base = settings.notify.target(slug)
    changes: dict[str, object] = {}
    if request.recipients is not None:
        changes["recipients"] = request.recipients
    if request.webhooks is not None:
        changes["webhooks"] = tuple(
            w if isinstance(w, SecretStr) else SecretStr(w) for w in request.webhooks
        )
    if request.webhook_mode is not None:
        changes["webhook_mode"] = request.webhook_mode
    return base.model_copy(update=changes) if changes else base


def _lang(settings: Settings, request: CycleRequest, target: NotifyTarget) -> Lang:
    chosen = request.lang or target.lang or settings.language
    return "en" if chosen == "en" else "fr"


def run_cycle(
    database: Database,
    settings: Settings,
    aliases: AliasTable,
    request: CycleRequest,
    feeds: Iterable[FeedDocuments] = (),
    *,
    now: datetime | None = None,
    on_bulletin: Callable[[BulletinOutcome], None] | None = None,
) -> CycleReport:
    """Load ``feeds`` (when ``request.update``), match, then write and send the bulletins.

    ``on_bulletin`` sees each bulletin as soon as it is written and sent (for progress).
    """
    moment = now or datetime.now(UTC)
    chosen_feeds = feeds if request.update else ()
    result = run_watch(
        database, chosen_feeds, aliases, establishments=request.establishments, now=moment
    )
    folder = request.bulletins or settings.home / "bulletins"
    outcomes: list[BulletinOutcome] = []
    for match in result.matches:
        target = _target(settings, request, match.establishment)
        lang = _lang(settings, request, target)
        periods = request.periods if request.periods is not None else (Period(target.period),)
        for period in periods:
            bulletin = collect_bulletin(
                database, match.establishment, period=period, lang=lang, now=moment
            )
            paths = tuple(write_bulletin(bulletin, folder))
            deliveries = deliver_to(bulletin, settings.smtp, target) if request.notify else []
            outcome = BulletinOutcome(match.establishment, period, lang, paths, tuple(deliveries))
            outcomes.append(outcome)
            if on_bulletin is not None:
                on_bulletin(outcome)
    return CycleReport(request.update, result.update, result.matches, tuple(outcomes))
