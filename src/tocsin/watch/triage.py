"""What people do with exposures: change their status, suppress false positives, set delays.

Every change is checked against the lifecycle's rules (:mod:`tocsin.watch.lifecycle`;
an invalid one is a UsageError naming the exposure and both statuses) and written with an
``exposure_events`` row and an audit entry, in one transaction.

Declaring a false positive creates a suppression: scoped to the asset by default, or to a
product pattern (globs over vendor and product keys) when asked; open exposures the new
rule covers become false positives at once, and the match runs drop the findings it covers.
Taking an exposure out of ``false_positive`` lifts the rules its declaration created.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.errors import NotFoundError, UsageError
from tocsin.model.inventory import Asset
from tocsin.store import exposure_queries as queries
from tocsin.store import exposures as store
from tocsin.store import watch as watch_store
from tocsin.store.audit import record
from tocsin.store.db import Database
from tocsin.store.inventory import Scope, asset_from_row, get_establishment
from tocsin.store.tables import AssetRow, ExposureRow
from tocsin.store.watch import aware
from tocsin.watch.lifecycle import (
    RESOLVED_STATUSES,
    SYSTEM,
    Change,
    Status,
    check_system_transition,
    check_transition,
)
from tocsin.watch.priority import PriorityPolicy
from tocsin.watch.suppress import ProductPattern, Suppression, SuppressionScope

__all__ = [
    "add_suppression",
    "expire_risk_acceptances",
    "get_policy",
    "list_suppressions",
    "revoke_suppression",
    "set_policy",
    "transition",
]


def _moment(value: datetime | date | None) -> datetime | None:
    """A date means the start of that day, UTC; naive datetimes are UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return aware(value)
    return datetime.combine(value, time(0, 0), tzinfo=UTC)


def _asset(session: Session, establishment_id: int, asset_key: str) -> Asset | None:
    row = session.scalar(
        select(AssetRow).where(
            AssetRow.establishment_id == establishment_id, AssetRow.asset_key == asset_key
        )
    )
    return None if row is None else asset_from_row(row)


def _rule_for(
    session: Session,
    row: ExposureRow,
    reason: str,
    until: datetime | None,
    scope: SuppressionScope,
    product: ProductPattern | None,
    advisory_pattern: str | None,
) -> Suppression:
    """The suppression a false-positive declaration on ``row`` creates."""
    if scope is SuppressionScope.PRODUCT and product is None:
        asset = _asset(session, row.establishment_id, row.asset_key)
        if asset is None or not asset.product_key:
            raise UsageError(
                f"exposure {store.exposure_label(row)}: the asset has no product key; "
                "give the vendor and product patterns"
            )
        product = ProductPattern(asset.vendor_key or "*", asset.product_key)
    return Suppression(
        scope=scope,
        advisory_pattern=advisory_pattern or row.advisory_id,
        reason=reason,
        asset_key=row.asset_key if scope is SuppressionScope.ASSET else None,
        product=product if scope is SuppressionScope.PRODUCT else None,
        expires_at=until,
        exposure_id=row.id,
    )


def _apply_rule(
    session: Session, establishment_id: int, rule: Suppression, actor: str, now: datetime
) -> int:
    """Turn the open exposures a new rule covers into false positives; how many."""
    query = select(ExposureRow).where(
        ExposureRow.establishment_id == establishment_id,
        ExposureRow.status.not_in([s.value for s in RESOLVED_STATUSES]),
    )
    if rule.scope is SuppressionScope.ASSET:
        query = query.where(ExposureRow.asset_key == rule.asset_key)
    assets: dict[str, Asset | None] = {}
    changed = 0
    for row in list(session.scalars(query)):
        if row.asset_key not in assets:
            assets[row.asset_key] = _asset(session, establishment_id, row.asset_key)
        if not rule.covers(row.advisory_id, row.cves, row.asset_key, assets[row.asset_key]):
            continue
        change = Change(row.id, Status(row.status), Status.FALSE_POSITIVE, rule.describe())
        check_system_transition(store.exposure_label(row), change.from_status, change.to_status)
        store.set_status(session, row, change, actor, now, rule.expires_at)
        changed += 1
    return changed


