"""One watch cycle at a time, recorded: the lease, the run row and the heartbeat.

:func:`run_recorded` wraps a cycle (:func:`tocsin.watch.cycle.run_cycle`) so that

- at most one cycle runs at a time across every process sharing the database (the lease
  ``watch-cycle``, renewed by a heartbeat thread while the cycle runs, released at the end;
  a process that dies loses it when it expires);
- each cycle leaves a row in ``watch_runs`` with its outcome and counts, ``failed`` with the
  error when it raised (runs left ``running`` by a dead process become ``abandoned``);
- a scheduled slot runs once, however many ``tocsin serve`` processes wake up for it.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from tocsin.errors import SourceUnavailableError, TocsinError
from tocsin.store import watch_runs as store
from tocsin.store.db import Database
from tocsin.watch.cycle import CycleReport

__all__ = ["RUN_LEASE", "RecordedRun", "RunBusyError", "holder_id", "run_recorded"]

RUN_LEASE = "watch-cycle"
log = logging.getLogger("tocsin.watch")
Clock = Callable[[], datetime]


class RunBusyError(SourceUnavailableError):
    """Another process is running the watch cycle (exit code 4)."""


def holder_id() -> str:
    """Who holds a lease: host, process and a random part (two apps in one process differ)."""
    return f"{socket.gethostname()[:180]}:{os.getpid()}:{secrets.token_hex(4)}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RecordedRun:
    run_id: int
    report: CycleReport


class _Heartbeat:
    """Renews the lease every third of its life until stopped (a daemon thread)."""

    def __init__(self, database: Database, holder: str, ttl: timedelta, clock: Clock) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat,
            args=(database, holder, ttl, clock),
            name="tocsin-lease",
            daemon=True,
        )

    def _beat(self, database: Database, holder: str, ttl: timedelta, clock: Clock) -> None:
        while not self._stop.wait(ttl.total_seconds() / 3):
            try:
                if not store.renew_lease(database, RUN_LEASE, holder, ttl, clock()):
                    log.error("the watch run lease was lost (held by another process now)")
                    return
            except TocsinError as exc:
                log.warning("could not renew the watch run lease: %s", exc)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def _finish(
    database: Database,
    run_id: int,
    outcome: str,
    clock: Clock,
    *,
    counts: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    try:
        with database.session() as session:
            store.finish_run(session, run_id, outcome, clock(), counts=counts, error=error)
    except TocsinError as exc:  # the database went away: the run stays "running"
        log.error("could not record the end of watch run %s: %s", run_id, exc)


def run_recorded(
    database: Database,
    body: Callable[[], CycleReport],
    *,
    trigger: str,
    slot: datetime | None = None,
    lease_seconds: int = 600,
    clock: Clock = _utcnow,
    holder: str | None = None,
) -> RecordedRun | None:
    """Run ``body`` under the lease and record it; None when ``slot`` already has a run.

    RunBusyError when another process holds the lease. An exception of ``body`` is recorded
    (outcome ``failed``) and raised again.
    """
    who = holder or holder_id()
    ttl = timedelta(seconds=lease_seconds)
    if not store.acquire_lease(database, RUN_LEASE, who, ttl, clock()):
        with database.session() as session:
            lease = store.current_lease(session, RUN_LEASE)
        since = (
            ""
            if lease is None
            else f" (held by {lease.holder} since {lease.acquired_at:%Y-%m-%d %H:%M} UTC)"
        )
        raise RunBusyError("another watch run is in progress" + since)
    try:
        with database.session() as session:
            taken = slot is not None and store.slot_taken(session, slot)
            if not taken:
                abandoned = store.abandon_running(session, clock())
                run_id = store.start_run(session, trigger, who, clock(), slot)
    except IntegrityError:
        taken = True
    except BaseException:
        store.release_lease(database, RUN_LEASE, who)
        raise
    if taken:
        store.release_lease(database, RUN_LEASE, who)
        return None
    if abandoned:
        log.warning("%d earlier watch run(s) marked abandoned", abandoned)
    try:
        with _Heartbeat(database, who, ttl, clock):
            report = body()
    except BaseException as exc:
        reason = str(exc) or type(exc).__name__
        _finish(database, run_id, "failed", clock, error=reason)
        raise
    finally:
        store.release_lease(database, RUN_LEASE, who)
    _finish(database, run_id, report.outcome, clock, counts=report.counts())
    return RecordedRun(run_id, report)
