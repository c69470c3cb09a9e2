"""The demo's detection step: its bundled logs into an event store, then a scan.

The logs (``tocsin/data/demo/logs``, made by :mod:`tocsin.demo.logs`) are ingested into a
store of their own, ``$TOCSIN_HOME/detect/demo-events``, rebuilt on each run (into a new
folder that replaces the old one only once complete), so running the demo again never
doubles the events. The scan runs Tocsin's bundled rule packs and the DDoS detector over it
and keeps the alerts of the demo establishment; a second run finds the same alerts and
leaves them as they are (with their statuses).
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from tocsin.config import Settings
from tocsin.detect.alerts import ScanRequest, scan_establishment
from tocsin.detect.ingest import ingest
from tocsin.store.alerts import count_alerts
from tocsin.store.db import Database
from tocsin.store.inventory import get_establishment


@dataclass(frozen=True)
class DemoDetection:
    store: Path
    events: int  # events ingested from the bundled logs
    new: int  # alerts added by this run
    alerts: int  # alerts of the establishment after the run
    high_or_critical: int


def demo_store(settings: Settings) -> Path:
    return settings.home / "detect" / "demo-events"


def _rebuild_store(store: Path, files: list[Path]) -> int:
    store.parent.mkdir(parents=True, exist_ok=True)
    fresh = store.parent / f".demo-events-{uuid.uuid4().hex}"
    try:
        report = ingest(files, fresh)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    old = store.parent / f".demo-events-old-{uuid.uuid4().hex}"
    if store.exists():
        store.rename(old)
    fresh.rename(store)
    shutil.rmtree(old, ignore_errors=True)
    return report.events


def run_demo_detection(database: Database, settings: Settings, slug: str) -> DemoDetection:
    """Ingest the bundled demo logs afresh and scan them for ``slug`` (module docstring)."""
    from tocsin.demo.logs import demo_log_files
    from tocsin.store.alerts import AlertFilter

    store = demo_store(settings)
    events = _rebuild_store(store, demo_log_files())
    report = scan_establishment(database, settings, slug, ScanRequest(store=store), actor="demo")
    with database.session() as session:
        establishment_id = get_establishment(session, slug).id
        total = count_alerts(session, establishment_id)
        serious = count_alerts(session, establishment_id, AlertFilter(min_level="high"))
    return DemoDetection(store, events, len(report.saved.new), total, serious)
