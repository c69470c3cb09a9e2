"""Loading feeds into the store, one transaction per feed (``tocsin watch update``).

A feed reaches :func:`load_advisories` as :class:`FeedDocuments`: its name in the feed list,
its kind (the source that parses it), its documents, and, from a live fetch, the fetcher's
new state. Where they come from:

- :func:`live_feeds`: the feed list fetched over HTTP (:func:`tocsin.watch.feeds.plan`,
  conditional and incremental from the state saved at the previous success);
- :func:`mirror_feeds`: a mirror folder carried to an air-gapped site
  (:func:`tocsin.watch.mirror.read_mirror`, checked against its manifest first);
- :func:`feed_from_path`: a file, a folder or a ``.gz`` of one kind (demo, tests).

Each feed is parsed and written inside one transaction, committed with the feed's new state
only when every document was read: a document that cannot be read as a whole, a fetch that
fails part-way, or any other error leaves that feed's data and state as they were; the
failure is recorded on the feed and reported, and the other feeds go on. Records that cannot
be read alone are counted skips (``SourceLoad.skipped``), as in ``tocsin watch match``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from tocsin.errors import InputError, Location
from tocsin.model.advisory import Advisory
from tocsin.store.audit import record
from tocsin.store.db import Database
from tocsin.store.watch import (
    MAX_ADVISORY_ID,
    MAX_CVE_ID,
    AdvisoryCounts,
    get_feed_status,
    record_feed_failure,
    record_feed_success,
    upsert_advisories,
    upsert_enrichments,
)
from tocsin.watch.feeds import Feed, FeedRun, plan
from tocsin.watch.fetch import FeedState, FetchClient
from tocsin.watch.lifecycle import SYSTEM
from tocsin.watch.mirror import read_mirror
from tocsin.watch.sources.base import (
    Document,
    Enrichment,
    ParseReport,
    Skip,
    Source,
    iter_documents,
)
from tocsin.watch.stateless import resolve_source

__all__ = [
    "FeedDocuments",
    "SourceLoad",
    "UpdateReport",
    "feed_from_path",
    "live_feeds",
    "load_advisories",
    "mirror_feeds",
]

_BATCH = 500


@dataclass(frozen=True)
class FeedDocuments:
    """One feed to load in one transaction."""

    name: str  # the feed's name in the feed list ("kev", "csaf-cisa"); the kind by default
    kind: str  # the registered source that parses it
    documents: Iterable[Document]
    # A live fetch: what its discovery files left out, and its new state once all is read.
    fetch: FeedRun | None = None


@dataclass(frozen=True)
class SourceLoad:
    """What loading one feed did; ``error`` set means nothing of it was written."""

    feed: str
    kind: str
    documents: int = 0
    inserted: int = 0
    updated: int = 0
    older: int = 0  # records not written: the store holds a newer one from the same feed
    enrichments: int = 0
    skipped: tuple[Skip, ...] = ()
    error: str | None = None
    unchanged: int = 0  # records not written: the store holds the same one

    @property
    def ok(self) -> bool:
        return self.error is None

    def counts(self) -> dict[str, int]:
        return {
            "documents": self.documents,
            "inserted": self.inserted,
            "updated": self.updated,
            "older": self.older,
            "unchanged": self.unchanged,
            "enrichments": self.enrichments,
            "skipped": len(self.skipped),
        }


@dataclass(frozen=True)
class UpdateReport:
    feeds: tuple[SourceLoad, ...]

    @property
    def failed(self) -> tuple[SourceLoad, ...]:
        return tuple(f for f in self.feeds if not f.ok)

    @property
    def ok(self) -> bool:
        return not self.failed


# -- where feeds come from ------------------------------------------------------------------
def feed_from_path(kind: str, path: Path, name: str | None = None) -> FeedDocuments:
    """The documents under ``path`` (a file, a folder, a ``.gz``, JSON lines), read lazily."""
    return FeedDocuments(name or kind, kind, iter_documents(path))


def live_feeds(
    database: Database,
    feeds: Iterable[Feed],
    client: FetchClient,
    *,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
) -> Iterator[FeedDocuments]:
    """Each feed fetched from where the previous success left off (lazily, as loaded)."""
    for feed in feeds:
        with database.session() as session:
            status = get_feed_status(session, feed.name)
        previous: FeedState | None = None
        if status is not None and status.state:
            try:
                previous = FeedState.from_json(dict(status.state))
            except InputError:
                previous = None  # unreadable: fetch everything again
        run = plan(feed, client, previous, now=now, environ=environ)
        documents = (fetched.document() for fetched in run)
        yield FeedDocuments(feed.name, feed.kind, documents, fetch=run)


def mirror_feeds(directory: Path) -> Iterator[FeedDocuments]:
    """The feeds of a mirror folder, feed after feed, each consumed before the next.

    The whole mirror is checked against its manifest before the first document is given:
    a damaged mirror raises InputError and nothing is loaded.
    """
    grouped = itertools.groupby(read_mirror(directory), key=lambda item: (item[0], item[1]))
    for (name, kind), items in grouped:
        yield FeedDocuments(name, kind, (document for _, _, document in items))


# -- loading ------------------------------------------------------------------------------------
@dataclass
class _Batch:
    """Records waiting to be written, and what was written so far."""

    advisories: list[Advisory] = field(default_factory=list)
    enrichments: list[Enrichment] = field(default_factory=list)
    counts: AdvisoryCounts = field(default_factory=AdvisoryCounts)
    enriched: int = 0

    def add(self, item: Advisory | Enrichment, session: Session, now: datetime) -> None:
        if isinstance(item, Enrichment):
            self.enrichments.append(item)
        else:
            self.advisories.append(item)
        if len(self.advisories) + len(self.enrichments) >= _BATCH:
            self.flush(session, now)

    def flush(self, session: Session, now: datetime) -> None:
        if self.advisories:
            written = upsert_advisories(session, self.advisories, now)
            self.counts.inserted += written.inserted
            self.counts.updated += written.updated
            self.counts.older += written.older
            self.counts.unchanged += written.unchanged
        if self.enrichments:
            self.enriched += upsert_enrichments(session, self.enrichments, now)
        self.advisories, self.enrichments = [], []


def _fits(item: Advisory | Enrichment, origin: str, report: ParseReport) -> bool:
    """Whether a record fits the store; one that does not is counted as a skip."""
    if isinstance(item, Enrichment):
        if len(item.cve) <= MAX_CVE_ID:
            return True
        report.skip(Location(origin, field="cve"), f"CVE id over {MAX_CVE_ID} characters")
        return False
    if len(item.id) <= MAX_ADVISORY_ID and len(item.source) <= 64:
        return True
    report.skip(Location(origin, field="id"), f"advisory id over {MAX_ADVISORY_ID} characters")
    return False


def _load_feed(session: Session, feed: FeedDocuments, source: Source, now: datetime) -> SourceLoad:
    report = ParseReport(feed.kind)
    batch = _Batch()
    documents = 0
    for document in feed.documents:
        documents += 1
        for item in source.parse(document.raw, document.origin, report):
            if _fits(item, document.origin, report):
                batch.add(item, session, now)
    batch.flush(session, now)
    skipped = (*(feed.fetch.report.skipped if feed.fetch else ()), *report.skipped)
    c = batch.counts
    loaded = SourceLoad(
        feed.name,
        feed.kind,
        documents,
        c.inserted,
        c.updated,
        c.older,
        batch.enriched,
        skipped,
        unchanged=c.unchanged,
    )
    state = feed.fetch.state.to_json() if feed.fetch is not None else None
    record_feed_success(session, feed.name, feed.kind, loaded.counts(), now, state)
    record(session, SYSTEM, "watch.update", "feed", feed.name, details=dict(loaded.counts()))
    return loaded


def _load_one(database: Database, feed: FeedDocuments, source: Source, now: datetime) -> SourceLoad:
    try:
        with database.session() as session:
            return _load_feed(session, feed, source, now)
    except Exception as exc:  # noqa: BLE001 - any failure: nothing written, reported
        error = str(exc) or type(exc).__name__
    try:
        with database.session() as session:
            record_feed_failure(session, feed.name, feed.kind, error, now)
    except Exception as exc:  # noqa: BLE001 - the database itself may be the failure
        error = f"{error} (and the failure could not be recorded: {exc})"
    return SourceLoad(feed.name, feed.kind, error=error)


def load_advisories(
    database: Database,
    feeds: Iterable[FeedDocuments] | Mapping[str, Iterable[Document]],
    *,
    now: datetime | None = None,
) -> UpdateReport:
    """Load each feed in a transaction of its own (a mapping is kind → documents).

    An unknown kind is a usage error, raised before anything is read when ``feeds`` is a
    mapping or a sequence, and when the feed is reached for a lazy iterable.
    """
    if isinstance(feeds, Mapping):
        feeds = [FeedDocuments(kind, kind, documents) for kind, documents in feeds.items()]
    if isinstance(feeds, Sequence):
        for feed in feeds:
            resolve_source(feed.kind)
    moment = now or datetime.now(UTC)
    loads = [_load_one(database, feed, resolve_source(feed.kind), moment) for feed in feeds]
    return UpdateReport(tuple(loads))
