"""Persistence of exposures, their status history and the suppressions.

:func:`apply_plan` writes what :func:`tocsin.watch.lifecycle.plan_run` decided; every status
change, whoever makes it, adds an ``exposure_events`` row and an audit entry in the same
transaction. The events are append-only: nothing here updates or deletes them. Queries for
lists, counts and charts are in :mod:`tocsin.store.exposure_queries`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from tocsin.errors import NotFoundError, UsageError
from tocsin.model.finding import Decision, Finding, MatchKind
from tocsin.store.audit import record
from tocsin.store.tables import ExposureEventRow, ExposureRow, SuppressionRow
from tocsin.store.watch import aware, text_column
from tocsin.watch.lifecycle import (
    RESOLVED_STATUSES,
    SYSTEM,
    Change,
    ExposureState,
    Plan,
    Status,
    Upsert,
)
from tocsin.watch.suppress import ProductPattern, Suppression, SuppressionScope, validate

__all__ = [
    "add_suppression",
    "apply_plan",
    "exposure_label",
    "exposure_states",
    "get_exposure_row",
    "list_suppressions",
    "revoke_suppression",
    "set_status",
    "suppressions_of_exposure",
]

_CHUNK = 500
_MAX_TEXT = 4000


def exposure_label(row: ExposureRow) -> str:
    """How errors and audit entries name an exposure."""
    return f"#{row.id} ({row.asset_key} × {row.advisory_id})"


def _content(
    finding_or_row: Finding | ExposureRow, asset_version: str | None, due: date | None
) -> tuple[object, ...]:
    """What a refresh compares, to write only exposures whose content changed."""
    if isinstance(finding_or_row, Finding):
        f = finding_or_row
        return (
            text_column(f.title),
            tuple(f.cves),
            f.match.value,
            f.confidence,
            text_column(f.evidence[:_MAX_TEXT]),
            f.fixed,
            asset_version,
            f.kev,
            f.epss,
            f.decision.value,
            f.score,
            tuple(f.reasons),
            due,
        )
    r = finding_or_row
    return (
        r.title,
        tuple(r.cves),
        r.match_kind,
        r.confidence,
        r.evidence,
        r.fixed_version,
        r.asset_version,
        r.kev,
        r.epss,
        r.decision,
        r.score,
        tuple(r.reasons),
        r.due_date,
    )


def exposure_states(
    session: Session, establishment_id: int
) -> tuple[list[ExposureState], dict[int, tuple[object, ...]]]:
    """The establishment's exposures as the lifecycle sees them, and their content."""
    states: list[ExposureState] = []
    contents: dict[int, tuple[object, ...]] = {}
    query = select(ExposureRow).where(ExposureRow.establishment_id == establishment_id)
    for row in session.scalars(query.execution_options(yield_per=2000)):
        states.append(
            ExposureState(
                id=row.id,
                asset_key=row.asset_key,
                advisory=row.advisory_id,
                status=Status(row.status),
                decision=Decision(row.decision),
                match=MatchKind(row.match_kind),
                due_date=row.due_date,
                asset_version=row.asset_version,
                status_until=None if row.status_until is None else aware(row.status_until),
            )
        )
        contents[row.id] = _content(row, row.asset_version, row.due_date)
    return states, contents


def _finding_values(upsert: Upsert) -> dict[str, Any]:
    f = upsert.finding
    return {
        "title": text_column(f.title),
        "cves": list(f.cves),
        "match_kind": f.match.value,
        "confidence": f.confidence,
        "evidence": text_column(f.evidence[:_MAX_TEXT]),
        "fixed_version": f.fixed,
        "asset_version": upsert.asset_version,
        "kev": f.kev,
        "epss": f.epss,
        "decision": f.decision.value,
        "score": f.score,
        "reasons": list(f.reasons),
        "due_date": upsert.due_date,
    }


def _event(exposure_id: int, now: datetime, actor: str, change: Change) -> dict[str, Any]:
    return {
        "exposure_id": exposure_id,
        "at": now,
        "actor": actor,
        "from_status": change.from_status.value,
        "to_status": change.to_status.value,
        "reason": text_column(change.reason[:_MAX_TEXT]) or None,
    }


