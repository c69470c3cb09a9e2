"""Reading exposures: filtered lists, counts by decision, history, and chart timelines.

Every row comes back as an :class:`ExposureView`, the exposure with its asset's name,
criticality, network exposure and care function (None when the asset has left the
inventory), so that the CLI, the API, the dashboard and the bulletins show the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from tocsin.errors import NotFoundError
from tocsin.model.finding import Decision, MatchKind
from tocsin.model.inventory import Criticality, Exposure
from tocsin.store.inventory import Scope
from tocsin.store.tables import AssetRow, EstablishmentRow, ExposureEventRow, ExposureRow
from tocsin.store.watch import aware
from tocsin.watch.lifecycle import Status, Timeline

__all__ = [
    "DecisionCounts",
    "ExposureEvent",
    "ExposureFilter",
    "ExposureView",
    "count_exposures",
    "decision_counts",
    "exposure_events",
    "get_exposure",
    "iter_exposures",
    "timelines",
]


@dataclass(frozen=True)
class ExposureView:
    """An exposure with what the people handling it need to see."""

    id: int
    establishment: str
    asset_key: str
    asset_name: str | None
    asset_version: str | None  # the inventory version when it was last matched
    criticality: Criticality | None
    asset_exposure: Exposure | None
    function: str | None
    advisory: str
    title: str
    cves: tuple[str, ...]
    match: MatchKind
    confidence: float
    evidence: str
    fixed_version: str | None
    kev: bool
    epss: float | None
    decision: Decision
    score: int
    reasons: tuple[str, ...]
    status: Status
    status_reason: str | None
    status_until: datetime | None
    due_date: date | None
    first_seen: datetime
    last_seen: datetime
    updated_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class ExposureFilter:
    """Criteria for listing exposures; empty criteria match everything."""

    establishments: tuple[str, ...] = ()
    statuses: tuple[Status, ...] = ()
    decisions: tuple[Decision, ...] = ()
    criticalities: tuple[Criticality, ...] = ()
    functions: tuple[str, ...] = ()
    asset: str | None = None  # an asset key
    advisory: str | None = None  # an advisory id
    text: str | None = None  # in the title, advisory, asset key or name, evidence
    kev: bool | None = None


@dataclass(frozen=True)
class DecisionCounts:
    act_now: int = 0
    out_of_cycle: int = 0
    scheduled: int = 0
    track: int = 0

    @property
    def total(self) -> int:
        return self.act_now + self.out_of_cycle + self.scheduled + self.track


@dataclass(frozen=True)
class ExposureEvent:
    exposure_id: int
    at: datetime
    actor: str
    from_status: Status | None
    to_status: Status
    reason: str | None


def _maybe(moment: datetime | None) -> datetime | None:
    return None if moment is None else aware(moment)


def _view(row: ExposureRow, slug: str, asset: AssetRow | None) -> ExposureView:
    return ExposureView(
        id=row.id,
        establishment=slug,
        asset_key=row.asset_key,
        asset_name=asset.name if asset is not None else None,
        asset_version=row.asset_version,
        criticality=Criticality(asset.criticality) if asset is not None else None,
        asset_exposure=Exposure(asset.exposure) if asset is not None else None,
        function=asset.function if asset is not None else None,
        advisory=row.advisory_id,
        title=row.title,
        cves=tuple(row.cves),
        match=MatchKind(row.match_kind),
        confidence=row.confidence,
        evidence=row.evidence,
        fixed_version=row.fixed_version,
        kev=row.kev,
        epss=row.epss,
        decision=Decision(row.decision),
        score=row.score,
        reasons=tuple(row.reasons),
        status=Status(row.status),
        status_reason=row.status_reason,
        status_until=_maybe(row.status_until),
        due_date=row.due_date,
        first_seen=aware(row.first_seen),
        last_seen=aware(row.last_seen),
        updated_at=aware(row.updated_at),
        resolved_at=_maybe(row.resolved_at),
    )


_Query = Select[ExposureRow, str, AssetRow]  # the asset is None when it left the inventory


def _base() -> _Query:
    return (
        select(ExposureRow, EstablishmentRow.slug, AssetRow)
        .join(EstablishmentRow, ExposureRow.establishment_id == EstablishmentRow.id)
        .outerjoin(
            AssetRow,
            (AssetRow.establishment_id == ExposureRow.establishment_id)
            & (AssetRow.asset_key == ExposureRow.asset_key),
        )
    )


def _filtered(query: _Query, flt: ExposureFilter, scope: Scope | None) -> _Query:
    if scope is not None and scope.establishment_ids is not None:
        query = query.where(ExposureRow.establishment_id.in_(scope.establishment_ids))
    if flt.establishments:
        query = query.where(EstablishmentRow.slug.in_(flt.establishments))
    if flt.statuses:
        query = query.where(ExposureRow.status.in_([s.value for s in flt.statuses]))
    if flt.decisions:
        query = query.where(ExposureRow.decision.in_([d.value for d in flt.decisions]))
    if flt.criticalities:
        query = query.where(AssetRow.criticality.in_([c.value for c in flt.criticalities]))
    if flt.functions:
        query = query.where(AssetRow.function.in_(flt.functions))
    if flt.asset:
        query = query.where(ExposureRow.asset_key == flt.asset)
    if flt.advisory:
        query = query.where(func.upper(ExposureRow.advisory_id) == flt.advisory.strip().upper())
    if flt.kev is not None:
        query = query.where(ExposureRow.kev == flt.kev)
    if flt.text and flt.text.strip():
        pattern = flt.text.strip().lower()
        columns = (
            ExposureRow.title,
            ExposureRow.advisory_id,
            ExposureRow.asset_key,
            ExposureRow.evidence,
            AssetRow.name,
        )
        query = query.where(
            or_(*(func.lower(c).contains(pattern, autoescape=True) for c in columns))
        )
    return query


_DECISION_RANK = case({d.value: d.rank for d in Decision}, value=ExposureRow.decision, else_=0)


def iter_exposures(
    session: Session,
    flt: ExposureFilter | None = None,
    scope: Scope | None = None,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> Iterator[ExposureView]:
    """Most urgent first: decision, score, then the nearest due date."""
    query = _filtered(_base(), flt or ExposureFilter(), scope).order_by(
        _DECISION_RANK.desc(),
        ExposureRow.score.desc(),
        ExposureRow.due_date.is_(None),
        ExposureRow.due_date,
        ExposureRow.id,
    )
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    for row, slug, asset in session.execute(query.execution_options(yield_per=1000)):
        yield _view(row, slug, asset)


def get_exposure(session: Session, exposure_id: int, scope: Scope | None = None) -> ExposureView:
    query = _filtered(_base(), ExposureFilter(), scope).where(ExposureRow.id == exposure_id)
    found = session.execute(query).first()
    if found is None:
        raise NotFoundError(f"no exposure #{exposure_id}")
    return _view(found[0], found[1], found[2])


def count_exposures(
    session: Session, flt: ExposureFilter | None = None, scope: Scope | None = None
) -> int:
    query = _filtered(_base(), flt or ExposureFilter(), scope).with_only_columns(func.count())
    return int(session.scalar(query) or 0)


def decision_counts(
    session: Session, flt: ExposureFilter | None = None, scope: Scope | None = None
) -> DecisionCounts:
    """How many exposures of each decision the filter selects (for charts)."""
    query = (
        _filtered(_base(), flt or ExposureFilter(), scope)
        .with_only_columns(ExposureRow.decision, func.count())
        .group_by(ExposureRow.decision)
    )
    counts = {Decision(decision).value: int(n) for decision, n in session.execute(query)}
    return DecisionCounts(**counts)


def exposure_events(session: Session, exposure_id: int) -> list[ExposureEvent]:
    """An exposure's status history, oldest first."""
    query = (
        select(ExposureEventRow)
        .where(ExposureEventRow.exposure_id == exposure_id)
        .order_by(ExposureEventRow.at, ExposureEventRow.id)
    )
    return [
        ExposureEvent(
            row.exposure_id,
            aware(row.at),
            row.actor,
            None if row.from_status is None else Status(row.from_status),
            Status(row.to_status),
            row.reason,
        )
        for row in session.scalars(query)
    ]


def timelines(session: Session, establishment_id: int, since: datetime) -> Iterator[Timeline]:
    """Each exposure not resolved before ``since``, with its decision and status changes."""
    query = (
        select(
            ExposureRow.id, ExposureRow.decision, ExposureEventRow.at, ExposureEventRow.to_status
        )
        .join(ExposureEventRow, ExposureEventRow.exposure_id == ExposureRow.id)
        .where(ExposureRow.establishment_id == establishment_id)
        .where(or_(ExposureRow.resolved_at.is_(None), ExposureRow.resolved_at >= since))
        .order_by(ExposureRow.id, ExposureEventRow.at, ExposureEventRow.id)
    )
    current: int | None = None
    decision = Decision.TRACK
    events: list[tuple[datetime, Status]] = []
    for exposure_id, decision_value, at, to_status in session.execute(
        query.execution_options(yield_per=5000)
    ):
        if exposure_id != current:
            if current is not None:
                yield Timeline(decision, tuple(events))
            current, decision, events = exposure_id, Decision(decision_value), []
        events.append((aware(at), Status(to_status)))
    if current is not None:
        yield Timeline(decision, tuple(events))
