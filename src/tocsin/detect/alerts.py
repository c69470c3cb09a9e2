"""Detection for an establishment: run the rules and detectors over its event store, keep
the alerts, tell people about the serious new ones.

``scan_establishment`` is what ``tocsin detect scan``, ``tocsin demo`` and the web pages
share: it runs the Sigma rules (the bundled packs unless told otherwise) with
:func:`tocsin.detect.run.run_detection` over the store, the DDoS detector over the web and
firewall logs of the same store, reads the sample events back from the store, and saves
everything as grouped alerts (:mod:`tocsin.store.alerts`). New high and critical alerts are
sent by email and webhook when asked (``[notify]`` settings, as for bulletins).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from tocsin.config import Settings
from tocsin.data import data_path
from tocsin.detect.detectors.ddos import detect as detect_floods
from tocsin.detect.detectors.ddos_model import DdosAlert, DdosPolicy
from tocsin.detect.detectors.ddos_store import read_minutes
from tocsin.detect.engines.base import Alert, TimeRange
from tocsin.detect.event_lookup import lookup_events
from tocsin.detect.run import DetectionRequest, RunReport, run_detection
from tocsin.detect.sigma.select import RuleFilter
from tocsin.detect.store import default_store
from tocsin.errors import InputError, Location
from tocsin.model.alerts import (
    NOTIFY_LEVELS,
    AlertEvent,
    AlertSource,
    DetectedAlert,
    JsonValue,
)
from tocsin.notify import Delivery
from tocsin.store import audit
from tocsin.store.alerts import AlertFilter, SaveReport, list_alerts, mark_notified, save_alerts
from tocsin.store.db import Database
from tocsin.store.inventory import get_establishment

DDOS_RULE = "tocsin-ddos"
# ATT&CK: floods of a web service exhaust the service (T1499.002); floods seen by a
# firewall are network denial of service (T1498).
_DDOS_ATTACK = {"web": ("T1499.002",), "fortigate": ("T1498",)}


def bundled_rules() -> Path:
    """The folder of Tocsin's own rule packs (``tocsin/data/detect/rules``)."""
    with resources.as_file(data_path("detect", "rules")) as path:
        return Path(path)


@dataclass(frozen=True)
class ScanRequest:
    """What to scan; empty ``rules`` means the bundled packs."""

    rules: Sequence[Path] = ()
    store: Path | None = None
    time_range: TimeRange | None = None
    engine: str = "duckdb"
    spark_master: str | None = None
    rule_filter: RuleFilter = field(default_factory=RuleFilter)
    ddos: bool = True
    ddos_timezone: str = "UTC"
    notify: bool = False
    sample_limit: int = 20


@dataclass
class ScanReport:
    establishment: str
    run: RunReport
    ddos_alerts: int
    saved: SaveReport
    deliveries: list[Delivery] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, object]:
        return {
            "establishment": self.establishment,
            "events_read": self.run.events_read,
            "rules_run": self.run.detection.rules_run,
            "rules_skipped": len(self.run.skipped),
            "sigma_alerts": len(self.run.alerts),
            "ddos_alerts": self.ddos_alerts,
            "new": len(self.saved.new),
            "updated": len(self.saved.updated),
            "unchanged": self.saved.unchanged,
            "linked_to_assets": self.saved.linked,
            "notified": [d.target for d in self.deliveries if d.error is None],
            "notify_errors": [f"{d.target}: {d.error}" for d in self.deliveries if d.error],
            "seconds": round(self.seconds, 3),
        }


def sigma_alert(alert: Alert, fields: Mapping[tuple[str, int], dict[str, str]]) -> DetectedAlert:
    """A Sigma alert of an engine, with the fields of its sample events."""
    info = alert.rule
    events = tuple(
        AlertEvent(
            time=ref.time,
            host=ref.host,
            file=ref.file,
            record=ref.record,
            fields=dict(fields.get((ref.file, ref.record), {}))
            if ref.file is not None and ref.record is not None
            else {},
        )
        for ref in alert.events
    )
    return DetectedAlert(
        source=AlertSource.SIGMA,
        rule=info.id,
        title=info.title,
        level=info.level or "informational",
        host=alert.host,
        window_start=alert.window_start,
        first=alert.first,
        last=alert.last,
        count=alert.count,
        attack=info.attack,
        tags=info.tags,
        details={"rule_file": info.file, "rule_status": info.status},
        events=events,
    )


