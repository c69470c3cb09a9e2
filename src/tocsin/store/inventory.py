"""Persistence of establishments and assets."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Select, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from tocsin.errors import NotFoundError, UsageError
from tocsin.model import Asset, AssetKind, Criticality, Establishment, EstablishmentType, Exposure
from tocsin.store.tables import AssetRow, EstablishmentRow


@dataclass(frozen=True)
class Scope:
    """Which establishments a caller may see: ``None`` means all of them."""

    establishment_ids: frozenset[int] | None = None

    @classmethod
    def everything(cls) -> Scope:
        return cls(None)

    def allows(self, establishment_id: int) -> bool:
        return self.establishment_ids is None or establishment_id in self.establishment_ids


@dataclass(frozen=True)
class AssetFilter:
    """Criteria for listing assets; empty criteria match everything."""

    establishments: tuple[str, ...] = ()
    kinds: tuple[AssetKind, ...] = ()
    criticalities: tuple[Criticality, ...] = ()
    exposures: tuple[Exposure, ...] = ()
    function: str | None = None
    tag: str | None = None
    search: str | None = None


@dataclass(frozen=True)
class StoredAsset:
    """An asset as stored, with the establishment it belongs to."""

    asset: Asset
    establishment: str
    source: str
    db_id: int
    updated_at: datetime


@dataclass
class ImportDiff:
    """What a (re-)import changed: keys added, changed, removed and unchanged."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0


# -- establishments -------------------------------------------------------------------
def establishment_from_row(row: EstablishmentRow) -> Establishment:
    return Establishment(
        slug=row.slug,
        name=row.name,
        type=EstablishmentType(row.type),
        finess=row.finess,
        region=row.region,
    )


def add_establishment(session: Session, establishment: Establishment) -> EstablishmentRow:
    if session.scalar(select(EstablishmentRow).where(EstablishmentRow.slug == establishment.slug)):
        raise UsageError(f"establishment {establishment.slug!r} already exists")
    row = EstablishmentRow(
        slug=establishment.slug,
        name=establishment.name,
        type=establishment.type.value,
        finess=establishment.finess,
        region=establishment.region,
    )
    session.add(row)
    session.flush()
    return row


def get_establishment(session: Session, slug: str) -> EstablishmentRow:
    row = session.scalar(select(EstablishmentRow).where(EstablishmentRow.slug == slug))
    if row is None:
        raise NotFoundError(f"no establishment {slug!r}")
    return row


def list_establishments(session: Session, scope: Scope | None = None) -> list[EstablishmentRow]:
    query = select(EstablishmentRow).order_by(EstablishmentRow.name)
    if scope is not None and scope.establishment_ids is not None:
        query = query.where(EstablishmentRow.id.in_(scope.establishment_ids))
    return list(session.scalars(query))


def asset_counts(session: Session, scope: Scope | None = None) -> dict[int, dict[str, int]]:
    """Per establishment id: total assets and counts by criticality and exposure."""
    query = select(
        AssetRow.establishment_id, AssetRow.criticality, AssetRow.exposure, func.count()
    ).group_by(AssetRow.establishment_id, AssetRow.criticality, AssetRow.exposure)
    if scope is not None and scope.establishment_ids is not None:
        query = query.where(AssetRow.establishment_id.in_(scope.establishment_ids))
    counts: dict[int, dict[str, int]] = {}
    for establishment_id, criticality, exposure, count in session.execute(query):
        bucket = counts.setdefault(establishment_id, {"total": 0})
        bucket["total"] += count
        bucket[criticality] = bucket.get(criticality, 0) + count
        bucket[exposure] = bucket.get(exposure, 0) + count
    return counts


# -- assets ---------------------------------------------------------------------------
def _join_tags(tags: Sequence[str]) -> str:
    return "|" + "|".join(tags) + "|" if tags else ""


def _split_tags(text: str) -> tuple[str, ...]:
    return tuple(t for t in text.split("|") if t)


def asset_from_row(row: AssetRow) -> Asset:
    return Asset(
        id=row.asset_key,
        name=row.name,
        kind=AssetKind(row.kind),
        vendor=row.vendor,
        product=row.product,
        version=row.version,
        cpe=row.cpe,
        purl=row.purl,
        criticality=Criticality(row.criticality),
        exposure=Exposure(row.exposure),
        function=row.function,
        owner=row.owner,
        location=row.location,
        tags=_split_tags(row.tags),
        vendor_key=row.vendor_key,
        product_key=row.product_key,
    )


def _asset_values(asset: Asset) -> dict[str, object]:
    return {
        "name": asset.name,
        "kind": asset.kind.value,
        "vendor": asset.vendor,
        "product": asset.product,
        "version": asset.version,
        "cpe": asset.cpe,
        "purl": asset.purl,
        "criticality": asset.criticality.value,
        "exposure": asset.exposure.value,
        "function": asset.function,
        "owner": asset.owner,
        "location": asset.location,
        "tags": _join_tags(asset.tags),
        "vendor_key": asset.vendor_key,
        "product_key": asset.product_key,
    }