def transition(
    database: Database,
    exposure_id: int,
    to_status: Status | str,
    actor: str,
    reason: str | None = None,
    until: datetime | date | None = None,
    *,
    scope: SuppressionScope = SuppressionScope.ASSET,
    product: ProductPattern | None = None,
    advisory_pattern: str | None = None,
    access: Scope | None = None,
    now: datetime | None = None,
) -> queries.ExposureView:
    """Move an exposure to ``to_status`` on behalf of ``actor``.

    ``until`` is the expiry of a risk acceptance (required) or of a false positive's
    suppression (optional). For ``false_positive``, ``scope`` chooses the suppression:
    the asset, or a product pattern (``product``, default the asset's own vendor and
    product keys); ``advisory_pattern`` defaults to the exposure's advisory id.
    """
    moment = now or datetime.now(UTC)
    try:
        target = Status(to_status)
    except ValueError:
        known = ", ".join(s.value for s in Status)
        raise UsageError(f"unknown status {to_status!r}; known: {known}") from None
    expiry = _moment(until)
    with database.session() as session:
        row = store.get_exposure_row(session, exposure_id)
        if access is not None and not access.allows(row.establishment_id):
            raise NotFoundError(f"no exposure #{exposure_id}")
        current = Status(row.status)
        label = store.exposure_label(row)
        check_transition(label, current, target, reason=reason, until=expiry, now=moment)
        change = Change(row.id, current, target, (reason or "").strip())
        if target is Status.FALSE_POSITIVE:
            rule = _rule_for(session, row, change.reason, expiry, scope, product, advisory_pattern)
            stored = store.add_suppression(session, row.establishment_id, rule, actor, moment)
        store.set_status(session, row, change, actor, moment, expiry)
        if target is Status.FALSE_POSITIVE:
            _apply_rule(session, row.establishment_id, stored, actor, moment)
        if current is Status.FALSE_POSITIVE:
            for suppression_id in store.suppressions_of_exposure(session, row.id):
                store.revoke_suppression(session, suppression_id, actor, moment)
        session.flush()
        return queries.get_exposure(session, row.id)


def expire_risk_acceptances(database: Database, *, now: datetime | None = None) -> int:
    """Send expired risk acceptances back to ``acknowledged``; how many.

    Match runs do the same for the establishment they run on; the scheduler calls this so
    that expiries land on the day even without a run.
    """
    moment = now or datetime.now(UTC)
    with database.session() as session:
        query = select(ExposureRow).where(
            ExposureRow.status == Status.RISK_ACCEPTED.value,
            ExposureRow.status_until <= moment,
        )
        rows = list(session.scalars(query))
        for row in rows:
            until = aware(row.status_until) if row.status_until else moment
            why = f"risk acceptance expired on {until.date().isoformat()}"
            change = Change(row.id, Status.RISK_ACCEPTED, Status.ACKNOWLEDGED, why)
            check_system_transition(store.exposure_label(row), change.from_status, change.to_status)
            store.set_status(session, row, change, SYSTEM, moment)
        return len(rows)


# -- suppressions managed directly ----------------------------------------------------------
def add_suppression(
    database: Database,
    establishment: str,
    rule: Suppression,
    actor: str,
    *,
    now: datetime | None = None,
) -> tuple[Suppression, int]:
    """Store a rule and apply it to the open exposures it covers: (the rule, how many)."""
    moment = now or datetime.now(UTC)
    with database.session() as session:
        est = get_establishment(session, establishment)
        stored = store.add_suppression(session, est.id, rule, actor, moment)
        return stored, _apply_rule(session, est.id, stored, actor, moment)


def list_suppressions(
    database: Database, establishment: str, *, include_revoked: bool = False
) -> list[Suppression]:
    with database.session() as session:
        est = get_establishment(session, establishment)
        return store.list_suppressions(session, est.id, include_revoked=include_revoked)


def revoke_suppression(
    database: Database, suppression_id: int, actor: str, *, now: datetime | None = None
) -> Suppression:
    """Lift a rule; the exposures it hid come back (``new``) at the next match run."""
    with database.session() as session:
        return store.revoke_suppression(session, suppression_id, actor, now or datetime.now(UTC))


# -- policies ---------------------------------------------------------------------------------
def get_policy(database: Database, establishment: str) -> PriorityPolicy:
    with database.session() as session:
        return watch_store.get_policy(session, get_establishment(session, establishment).id)


def set_policy(
    database: Database,
    establishment: str,
    policy: PriorityPolicy,
    actor: str,
    *,
    now: datetime | None = None,
) -> None:
    """Set an establishment's delays; they apply to exposures opened from then on."""
    for name in ("act_now_days", "out_of_cycle_days", "scheduled_days", "track_days"):
        days = getattr(policy, name)
        if days is not None and not 0 <= days <= 3650:
            raise UsageError(f"{name} must be between 0 and 3650 days, or none")
    moment = now or datetime.now(UTC)
    with database.session() as session:
        est = get_establishment(session, establishment)
        watch_store.set_policy(session, est.id, policy, moment)
        record(
            session,
            actor,
            "watch.policy",
            "establishment",
            est.slug,
            establishment_id=est.id,
            details={
                "act_now_days": policy.act_now_days,
                "out_of_cycle_days": policy.out_of_cycle_days,
                "scheduled_days": policy.scheduled_days,
                "track_days": policy.track_days,
                "epss_poc": policy.epss_poc,
                "act_now_min_confidence": policy.act_now_min_confidence,
            },
        )
