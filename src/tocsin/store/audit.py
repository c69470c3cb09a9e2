"""The append-only audit log of every change (the database refuses UPDATE and DELETE)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.store.tables import AuditRow


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str | None
    establishment_id: int | None
    details: dict[str, Any]


def record(
    session: Session,
    actor: str,
    action: str,
    target_type: str,
    target_id: str | None = None,
    *,
    establishment_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one entry, in the caller's transaction (so it lands with the change)."""
    session.add(
        AuditRow(
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            establishment_id=establishment_id,
            details=details or {},
        )
    )


def recent(session: Session, limit: int = 200, offset: int = 0) -> list[AuditEntry]:
    query = select(AuditRow).order_by(AuditRow.id.desc()).offset(offset).limit(limit)
    return [
        AuditEntry(
            row.at,
            row.actor,
            row.action,
            row.target_type,
            row.target_id,
            row.establishment_id,
            dict(row.details),
        )
        for row in session.scalars(query)
    ]