def _filtered(
    query: Select[AssetRow, str], flt: AssetFilter, scope: Scope | None
) -> Select[AssetRow, str]:
    if scope is not None and scope.establishment_ids is not None:
        query = query.where(AssetRow.establishment_id.in_(scope.establishment_ids))
    if flt.establishments:
        query = query.where(EstablishmentRow.slug.in_(flt.establishments))
    if flt.kinds:
        query = query.where(AssetRow.kind.in_([k.value for k in flt.kinds]))
    if flt.criticalities:
        query = query.where(AssetRow.criticality.in_([c.value for c in flt.criticalities]))
    if flt.exposures:
        query = query.where(AssetRow.exposure.in_([e.value for e in flt.exposures]))
    if flt.function:
        query = query.where(AssetRow.function == flt.function)
    if flt.tag:
        query = query.where(AssetRow.tags.contains(f"|{flt.tag}|", autoescape=True))
    if flt.search:
        pattern = flt.search.strip().lower()
        conditions = [
            func.lower(column).contains(pattern, autoescape=True)
            for column in (
                AssetRow.name,
                AssetRow.vendor,
                AssetRow.product,
                AssetRow.version,
                AssetRow.asset_key,
                AssetRow.location,
                AssetRow.owner,
            )
        ]
        query = query.where(or_(*conditions))
    return query


def _asset_query(flt: AssetFilter, scope: Scope | None) -> Select[AssetRow, str]:
    query = select(AssetRow, EstablishmentRow.slug).join(
        EstablishmentRow, AssetRow.establishment_id == EstablishmentRow.id
    )
    return _filtered(query, flt, scope)


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; every timestamp Tocsin stores is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _stored(row: AssetRow, slug: str) -> StoredAsset:
    return StoredAsset(asset_from_row(row), slug, row.source, row.id, _aware(row.updated_at))


def iter_assets(
    session: Session,
    flt: AssetFilter | None = None,
    scope: Scope | None = None,
    *,
    offset: int = 0,
    limit: int | None = None,
    batch: int = 1000,
) -> Iterator[StoredAsset]:
    """Stream assets in a stable order, a batch at a time (bounded memory)."""
    query = _asset_query(flt or AssetFilter(), scope).order_by(
        EstablishmentRow.slug, AssetRow.asset_key
    )
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    result = session.execute(query.execution_options(yield_per=batch))
    for row, slug in result:
        yield _stored(row, slug)


def count_assets(
    session: Session, flt: AssetFilter | None = None, scope: Scope | None = None
) -> int:
    query = _asset_query(flt or AssetFilter(), scope).with_only_columns(func.count())
    return int(session.scalar(query) or 0)


def get_asset(
    session: Session, establishment: str, key: str, scope: Scope | None = None
) -> StoredAsset:
    query = _asset_query(AssetFilter(establishments=(establishment,)), scope).where(
        AssetRow.asset_key == key
    )
    found = session.execute(query).first()
    if found is None:
        raise NotFoundError(f"no asset {key!r} in establishment {establishment!r}")
    return _stored(found[0], found[1])


def find_assets_by_key(session: Session, key: str, scope: Scope | None = None) -> list[StoredAsset]:
    query = _asset_query(AssetFilter(), scope).where(AssetRow.asset_key == key)
    return [_stored(row, slug) for row, slug in session.execute(query)]


def apply_import(
    session: Session,
    establishment_id: int,
    source: str,
    assets: Sequence[Asset],
    *,
    prune: bool = True,
) -> ImportDiff:
    """Upsert ``assets`` by id; with ``prune``, remove this source's assets not in the list.

    Runs inside the caller's transaction, so a failure leaves the inventory untouched.
    """
    diff = ImportDiff()
    existing = {
        row.asset_key: row
        for row in session.scalars(
            select(AssetRow).where(AssetRow.establishment_id == establishment_id)
        )
    }
    now = datetime.now(UTC)
    new_rows: list[dict[str, object]] = []
    seen: set[str] = set()
    for asset in assets:
        seen.add(asset.id)
        row = existing.get(asset.id)
        if row is None:
            values = _asset_values(asset)
            values.update(
                establishment_id=establishment_id,
                asset_key=asset.id,
                source=source,
                created_at=now,
                updated_at=now,
            )
            new_rows.append(values)
            diff.added.append(asset.id)
        elif asset_from_row(row).comparable() != asset.comparable() or row.source != source:
            for key, value in _asset_values(asset).items():
                setattr(row, key, value)
            row.source = source
            row.updated_at = now
            diff.changed.append(asset.id)
        else:
            diff.unchanged += 1
    if new_rows:
        session.execute(insert(AssetRow), new_rows)
    if prune:
        gone = [key for key, row in existing.items() if row.source == source and key not in seen]
        for start in range(0, len(gone), 500):
            chunk = gone[start : start + 500]
            session.execute(
                delete(AssetRow).where(
                    AssetRow.establishment_id == establishment_id,
                    AssetRow.asset_key.in_(chunk),
                )
            )
        diff.removed.extend(sorted(gone))
    session.flush()
    return diff
