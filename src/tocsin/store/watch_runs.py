"""Watch runs and leases: what ran when, and a lock that works across processes.

A lease is a row of ``leases`` with a holder and an expiry. :func:`acquire_lease` takes it
when it is free, expired or already ours, in one UPDATE (or one INSERT the first time), so
two processes on one PostgreSQL — or two on one SQLite file — never both hold it. The
holder renews it while it works; a holder that dies loses it when it expires.

Every run of the watch cycle (``tocsin watch run``, the scheduler of ``tocsin serve``) is a
row of ``watch_runs``: when, who, the outcome (running, ok, partial, failed, abandoned) and
its counts. All times are stored in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tocsin.store.db import Database
from tocsin.store.tables import LeaseRow, WatchRunRow

__all__ = [
    "Lease",
    "WatchRun",
    "abandon_running",
    "acquire_lease",
    "current_lease",
    "finish_run",
    "recent_runs",
    "release_lease",
    "renew_lease",
    "slot_taken",
    "start_run",
]

OUTCOMES = ("running", "ok", "partial", "failed", "abandoned")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# -- leases ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    acquired_at: datetime
    expires_at: datetime


def acquire_lease(
    database: Database, name: str, holder: str, ttl: timedelta, now: datetime
) -> bool:
    """Take the lease ``name`` for ``ttl`` if it is free, expired or ours; True if taken."""
    moment = _utc(now)
    expires = moment + ttl
    with database.session() as session:
        taken = session.execute(
            update(LeaseRow)
            .where(
                LeaseRow.name == name,
                (LeaseRow.expires_at <= moment) | (LeaseRow.holder == holder),
            )
            .values(holder=holder, acquired_at=moment, expires_at=expires)
        )
        if getattr(taken, "rowcount", 0) == 1:
            return True
        if session.get(LeaseRow, name) is not None:
            return False
    try:
        with database.session() as session:
            session.execute(
                insert(LeaseRow).values(
                    name=name, holder=holder, acquired_at=moment, expires_at=expires
                )
            )
    except IntegrityError:
        return False  # another process inserted it first
    return True


def renew_lease(database: Database, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
    """Push the expiry of our lease; False if it is no longer ours."""
    moment = _utc(now)
    with database.session() as session:
        done = session.execute(
            update(LeaseRow)
            .where(LeaseRow.name == name, LeaseRow.holder == holder)
            .values(expires_at=moment + ttl)
        )
        return getattr(done, "rowcount", 0) == 1


def release_lease(database: Database, name: str, holder: str) -> None:
    with database.session() as session:
        session.execute(delete(LeaseRow).where(LeaseRow.name == name, LeaseRow.holder == holder))


def current_lease(session: Session, name: str) -> Lease | None:
    row = session.get(LeaseRow, name)
    if row is None:
        return None
    return Lease(row.name, row.holder, _utc(row.acquired_at), _utc(row.expires_at))


# -- runs --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WatchRun:
    id: int
    trigger: str  # "cli" or "schedule"
    slot: datetime | None
    holder: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    counts: dict[str, Any]
    error: str | None

    def document(self) -> dict[str, object]:
        return {
            "id": self.id,
            "trigger": self.trigger,
            "slot": None if self.slot is None else self.slot.isoformat(),
            "holder": self.holder,
            "started_at": self.started_at.isoformat(),
            "finished_at": None if self.finished_at is None else self.finished_at.isoformat(),
            "outcome": self.outcome,
            "counts": self.counts,
            "error": self.error,
        }


def _run(row: WatchRunRow) -> WatchRun:
    return WatchRun(
        id=row.id,
        trigger=row.trigger,
        slot=None if row.slot is None else _utc(row.slot),
        holder=row.holder,
        started_at=_utc(row.started_at),
        finished_at=None if row.finished_at is None else _utc(row.finished_at),
        outcome=row.outcome,
        counts=dict(row.counts),
        error=row.error,
    )


def slot_taken(session: Session, slot: datetime) -> bool:
    query = select(WatchRunRow.id).where(WatchRunRow.slot == _utc(slot))
    return session.scalar(query) is not None


def start_run(
    session: Session, trigger: str, holder: str, now: datetime, slot: datetime | None = None
) -> int:
    """Record a run as running; IntegrityError if ``slot`` already has one."""
    row = WatchRunRow(
        trigger=trigger,
        slot=None if slot is None else _utc(slot),
        holder=holder,
        started_at=_utc(now),
        outcome="running",
        counts={},
    )
    session.add(row)
    session.flush()
    return row.id


def finish_run(
    session: Session,
    run_id: int,
    outcome: str,
    now: datetime,
    *,
    counts: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    row = session.get(WatchRunRow, run_id)
    if row is None:
        return
    row.outcome = outcome
    row.finished_at = _utc(now)
    row.counts = counts or {}
    row.error = None if error is None else error[:4000]


def abandon_running(session: Session, now: datetime) -> int:
    """Mark runs still ``running`` as ``abandoned`` (call while holding the run lease: they
    belong to a process that died)."""
    done = session.execute(
        update(WatchRunRow)
        .where(WatchRunRow.outcome == "running")
        .values(outcome="abandoned", finished_at=_utc(now))
    )
    return int(getattr(done, "rowcount", 0) or 0)


def recent_runs(session: Session, limit: int = 10) -> list[WatchRun]:
    query = select(WatchRunRow).order_by(WatchRunRow.id.desc()).limit(limit)
    return [_run(row) for row in session.scalars(query)]