def ddos_alert(alert: DdosAlert) -> DetectedAlert:
    """A flood found by the DDoS detector, as an alert on its target."""
    details: dict[str, JsonValue] = dict(alert.to_dict())
    return DetectedAlert(
        source=AlertSource.DDOS,
        rule=DDOS_RULE,
        title=f"Flood ({alert.shape.value}) on {alert.target}",
        level=alert.severity,
        host=alert.target,
        window_start=alert.start,
        first=alert.start,
        last=alert.end,
        count=alert.requests,
        attack=_DDOS_ATTACK.get(alert.log, ("T1498",)),
        tags=("tocsin.ddos",),
        details=details,
    )


def _detect(store: Path, request: ScanRequest) -> tuple[RunReport, list[DetectedAlert], int]:
    rules = list(request.rules) or [bundled_rules()]
    run = run_detection(
        DetectionRequest(
            rules=rules,
            store=store,
            engine=request.engine,
            spark_master=request.spark_master,
            rule_filter=request.rule_filter,
            time_range=request.time_range,
            sample_limit=request.sample_limit,
        )
    )
    fields = lookup_events(store, (ref for a in run.alerts for ref in a.events))
    alerts = [sigma_alert(a, fields) for a in run.alerts]
    floods: list[DdosAlert] = []
    if request.ddos:
        since = request.time_range.since if request.time_range else None
        until = request.time_range.until if request.time_range else None
        floods = detect_floods(
            read_minutes(store, since, until), DdosPolicy(timezone=request.ddos_timezone)
        )
        alerts.extend(ddos_alert(flood) for flood in floods)
    return run, alerts, len(floods)


def scan_establishment(
    database: Database,
    settings: Settings,
    slug: str,
    request: ScanRequest,
    actor: str = "cli",
) -> ScanReport:
    """Detect over the store, save the alerts of ``slug``, notify (module docstring)."""
    started = time.perf_counter()
    store = request.store or default_store(settings)
    if not store.is_dir():
        raise InputError(
            "no event store here: run `tocsin detect ingest` first", Location(str(store))
        )
    with database.session() as session:
        get_establishment(session, slug)  # fail before the work when the slug is wrong
    run, alerts, floods = _detect(store, request)
    with database.session() as session:
        establishment = get_establishment(session, slug)
        saved = save_alerts(session, establishment.id, alerts)
        audit.record(
            session,
            actor,
            "detect.scan",
            "establishment",
            slug,
            establishment_id=establishment.id,
            details={"new": len(saved.new), "updated": len(saved.updated), "store": str(store)},
        )
    report = ScanReport(slug, run, floods, saved)
    if request.notify and saved.new:
        report.deliveries = notify_new_alerts(database, settings, slug, saved.new)
    report.seconds = time.perf_counter() - started
    return report


def notify_new_alerts(
    database: Database, settings: Settings, slug: str, alert_ids: Sequence[int]
) -> list[Delivery]:
    """Send the high and critical ones among ``alert_ids`` to the establishment's target."""
    from tocsin.notify.alerts import deliver_alerts

    wanted = set(alert_ids)
    with database.session() as session:
        establishment = get_establishment(session, slug)
        stored = [
            a
            for a in list_alerts(
                session, establishment.id, AlertFilter(min_level="high"), limit=None
            )
            if a.id in wanted and a.alert.level in NOTIFY_LEVELS and a.notified_at is None
        ]
        name = establishment.name
    if not stored:
        return []
    target = settings.notify.target(slug)
    lang = target.lang or settings.language
    deliveries = deliver_alerts(stored, name, settings.smtp, target, lang)
    if any(d.error is None for d in deliveries):
        with database.session() as session:
            mark_notified(session, (a.id for a in stored), datetime.now(UTC))
    return deliveries
