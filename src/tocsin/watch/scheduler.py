"""The scheduler inside ``tocsin serve``: the watch cycle every day at a set time.

``[schedule]`` in the settings (:class:`tocsin.config.ScheduleSettings`) says when
(``daily_at``, local time of ``timezone`` or of the server), which day the weekly bulletin
is added (``weekly_on``) and where advisories come from (the configured feeds, a mirror
folder for an air-gapped site, or nowhere). It is off unless ``enabled``.

Each day has one *slot*: the day's ``daily_at``. :class:`WatchScheduler` wakes at least
every ``poll_seconds``; when the latest slot has passed, has not been handled and is less
than ``catch_up_hours`` old (a server started at 08:00 still runs the 06:30 cycle), it calls
its runner once for that slot. The default runner (:func:`cycle_runner`) runs
:func:`tocsin.watch.cycle.run_cycle` through :func:`tocsin.watch.runs.run_recorded`, so that
a slot runs once across every process sharing the database and every run is recorded. A run
that fails is logged and recorded; the scheduler goes on to the next day.

The clock and the runner are injected, so tests drive :meth:`WatchScheduler.tick` without
sleeping.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tocsin.config import WEEKDAYS, ScheduleSettings, Settings
from tocsin.errors import TocsinError
from tocsin.inventory.normalise import AliasTable
from tocsin.store import watch_runs
from tocsin.store.db import Database
from tocsin.watch.bulletin import Period
from tocsin.watch.cycle import CycleReport, CycleRequest, cycle_feeds, run_cycle
from tocsin.watch.fetch import FetchClient
from tocsin.watch.runs import RUN_LEASE, RecordedRun, RunBusyError, run_recorded

__all__ = [
    "WatchScheduler",
    "WatchStatus",
    "cycle_runner",
    "latest_slot",
    "next_slot",
    "periods_for",
    "watch_status",
]

log = logging.getLogger("tocsin.watch.scheduler")
Clock = Callable[[], datetime]
Runner = Callable[[datetime, tuple[Period, ...]], RecordedRun | None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _local(moment: datetime, zone: ZoneInfo | None) -> datetime:
    return moment.astimezone(zone) if zone is not None else moment.astimezone()


def slot_on(day: date, at: time, zone: ZoneInfo | None) -> datetime:
    """``at`` on ``day`` in ``zone`` (the server's zone when None), as a UTC time."""
    naive = datetime.combine(day, at)
    local = naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()
    return local.astimezone(UTC)


def latest_slot(now: datetime, at: time, zone: ZoneInfo | None) -> datetime:
    """The last slot at or before ``now``."""
    today = _local(now, zone).date()
    slot = slot_on(today, at, zone)
    return slot if slot <= now else slot_on(today - timedelta(days=1), at, zone)


def next_slot(now: datetime, at: time, zone: ZoneInfo | None) -> datetime:
    """The first slot after ``now``."""
    today = _local(now, zone).date()
    slot = slot_on(today, at, zone)
    return slot if slot > now else slot_on(today + timedelta(days=1), at, zone)


def periods_for(slot: datetime, schedule: ScheduleSettings) -> tuple[Period, ...]:
    """The bulletins of a slot: daily (unless switched off), weekly on ``weekly_on``."""
    periods: list[Period] = [Period.DAILY] if schedule.daily_bulletin else []
    weekday = WEEKDAYS[_local(slot, schedule.zone()).weekday()]
    if schedule.weekly_on == weekday:
        periods.append(Period.WEEKLY)
    return tuple(periods)


def cycle_runner(
    database: Database, settings: Settings, aliases: AliasTable, clock: Clock = _utcnow
) -> Runner:
    """The scheduler's runner: the recorded watch cycle, as ``[schedule]`` configures it."""
    schedule = settings.schedule

    def run(slot: datetime, periods: tuple[Period, ...]) -> RecordedRun | None:
        request = CycleRequest(
            update=schedule.source != "none",
            periods=periods,
            notify=schedule.notify,
            bulletins=schedule.bulletins,
        )
        mirror = schedule.mirror if schedule.source == "mirror" else None

        def body() -> CycleReport:
            with FetchClient() as client:
                feeds = cycle_feeds(database, mirror, client) if request.update else ()
                return run_cycle(database, settings, aliases, request, feeds, now=clock())

        return run_recorded(
            database,
            body,
            trigger="schedule",
            slot=slot,
            lease_seconds=schedule.lease_seconds,
            clock=clock,
        )

    return run


class WatchScheduler:
    """Runs ``runner`` once per daily slot, in a background thread (:meth:`start`)."""

    def __init__(
        self,
        schedule: ScheduleSettings,
        runner: Runner,
        *,
        clock: Clock = _utcnow,
        poll_seconds: float = 60.0,
    ) -> None:
        self.schedule = schedule
        self._runner = runner
        self._clock = clock
        self._poll = poll_seconds
        self._zone = schedule.zone()
        self._handled: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- deciding ------------------------------------------------------------------------
    def due(self, now: datetime) -> datetime | None:
        """The slot to run now, if any."""
        slot = latest_slot(now, self.schedule.daily_at, self._zone)
        late = now - slot
        if slot == self._handled or late > timedelta(hours=self.schedule.catch_up_hours):
            return None
        return slot

    def next_run(self, now: datetime | None = None) -> datetime:
        moment = now or self._clock()
        pending = self.due(moment)
        return pending or next_slot(moment, self.schedule.daily_at, self._zone)

    def tick(self) -> RecordedRun | None:
        """Run the due slot, if any; never raises (a failure is logged and recorded)."""
        now = self._clock()
        slot = self.due(now)
        if slot is None:
            return None
        self._handled = slot
        periods = periods_for(slot, self.schedule)
        log.info("watch cycle for %s (%s)", slot.isoformat(), ", ".join(periods) or "no bulletin")
        try:
            done = self._runner(slot, periods)
        except RunBusyError as exc:
            log.info("watch cycle skipped: %s", exc)
            return None
        except Exception:
            log.exception("the scheduled watch cycle failed")
            return None
        if done is None:
            log.info("the watch cycle of %s already ran", slot.isoformat())
        else:
            log.info("watch cycle %s: %s", done.run_id, done.report.outcome)
        return done

    def wait_seconds(self) -> float:
        now = self._clock()
        until = (next_slot(now, self.schedule.daily_at, self._zone) - now).total_seconds()
        return max(1.0, min(self._poll, until))

    # -- the thread ----------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.wait_seconds())

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        log.info("watch scheduler started; next run %s", self.next_run().isoformat())
        self._thread = threading.Thread(target=self._loop, name="tocsin-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop waking up; a cycle under way finishes in its own (daemon) thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


# -- status ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WatchStatus:
    """The last runs, the lease, and when the scheduler runs next (None: not scheduled)."""

    runs: tuple[watch_runs.WatchRun, ...]
    lease: watch_runs.Lease | None
    next_run: datetime | None
    now: datetime

    @property
    def last(self) -> watch_runs.WatchRun | None:
        return next((r for r in self.runs if r.outcome != "running"), None)

    @property
    def running(self) -> watch_runs.WatchRun | None:
        held = self.lease is not None and self.lease.expires_at > self.now
        return next((r for r in self.runs if r.outcome == "running"), None) if held else None


def watch_status(
    database: Database, schedule: ScheduleSettings, *, limit: int = 10, now: datetime | None = None
) -> WatchStatus:
    moment = now or _utcnow()
    try:
        with database.session() as session:
            runs = tuple(watch_runs.recent_runs(session, limit))
            lease = watch_runs.current_lease(session, RUN_LEASE)
    except TocsinError as exc:
        log.warning("cannot read the watch runs: %s", exc)
        runs, lease = (), None
    upcoming = next_slot(moment, schedule.daily_at, schedule.zone()) if schedule.enabled else None
    return WatchStatus(runs, lease, upcoming, moment)
