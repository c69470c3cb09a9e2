"""The scheduler of ``tocsin serve``: slots, catch-up, failures, one run across processes,
and one real cycle from a mirror folder of recorded files (no network, no sleeping).

The clock and the runner are injected: :meth:`WatchScheduler.tick` is called by hand at the
times under test.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tocsin.config import NotifySettings, ScheduleSettings, Settings
from tocsin.inventory.normalise import load_aliases
from tocsin.model import Asset, AssetKind, Criticality, Establishment, EstablishmentType
from tocsin.model import Exposure as Reach
from tocsin.store.db import Database
from tocsin.store.inventory import add_establishment, apply_import
from tocsin.watch.bulletin import Period
from tocsin.watch.cycle import CycleReport
from tocsin.watch.runs import RecordedRun, RunBusyError, run_recorded
from tocsin.watch.scheduler import (
    WatchScheduler,
    cycle_runner,
    latest_slot,
    next_slot,
    periods_for,
    watch_status,
)

PARIS = ZoneInfo("Europe/Paris")
FIXTURES = Path(__file__).parent / "sources" / "fixtures"
# Monday 1 September 2025, 06:30 in Paris is 04:30 UTC (summer time).
MONDAY_SLOT = datetime(2025, 9, 1, 4, 30, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def schedule(**values: object) -> ScheduleSettings:
    base: dict[str, object] = {"enabled": True, "daily_at": "06:30", "timezone": "Europe/Paris"}
    return ScheduleSettings.model_validate(base | values)


def test_slots_follow_local_time_and_summer_time() -> None:
    at = time(6, 30)
    before = datetime(2025, 9, 1, 4, 0, tzinfo=UTC)
    assert next_slot(before, at, PARIS) == MONDAY_SLOT
    assert latest_slot(before, at, PARIS) == MONDAY_SLOT - timedelta(days=1)
    assert latest_slot(MONDAY_SLOT, at, PARIS) == MONDAY_SLOT
    winter = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)
    assert latest_slot(winter, at, PARIS) == datetime(2025, 12, 1, 5, 30, tzinfo=UTC)
    # 26 October 2025: clocks go back; the slot stays 06:30 local.
    assert next_slot(datetime(2025, 10, 25, 12, tzinfo=UTC), at, PARIS) == datetime(
        2025, 10, 26, 5, 30, tzinfo=UTC
    )


def test_weekly_bulletin_on_its_day() -> None:
    assert periods_for(MONDAY_SLOT, schedule()) == (Period.DAILY, Period.WEEKLY)
    assert periods_for(MONDAY_SLOT + timedelta(days=1), schedule()) == (Period.DAILY,)
    assert periods_for(MONDAY_SLOT, schedule(weekly_on="none")) == (Period.DAILY,)
    quiet = schedule(daily_bulletin=False, weekly_on="tuesday")
    assert periods_for(MONDAY_SLOT, quiet) == ()
    assert periods_for(MONDAY_SLOT + timedelta(days=1), quiet) == (Period.WEEKLY,)


Call = tuple[datetime, tuple[Period, ...]]


def recording_runner(calls: list[Call], error: Exception | None = None) -> Callable[..., None]:
    def run(slot: datetime, periods: tuple[Period, ...]) -> None:
        calls.append((slot, periods))
        if error is not None:
            raise error

    return run


def test_runs_once_per_slot_and_catches_up_within_the_window() -> None:
    calls: list[Call] = []
    clock = Clock(MONDAY_SLOT - timedelta(minutes=1))
    scheduler = WatchScheduler(schedule(), recording_runner(calls), clock=clock)
    # Started at 06:29 on Monday: Sunday's slot is 24 h old, beyond the 6 h catch-up.
    assert scheduler.tick() is None and calls == []
    assert scheduler.next_run() == MONDAY_SLOT
    assert scheduler.wait_seconds() == 60.0
    clock.now = MONDAY_SLOT + timedelta(seconds=20)
    scheduler.tick()
    scheduler.tick()
    assert calls == [(MONDAY_SLOT, (Period.DAILY, Period.WEEKLY))]
    clock.now = MONDAY_SLOT + timedelta(hours=23, minutes=59, seconds=30)
    assert scheduler.wait_seconds() == 30.0
    # A server started at 09:00 on Tuesday still runs Tuesday's 06:30 cycle.
    late = WatchScheduler(schedule(), recording_runner(calls), clock=clock)
    clock.now = MONDAY_SLOT + timedelta(days=1, hours=2, minutes=30)
    late.tick()
    assert calls[-1] == (MONDAY_SLOT + timedelta(days=1), (Period.DAILY,))


def test_a_failing_run_is_logged_and_the_scheduler_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[Call] = []
    clock = Clock(MONDAY_SLOT)
    scheduler = WatchScheduler(
        schedule(), recording_runner(calls, RuntimeError("disk full")), clock=clock
    )
    with caplog.at_level(logging.ERROR, logger="tocsin.watch.scheduler"):
        assert scheduler.tick() is None
    assert "the scheduled watch cycle failed" in caplog.text and "disk full" in caplog.text
    busy = WatchScheduler(
        schedule(), recording_runner(calls, RunBusyError("another run")), clock=clock
    )
    assert busy.tick() is None
    clock.now += timedelta(days=1)
    scheduler.tick()
    assert len(calls) == 3  # the next day still runs


def test_thread_starts_and_stops_without_waiting_for_the_next_slot() -> None:
    calls: list[Call] = []
    scheduler = WatchScheduler(
        schedule(), recording_runner(calls), clock=Clock(MONDAY_SLOT), poll_seconds=3600
    )
    scheduler.start()
    scheduler.stop(timeout=10)
    assert not scheduler.running
    assert calls == [(MONDAY_SLOT, (Period.DAILY, Period.WEEKLY))]


def _empty_report() -> CycleReport:
    from tocsin.watch.service import UpdateReport

    return CycleReport(False, UpdateReport(()), (), ())


def test_one_run_across_processes(database: Database) -> None:
    clock = Clock(MONDAY_SLOT)
    first = run_recorded(database, _empty_report, trigger="schedule", slot=MONDAY_SLOT, clock=clock)
    assert isinstance(first, RecordedRun) and first.report.outcome == "ok"
    # A second server waking up for the same slot finds it done.
    again = run_recorded(database, _empty_report, trigger="schedule", slot=MONDAY_SLOT, clock=clock)
    assert again is None

    def nested() -> CycleReport:
        with pytest.raises(RunBusyError, match="another watch run is in progress"):
            run_recorded(database, _empty_report, trigger="cli", clock=clock)
        return _empty_report()

    assert run_recorded(database, nested, trigger="cli", clock=clock) is not None

    def broken() -> CycleReport:
        raise RuntimeError("feed parser exploded")

    with pytest.raises(RuntimeError):
        run_recorded(database, broken, trigger="cli", clock=clock)
    status = watch_status(database, schedule(), now=MONDAY_SLOT)
    assert [(r.trigger, r.outcome) for r in status.runs] == [
        ("cli", "failed"),
        ("cli", "ok"),
        ("schedule", "ok"),
    ]
    assert status.runs[0].error == "feed parser exploded" and status.running is None
    assert status.next_run == MONDAY_SLOT + timedelta(days=1)
    assert run_recorded(database, _empty_report, trigger="cli", clock=clock) is not None


# -- a real cycle from a mirror folder -------------------------------------------------------
def write_mirror(folder: Path, feeds: dict[tuple[str, str], list[Path]]) -> None:
    """A mirror (docs/sources.md layout) of recorded files, as ``tocsin watch mirror`` would."""
    entries = []
    for (kind, name), files in feeds.items():
        target = folder / kind / name
        target.mkdir(parents=True)
        listed = []
        for index, source in enumerate(files, start=1):
            data = gzip.compress(source.read_bytes(), mtime=0)
            path = target / f"{index:06d}-{source.name}.gz"
            path.write_bytes(data)
            listed.append(
                {
                    "path": f"{kind}/{name}/{path.name}",
                    "url": f"https://example.org/{source.name}",
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "size": len(data),
                    "encoding": "gzip",
                }
            )
        entries.append(
            {"name": name, "kind": kind, "status": "fetched", "files": listed,
             "fetched_at": "2025-08-31T20:00:00+00:00"}
        )  # fmt: skip
    manifest = {
        "format": "tocsin-mirror",
        "version": 1,
        "created_at": "2025-08-31T20:00:00+00:00",
        "tocsin_version": "test",
        "feeds": entries,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_a_scheduled_cycle_runs_from_a_mirror_folder(database: Database, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    write_mirror(
        mirror,
        {
            ("cve5", "cve5"): [FIXTURES / "cve5" / "panos-kev.json"],
            ("kev", "kev"): [FIXTURES / "kev" / "catalogue.json"],
        },
    )
    with database.session() as session:
        place = add_establishment(session, Establishment("ch-a", "CH A", EstablishmentType.CH))
        firewall = Asset(
            id="fw-01",
            name="Pare-feu Internet",
            kind=AssetKind.APPLIANCE,
            vendor="Palo Alto Networks",
            product="PAN-OS",
            version="10.2.5",
            criticality=Criticality.VITAL,
            exposure=Reach.INTERNET,
        )
        apply_import(session, place.id, "test", [firewall])
    settings = Settings(
        home=tmp_path / "home",
        schedule=schedule(source="mirror", mirror=mirror, notify=False),
        notify=NotifySettings(lang="en"),
    )
    clock = Clock(MONDAY_SLOT + timedelta(minutes=1))
    runner = cycle_runner(database, settings, load_aliases(None), clock)
    scheduler = WatchScheduler(settings.schedule, runner, clock=clock)
    done = scheduler.tick()
    assert done is not None and done.report.outcome == "ok", done
    counts = done.report.counts()
    assert counts["feeds"] == 2 and counts["inserted"] >= 1 and counts["feeds_failed"] == 0
    assert counts["establishments"]["ch-a"]["created"] == 1
    assert [(b.period, b.lang) for b in done.report.bulletins] == [
        (Period.DAILY, "en"),
        (Period.WEEKLY, "en"),
    ]
    written = sorted(p.name for p in (tmp_path / "home" / "bulletins" / "ch-a").iterdir())
    assert "2025-09-01-weekly.json" in written and "2025-09-01-daily.md" in written
    weekly = json.loads((tmp_path / "home/bulletins/ch-a/2025-09-01-weekly.json").read_text())
    assert [g["advisory"] for g in weekly["new"]] == ["CVE-2024-3400"]
    status = watch_status(database, settings.schedule, now=clock.now)
    assert status.last is not None and status.last.outcome == "ok"
    assert status.last.counts["created"] == 1 and status.last.slot == MONDAY_SLOT