def _create(session: Session, establishment_id: int, upserts: list[Upsert], now: datetime) -> None:
    for start in range(0, len(upserts), _CHUNK):
        chunk = upserts[start : start + _CHUNK]
        rows = [
            {
                "establishment_id": establishment_id,
                "asset_key": u.finding.asset,
                "advisory_id": u.finding.advisory,
                "status": Status.NEW.value,
                "first_seen": now,
                "last_seen": now,
                "updated_at": now,
                **_finding_values(u),
            }
            for u in chunk
        ]
        returned = session.execute(
            insert(ExposureRow).returning(ExposureRow.id, sort_by_parameter_order=True), rows
        )
        events = [
            {
                "exposure_id": exposure_id,
                "at": now,
                "actor": SYSTEM,
                "from_status": None,
                "to_status": Status.NEW.value,
                "reason": f"first seen ({u.finding.match.value}): {u.finding.evidence}"[:_MAX_TEXT],
            }
            for exposure_id, u in zip(returned.scalars(), chunk, strict=True)
        ]
        session.execute(insert(ExposureEventRow), events)


def _refresh(
    session: Session,
    upserts: list[Upsert],
    contents: dict[int, tuple[object, ...]],
    now: datetime,
) -> None:
    ids = [u.exposure_id for u in upserts if u.exposure_id is not None]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        session.execute(update(ExposureRow).where(ExposureRow.id.in_(chunk)).values(last_seen=now))
    changed = [
        {"id": u.exposure_id, **_finding_values(u), "updated_at": now}
        for u in upserts
        if u.exposure_id is not None
        and contents.get(u.exposure_id) != _content(u.finding, u.asset_version, u.due_date)
    ]
    if changed:
        session.execute(update(ExposureRow), changed)


def _status_values(change: Change, now: datetime) -> dict[str, Any]:
    return {
        "status": change.to_status.value,
        "status_reason": text_column(change.reason[:_MAX_TEXT]),
        "status_until": None,
        "resolved_at": now if change.to_status in RESOLVED_STATUSES else None,
        "updated_at": now,
    }


