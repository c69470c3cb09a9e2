"""Persistence of the watch's inputs: advisories, enrichments, feed state, policies.

Advisories are stored once per (advisory id, feed): the same CVE from NVD, CVE 5, KEV and
OSV is several rows, each the full normalised record (``data``, see
:mod:`tocsin.store.advisory_json`), and the matching engine merges them when it reads them,
as it does for files. A feed's newer record replaces its older one; an older one is kept
out. Exposures, events and suppressions live in :mod:`tocsin.store.exposures`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, case, func, insert, select, update
from sqlalchemy.orm import Session

from tocsin.model.advisory import Advisory, Exploitation
from tocsin.store.advisory_json import advisory_from_json, advisory_to_json
from tocsin.store.tables import AdvisoryRow, EnrichmentRow, FeedStateRow, WatchPolicyRow
from tocsin.watch.priority import DEFAULT_POLICY, PriorityPolicy
from tocsin.watch.sources.base import Enrichment

__all__ = [
    "MAX_ADVISORY_ID",
    "MAX_CVE_ID",
    "AdvisoryCounts",
    "EnrichmentLookup",
    "FeedStatus",
    "advisory_records",
    "aware",
    "count_advisories",
    "get_feed_status",
    "get_policy",
    "iter_advisories",
    "list_feed_status",
    "record_feed_failure",
    "record_feed_success",
    "set_policy",
    "text_column",
    "upsert_advisories",
    "upsert_enrichments",
    "withdrawn_ids",
]

MAX_ADVISORY_ID = 128  # the width of advisories.advisory_id and exposures.advisory_id
MAX_CVE_ID = 32
_CHUNK = 500


def aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; every timestamp Tocsin stores is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _maybe_aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else aware(moment)


# -- advisories -------------------------------------------------------------------------
@dataclass
class AdvisoryCounts:
    inserted: int = 0
    updated: int = 0
    older: int = 0  # not written: a newer record of the same feed is stored or came along
    unchanged: int = 0  # not written: the stored record is the same (a reload of one file)


def _older(candidate: datetime | None, stored: datetime | None) -> bool:
    """Whether a record modified at ``candidate`` is older than one modified at ``stored``.

    Undated records cannot prove they are older: they replace (the latest load wins).
    """
    return candidate is not None and stored is not None and aware(candidate) < aware(stored)


def _same_moment(candidate: datetime | None, stored: datetime | None) -> bool:
    """Whether two records carry the same modification date (both dated)."""
    return candidate is not None and stored is not None and aware(candidate) == aware(stored)


def text_column(value: str) -> str:
    """Text as a column can hold it: PostgreSQL refuses NUL characters in text."""
    return value.replace("\x00", "") if "\x00" in value else value


def _advisory_values(advisory: Advisory, now: datetime) -> dict[str, Any]:
    return {
        "advisory_id": advisory.id,
        "source": advisory.source,
        "title": text_column(advisory.title),
        "summary": text_column(advisory.summary),
        "published": advisory.published,
        "modified": advisory.modified,
        "cves": list(advisory.cves),
        "aliases": list(advisory.aliases),
        "data": advisory_to_json(advisory),
        "withdrawn": advisory.withdrawn,
        "fetched_at": now,
    }


def upsert_advisories(
    session: Session, advisories: Sequence[Advisory], now: datetime
) -> AdvisoryCounts:
    """Insert or replace by (id, source), the most recently modified record winning."""
    counts = AdvisoryCounts()
    newest: dict[tuple[str, str], Advisory] = {}
    for advisory in advisories:
        key = (advisory.source, advisory.id)
        known = newest.get(key)
        if known is not None and _older(advisory.modified, known.modified):
            counts.older += 1
            continue
        if known is not None:
            counts.older += 1
        newest[key] = advisory
    by_source: dict[str, list[str]] = {}
    for source, advisory_id in newest:
        by_source.setdefault(source, []).append(advisory_id)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for source, ids in by_source.items():
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            stored = session.execute(
                select(AdvisoryRow.id, AdvisoryRow.advisory_id, AdvisoryRow.modified).where(
                    AdvisoryRow.source == source, AdvisoryRow.advisory_id.in_(chunk)
                )
            )
            rows = {advisory_id: (row_id, modified) for row_id, advisory_id, modified in stored}
            same_date: dict[int, dict[str, Any]] = {}
            for advisory_id in chunk:
                advisory = newest[(source, advisory_id)]
                if advisory_id not in rows:
                    inserts.append(_advisory_values(advisory, now))
                elif _older(advisory.modified, rows[advisory_id][1]):
                    counts.older += 1
                else:
                    values = {"id": rows[advisory_id][0], **_advisory_values(advisory, now)}
                    if _same_moment(advisory.modified, rows[advisory_id][1]):
                        same_date[values["id"]] = values
                    else:
                        updates.append(values)
            if same_date:
                # The same date may still carry other data (a parser that reads more of the
                # record): rewrite only what differs, so that a reload of a file is a read.
                stored_data = session.execute(
                    select(AdvisoryRow.id, AdvisoryRow.data).where(
                        AdvisoryRow.id.in_(list(same_date))
                    )
                )
                for row_id, data in stored_data:
                    values = same_date[row_id]
                    if data == values["data"]:
                        counts.unchanged += 1
                    else:
                        updates.append(values)
    if inserts:
        session.execute(insert(AdvisoryRow), inserts)
    if updates:
        session.execute(update(AdvisoryRow), updates)
    counts.inserted, counts.updated = len(inserts), len(updates)
    return counts


def iter_advisories(session: Session, batch: int = 1000) -> Iterator[Advisory]:
    """Every stored advisory record, streamed a batch at a time."""
    query = select(AdvisoryRow.data).order_by(AdvisoryRow.id)
    for data in session.scalars(query.execution_options(yield_per=batch)):
        yield advisory_from_json(data)


def count_advisories(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AdvisoryRow)) or 0)


def advisory_records(session: Session, advisory_id: str) -> list[Advisory]:
    """The stored records of one advisory id, one per feed."""
    query = (
        select(AdvisoryRow.data)
        .where(AdvisoryRow.advisory_id == advisory_id)
        .order_by(AdvisoryRow.source)
    )
    return [advisory_from_json(data) for data in session.scalars(query)]


def withdrawn_ids(session: Session, advisory_ids: Collection[str]) -> set[str]:
    """The ids among ``advisory_ids`` that every feed stating them has withdrawn."""
    found: set[str] = set()
    ids = sorted(set(advisory_ids))
    for start in range(0, len(ids), _CHUNK):
        query = (
            select(AdvisoryRow.advisory_id)
            .where(AdvisoryRow.advisory_id.in_(ids[start : start + _CHUNK]))
            .group_by(AdvisoryRow.advisory_id)
            .having(func.min(case((AdvisoryRow.withdrawn, 1), else_=0)) == 1)
        )
        found.update(session.scalars(query))
    return found


# -- enrichments ------------------------------------------------------------------------
_ENRICHMENT_FIELDS = (
    "kev",
    "kev_date_added",
    "kev_due_date",
    "ransomware_use",
    "epss",
    "epss_percentile",
)


def _apply_signals(values: dict[str, Any], signals: Exploitation) -> None:
    """What an enrichment states replaces what was stored; what it leaves out is kept
    (KEV says nothing of EPSS and EPSS nothing of KEV)."""
    if signals.kev:
        values["kev"] = True
        values["kev_date_added"] = signals.kev_date_added or values.get("kev_date_added")
        values["kev_due_date"] = signals.kev_due_date or values.get("kev_due_date")
        values["ransomware_use"] = signals.ransomware_use
    if signals.epss is not None:
        values["epss"] = signals.epss
        values["epss_percentile"] = signals.epss_percentile


def _blank_enrichment() -> dict[str, Any]:
    return {"kev": False, "ransomware_use": False}


def upsert_enrichments(session: Session, enrichments: Sequence[Enrichment], now: datetime) -> int:
    """Apply the enrichments, CVE by CVE; the number of CVEs written."""
    by_cve: dict[str, list[Exploitation]] = {}
    for enrichment in enrichments:
        by_cve.setdefault(enrichment.cve, []).append(enrichment.exploitation)
    cves = list(by_cve)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for start in range(0, len(cves), _CHUNK):
        chunk = cves[start : start + _CHUNK]
        stored = {
            row.cve: {name: getattr(row, name) for name in _ENRICHMENT_FIELDS}
            for row in session.execute(
                select(EnrichmentRow).where(EnrichmentRow.cve.in_(chunk))
            ).scalars()
        }
        for cve in chunk:
            values = stored.get(cve, _blank_enrichment())
            for signals in by_cve[cve]:
                _apply_signals(values, signals)
            target = updates if cve in stored else inserts
            target.append({"cve": cve, **values, "updated_at": now})
    if inserts:
        session.execute(insert(EnrichmentRow), inserts)
    if updates:
        session.execute(update(EnrichmentRow), updates)
    return len(inserts) + len(updates)


class EnrichmentLookup(Mapping[str, Exploitation]):
    """The stored enrichments as a mapping read on demand, in the caller's session.

    The engine only asks for the CVEs of advisories that hit an asset, so a match run reads
    those rows (one cached lookup each) instead of the whole EPSS catalogue.
    """

    _ONE = select(*(getattr(EnrichmentRow, name) for name in _ENRICHMENT_FIELDS)).where(
        EnrichmentRow.cve == bindparam("cve")
    )

    def __init__(self, session: Session) -> None:
        self._connection = session.connection()
        self._session = session
        self._cache: dict[str, Exploitation | None] = {}

    def __getitem__(self, cve: str) -> Exploitation:
        if cve not in self._cache:
            row = self._connection.execute(self._ONE, {"cve": cve}).first()
            self._cache[cve] = (
                None
                if row is None
                else Exploitation(**dict(zip(_ENRICHMENT_FIELDS, row, strict=True)))
            )
        found = self._cache[cve]
        if found is None:
            raise KeyError(cve)
        return found

    def __iter__(self) -> Iterator[str]:
        query = select(EnrichmentRow.cve).order_by(EnrichmentRow.cve)
        return iter(self._session.scalars(query.execution_options(yield_per=5000)))

    def __len__(self) -> int:
        return int(self._session.scalar(select(func.count()).select_from(EnrichmentRow)) or 0)


# -- feed state ---------------------------------------------------------------------------
@dataclass(frozen=True)
class FeedStatus:
    """How the updates of one feed went, for people (``state`` is the fetcher's own)."""

    feed: str
    kind: str
    last_attempt: datetime | None
    last_success: datetime | None
    last_error: str | None
    counts: Mapping[str, int]
    state: Mapping[str, Any]


def _status(row: FeedStateRow) -> FeedStatus:
    return FeedStatus(
        row.feed,
        row.kind,
        _maybe_aware(row.last_attempt),
        _maybe_aware(row.last_success),
        row.last_error,
        {str(k): int(v) for k, v in row.counts.items()},
        dict(row.state),
    )


def get_feed_status(session: Session, feed: str) -> FeedStatus | None:
    row = session.get(FeedStateRow, feed)
    return None if row is None else _status(row)


def list_feed_status(session: Session) -> list[FeedStatus]:
    return [
        _status(row) for row in session.scalars(select(FeedStateRow).order_by(FeedStateRow.feed))
    ]


def _feed_row(session: Session, feed: str, kind: str) -> FeedStateRow:
    row = session.get(FeedStateRow, feed)
    if row is None:
        row = FeedStateRow(feed=feed, kind=kind, state={}, counts={})
        session.add(row)
    row.kind = kind
    return row


def record_feed_success(
    session: Session,
    feed: str,
    kind: str,
    counts: Mapping[str, int],
    now: datetime,
    state: Mapping[str, Any] | None = None,
) -> None:
    """A feed was applied: its counts and, from a live fetch, the fetcher's new state."""
    row = _feed_row(session, feed, kind)
    row.last_attempt = now
    row.last_success = now
    row.last_error = None
    row.counts = dict(counts)
    if state is not None:
        row.state = dict(state)


def record_feed_failure(session: Session, feed: str, kind: str, error: str, now: datetime) -> None:
    """A fetch or load failed: the data and the fetcher's state stay as they were."""
    row = _feed_row(session, feed, kind)
    row.last_attempt = now
    row.last_error = text_column(error[:4000])


# -- policies -----------------------------------------------------------------------------
def get_policy(session: Session, establishment_id: int) -> PriorityPolicy:
    """The establishment's priority settings, or the defaults."""
    row = session.get(WatchPolicyRow, establishment_id)
    if row is None:
        return DEFAULT_POLICY
    return PriorityPolicy(
        act_now_days=row.act_now_days,
        out_of_cycle_days=row.out_of_cycle_days,
        scheduled_days=row.scheduled_days,
        track_days=row.track_days,
        epss_poc=row.epss_poc,
        act_now_min_confidence=row.act_now_min_confidence,
    )


def set_policy(
    session: Session, establishment_id: int, policy: PriorityPolicy, now: datetime
) -> None:
    row = session.get(WatchPolicyRow, establishment_id)
    if row is None:
        row = WatchPolicyRow(establishment_id=establishment_id)
        session.add(row)
    row.act_now_days = policy.act_now_days
    row.out_of_cycle_days = policy.out_of_cycle_days
    row.scheduled_days = policy.scheduled_days
    row.track_days = policy.track_days
    row.epss_poc = policy.epss_poc
    row.act_now_min_confidence = policy.act_now_min_confidence
    row.updated_at = now
