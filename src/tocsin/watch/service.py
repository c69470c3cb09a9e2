"""The watch service: load feeds into the store, match establishments, keep exposures.

Behind ``tocsin watch update`` and ``tocsin watch run`` (and the scheduler of
``tocsin serve``):

- :func:`load_advisories` parses each feed's documents with the source's pure ``parse`` and
  applies them in one transaction per feed: a document that cannot be read, a fetch that
  fails part-way, or any other failure leaves that feed as it was and is reported.
- :func:`match_establishment` streams the stored advisories through the matching engine
  against one establishment's inventory, adds the news items that name its products
  (:mod:`tocsin.watch.mentions`), drops what a suppression covers, and applies the
  lifecycle (:mod:`tocsin.watch.lifecycle`) to its exposures, in one transaction.
- :func:`run_watch` does both for every establishment, reading and preparing the stored
  advisories once (:class:`~tocsin.watch.match.corpus.Corpus`) for all of them.

Loading is in :mod:`tocsin.watch.update` (re-exported here); status changes made by people,
suppressions and policies in :mod:`tocsin.watch.triage`; the read side (lists, counts,
history, chart) is at the end of this module.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.errors import UsageError
from tocsin.inventory.normalise import AliasTable
from tocsin.model.advisory import Advisory
from tocsin.model.finding import Finding
from tocsin.model.inventory import Asset
from tocsin.store import exposure_queries as queries
from tocsin.store.advisory_json import advisory_from_json
from tocsin.store.audit import record
from tocsin.store.db import Database
from tocsin.store.exposures import apply_plan, exposure_states, list_suppressions
from tocsin.store.inventory import Scope, asset_from_row, get_establishment
from tocsin.store.tables import AdvisoryRow, AssetRow, EstablishmentRow
from tocsin.store.watch import EnrichmentLookup, get_policy, iter_advisories, withdrawn_ids
from tocsin.watch.lifecycle import (
    RESOLVED_STATUSES,
    SYSTEM,
    DayCount,
    Plan,
    RunInputs,
    Status,
    check_system_transition,
    open_history,
    plan_run,
)
from tocsin.watch.match.corpus import Corpus
from tocsin.watch.match.engine import match
from tocsin.watch.mentions import NEWS_DAYS, MentionIndex, news_findings
from tocsin.watch.priority import PriorityPolicy
from tocsin.watch.sources.base import Document
from tocsin.watch.suppress import split_findings
from tocsin.watch.update import (
    FeedDocuments,
    SourceLoad,
    UpdateReport,
    feed_from_path,
    live_feeds,
    load_advisories,
    mirror_feeds,
)

__all__ = [
    "FeedDocuments",
    "MatchRunReport",
    "SourceLoad",
    "UpdateReport",
    "WatchRunReport",
    "exposure_counts",
    "exposure_history",
    "feed_from_path",
    "get_exposure",
    "list_exposures",
    "live_feeds",
    "load_advisories",
    "match_establishment",
    "mirror_feeds",
    "open_exposure_history",
    "run_watch",
]


# -- matching an establishment ---------------------------------------------------------------
@dataclass(frozen=True)
class MatchRunReport:
    establishment: str
    assets: int
    advisories: int  # stored advisory records read (one per feed and id)
    findings: int
    suppressed: int
    created: int
    refreshed: int
    upgraded: int  # refreshed with stronger evidence (e.g. name-only → cpe)
    reopened: int
    fixed: int
    closed: int
    false_positive: int
    expired: int  # risk acceptances that ran out
    seconds: float

    def counts(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in _RUN_COUNTS}


_RUN_COUNTS = (
    *("assets", "advisories", "findings", "suppressed", "created", "refreshed"),
    *("upgraded", "reopened", "fixed", "closed", "false_positive", "expired"),
)


class _Counting:
    """Counts the advisories the engine reads from the stream."""

    def __init__(self, advisories: Iterable[Advisory]) -> None:
        self._advisories = advisories
        self.count = 0

    def __iter__(self) -> Iterator[Advisory]:
        for advisory in self._advisories:
            self.count += 1
            yield advisory


def _assets(session: Session, establishment_id: int, aliases: AliasTable) -> list[Asset]:
    query = (
        select(AssetRow)
        .where(AssetRow.establishment_id == establishment_id)
        .order_by(AssetRow.asset_key)
    )
    assets: list[Asset] = []
    for row in session.scalars(query.execution_options(yield_per=2000)):
        asset = asset_from_row(row)
        if asset.vendor_key is None and asset.product_key is None:
            asset = aliases.normalise(asset)
        assets.append(asset)
    return assets


def _plan(
    session: Session,
    establishment_id: int,
    assets: Sequence[Asset],
    findings: list[Finding],
    policy: PriorityPolicy,
    now: datetime,
) -> tuple[Plan, dict[int, tuple[object, ...]], int]:
    by_key = {asset.id: asset for asset in assets}
    rules = list_suppressions(session, establishment_id)
    kept, covered = split_findings(findings, by_key, rules, now)
    states, contents = exposure_states(session, establishment_id)
    seen = {(f.asset, f.advisory) for f in findings}
    missing = {
        s.advisory
        for s in states
        if (s.asset_key, s.advisory) not in seen and s.status not in RESOLVED_STATUSES
    }
    versions = {asset.id: asset.version for asset in assets}
    inputs = RunInputs(versions, withdrawn_ids(session, missing), policy, now)
    suppressed = [(finding, rule.describe()) for finding, rule in covered]
    plan = plan_run(states, kept, suppressed, inputs)
    labels = {s.id: f"#{s.id} ({s.asset_key} × {s.advisory})" for s in states}
    for change in plan.changes:
        check_system_transition(labels[change.exposure_id], change.from_status, change.to_status)
    return plan, contents, len(covered)


def _news_findings(
    session: Session,
    assets: Sequence[Asset],
    aliases: AliasTable,
    matched: Sequence[Finding],
    policy: PriorityPolicy,
    now: datetime,
) -> list[Finding]:
    """The inventory's products named in the stored news items (generic RSS/Atom feeds) of
    the last :data:`~tocsin.watch.mentions.NEWS_DAYS` days (:mod:`tocsin.watch.mentions`)."""
    if not assets:
        return []
    query = select(AdvisoryRow.data).where(AdvisoryRow.source == "rss").order_by(AdvisoryRow.id)
    items = (advisory_from_json(data) for data in session.scalars(query))
    return news_findings(
        MentionIndex.build(assets, aliases),
        items,
        enrichments=EnrichmentLookup(session),
        policy=policy,
        matched=matched,
        since=now - timedelta(days=NEWS_DAYS),
    )


def match_establishment(
    database: Database,
    establishment: str,
    aliases: AliasTable,
    policy: PriorityPolicy | None = None,
    *,
    now: datetime | None = None,
    corpus: Corpus | None = None,
) -> MatchRunReport:
    """Match the stored advisories against one establishment and update its exposures.

    ``policy`` defaults to the establishment's own (``tocsin.watch.triage.set_policy``).
    ``corpus``: the stored advisories already prepared (:func:`run_watch` prepares them
    once for all establishments); else they are streamed from the store and prepared here.
    """
    started = time.monotonic()
    moment = now or datetime.now(UTC)
    with database.session() as session:
        row = get_establishment(session, establishment)
        chosen = policy or get_policy(session, row.id)
        assets = _assets(session, row.id, aliases)
        # No inventory, nothing to read: every open exposure closes (asset removed).
        stream = _Counting(iter_advisories(session) if assets and corpus is None else ())
        if assets:
            corpus = corpus or Corpus(stream, aliases)
        findings = match(
            assets,
            corpus if corpus is not None else (),
            aliases=aliases,
            enrichments=EnrichmentLookup(session),
            policy=chosen,
        )
        findings += _news_findings(session, assets, aliases, findings, chosen, moment)
        plan, contents, suppressed = _plan(session, row.id, assets, findings, chosen, moment)
        applied = Counter(c.to_status for c in apply_plan(session, row.id, plan, contents, moment))
        report = MatchRunReport(
            establishment=row.slug,
            assets=len(assets),
            advisories=corpus.read if corpus is not None else stream.count,
            findings=len(findings),
            suppressed=suppressed,
            created=plan.created,
            refreshed=plan.refreshed,
            upgraded=plan.upgraded,
            reopened=applied[Status.NEW],
            fixed=applied[Status.FIXED],
            closed=applied[Status.CLOSED],
            false_positive=applied[Status.FALSE_POSITIVE],
            expired=applied[Status.ACKNOWLEDGED],
            seconds=round(time.monotonic() - started, 3),
        )
        _audit_run(session, row, report)
    return report


def _audit_run(session: Session, row: EstablishmentRow, report: MatchRunReport) -> None:
    details = dict(report.counts())
    record(
        session,
        SYSTEM,
        "watch.match",
        "establishment",
        row.slug,
        establishment_id=row.id,
        details=details,
    )


@dataclass(frozen=True)
class WatchRunReport:
    update: UpdateReport
    matches: tuple[MatchRunReport, ...]


def run_watch(
    database: Database,
    feeds: Iterable[FeedDocuments] | Mapping[str, Iterable[Document]],
    aliases: AliasTable,
    *,
    establishments: Sequence[str] = (),
    now: datetime | None = None,
) -> WatchRunReport:
    """Update the feeds, then match every establishment (or those named) with its policy."""
    moment = now or datetime.now(UTC)
    update = load_advisories(database, feeds, now=moment)
    if not establishments:
        with database.session() as session:
            query = select(EstablishmentRow.slug).order_by(EstablishmentRow.slug)
            establishments = list(session.scalars(query))
    corpus = None
    if len(establishments) > 1:  # the advisories are read and prepared once for all
        with database.session() as session:
            corpus = Corpus(iter_advisories(session), aliases)
    matches = tuple(
        match_establishment(database, slug, aliases, now=moment, corpus=corpus)
        for slug in establishments
    )
    return WatchRunReport(update, matches)


# -- reading exposures -------------------------------------------------------------------------
def list_exposures(
    database: Database,
    flt: queries.ExposureFilter | None = None,
    scope: Scope | None = None,
    *,
    offset: int = 0,
    limit: int | None = 200,
) -> list[queries.ExposureView]:
    """Exposures, most urgent first."""
    with database.session() as session:
        return list(queries.iter_exposures(session, flt, scope, offset=offset, limit=limit))


def get_exposure(
    database: Database, exposure_id: int, scope: Scope | None = None
) -> queries.ExposureView:
    with database.session() as session:
        return queries.get_exposure(session, exposure_id, scope)


def exposure_counts(
    database: Database, flt: queries.ExposureFilter | None = None, scope: Scope | None = None
) -> queries.DecisionCounts:
    """How many exposures of each decision the filter selects."""
    with database.session() as session:
        return queries.decision_counts(session, flt, scope)


def exposure_history(
    database: Database, exposure_id: int, scope: Scope | None = None
) -> list[queries.ExposureEvent]:
    with database.session() as session:
        queries.get_exposure(session, exposure_id, scope)  # NotFoundError outside the scope
        return queries.exposure_events(session, exposure_id)


def open_exposure_history(
    database: Database, establishment: str, days: int = 30, *, today: date | None = None
) -> tuple[DayCount, ...]:
    """Open exposures (new, acknowledged, in remediation) per day and decision, over the
    last ``days`` days up to ``today`` — the bulletin's chart."""
    if not 1 <= days <= 3660:
        raise UsageError("days must be between 1 and 3660")
    end = today or datetime.now(UTC).date()
    start = end - timedelta(days=days - 1)
    since = datetime(start.year, start.month, start.day, tzinfo=UTC)
    with database.session() as session:
        row = get_establishment(session, establishment)
        return open_history(queries.timelines(session, row.id, since), start, end)