def _change_status(session: Session, change: Change, now: datetime) -> bool:
    """Apply a run's change only if nobody changed the status since the run read it."""
    result = session.execute(
        update(ExposureRow)
        .where(
            ExposureRow.id == change.exposure_id,
            ExposureRow.status == change.from_status.value,
        )
        .values(**_status_values(change, now))
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def apply_plan(
    session: Session,
    establishment_id: int,
    plan: Plan,
    contents: dict[int, tuple[object, ...]],
    now: datetime,
) -> tuple[Change, ...]:
    """Write a run's plan: new exposures, refreshed ones, and the status changes.

    Returns the changes made: one whose exposure a person changed meanwhile is left out
    (the next run looks at it again).
    """
    _create(session, establishment_id, [u for u in plan.upserts if u.exposure_id is None], now)
    _refresh(session, [u for u in plan.upserts if u.exposure_id is not None], contents, now)
    applied = tuple(c for c in plan.changes if _change_status(session, c, now))
    if applied:
        session.execute(
            insert(ExposureEventRow), [_event(c.exposure_id, now, SYSTEM, c) for c in applied]
        )
    for change in applied:
        _audit_change(session, SYSTEM, establishment_id, change, None)
    return applied


def _audit_change(
    session: Session, actor: str, establishment_id: int, change: Change, until: datetime | None
) -> None:
    details: dict[str, Any] = {
        "from": change.from_status.value,
        "to": change.to_status.value,
        "reason": change.reason or None,
    }
    if until is not None:
        details["until"] = until.isoformat()
    record(
        session,
        actor,
        "exposure.status",
        "exposure",
        str(change.exposure_id),
        establishment_id=establishment_id,
        details=details,
    )


def get_exposure_row(session: Session, exposure_id: int) -> ExposureRow:
    """The row, locked until the end of the transaction (PostgreSQL) to change it."""
    row = session.get(ExposureRow, exposure_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"no exposure #{exposure_id}")
    return row


def set_status(
    session: Session,
    row: ExposureRow,
    change: Change,
    actor: str,
    now: datetime,
    until: datetime | None = None,
) -> None:
    """Apply one checked status change to ``row``, with its event and audit entry."""
    row.status = change.to_status.value
    row.status_reason = text_column(change.reason[:_MAX_TEXT]) or None
    row.status_until = until
    row.resolved_at = now if change.to_status in RESOLVED_STATUSES else None
    row.updated_at = now
    session.execute(insert(ExposureEventRow), [_event(row.id, now, actor, change)])
    _audit_change(session, actor, row.establishment_id, change, until)


# -- suppressions -------------------------------------------------------------------------
def _suppression(row: SuppressionRow) -> Suppression:
    product = None
    if row.scope == SuppressionScope.PRODUCT.value:
        product = ProductPattern(row.vendor_pattern or "*", row.product_pattern or "*")
    return Suppression(
        scope=SuppressionScope(row.scope),
        advisory_pattern=row.advisory_pattern,
        reason=row.reason,
        asset_key=row.asset_key,
        product=product,
        expires_at=None if row.expires_at is None else aware(row.expires_at),
        id=row.id,
        created_by=row.created_by,
        created_at=aware(row.created_at),
        exposure_id=row.exposure_id,
        revoked_at=None if row.revoked_at is None else aware(row.revoked_at),
    )


def add_suppression(
    session: Session, establishment_id: int, rule: Suppression, actor: str, now: datetime
) -> Suppression:
    """Store a validated rule (UsageError when it is incomplete), with an audit entry."""
    validate(rule)
    if rule.expires_at is not None and rule.expires_at <= now:
        raise UsageError("a suppression's expiry must be in the future")
    product = rule.product if rule.scope is SuppressionScope.PRODUCT else None
    row = SuppressionRow(
        establishment_id=establishment_id,
        scope=rule.scope.value,
        asset_key=rule.asset_key if rule.scope is SuppressionScope.ASSET else None,
        vendor_pattern=product.vendor.casefold() if product else None,
        product_pattern=product.product.casefold() if product else None,
        advisory_pattern=rule.advisory_pattern.upper(),
        reason=text_column(rule.reason.strip()),
        created_by=actor,
        created_at=now,
        expires_at=rule.expires_at,
        exposure_id=rule.exposure_id,
    )
    session.add(row)
    session.flush()
    stored = _suppression(row)
    record(
        session,
        actor,
        "suppression.create",
        "suppression",
        str(row.id),
        establishment_id=establishment_id,
        details={"rule": stored.describe()},
    )
    return stored


def list_suppressions(
    session: Session, establishment_id: int, *, include_revoked: bool = False
) -> list[Suppression]:
    query = (
        select(SuppressionRow)
        .where(SuppressionRow.establishment_id == establishment_id)
        .order_by(SuppressionRow.id)
    )
    if not include_revoked:
        query = query.where(SuppressionRow.revoked_at.is_(None))
    return [_suppression(row) for row in session.scalars(query)]


def revoke_suppression(
    session: Session, suppression_id: int, actor: str, now: datetime
) -> Suppression:
    """Lift a rule (kept, with ``revoked_at``); the next match run re-opens what it hid."""
    row = session.get(SuppressionRow, suppression_id)
    if row is None:
        raise NotFoundError(f"no suppression #{suppression_id}")
    if row.revoked_at is None:
        row.revoked_at = now
        row.revoked_by = actor
        record(
            session,
            actor,
            "suppression.revoke",
            "suppression",
            str(row.id),
            establishment_id=row.establishment_id,
        )
    return _suppression(row)


def suppressions_of_exposure(session: Session, exposure_id: int) -> Sequence[int]:
    """The live rules an exposure's false-positive status created."""
    query = select(SuppressionRow.id).where(
        SuppressionRow.exposure_id == exposure_id, SuppressionRow.revoked_at.is_(None)
    )
    return list(session.scalars(query))
