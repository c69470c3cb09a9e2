"""Alerts built by hand for the store, service and web tests of detection alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tocsin.model.alerts import AlertEvent, AlertSource, DetectedAlert

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def sigma(
    rule: str = "r-vss",
    host: str | None = "A-001.chu-a.local",
    level: str = "high",
    count: int = 2,
    minutes: int = 0,
    title: str = "Shadow copies deleted with vssadmin",
) -> DetectedAlert:
    first = T0 + timedelta(minutes=minutes)
    return DetectedAlert(
        source=AlertSource.SIGMA,
        rule=rule,
        title=title,
        level=level,
        host=host,
        window_start=first.replace(minute=0),
        first=first,
        last=first + timedelta(seconds=30 * (count - 1)),
        count=count,
        attack=("T1490",),
        tags=("attack.impact", "attack.t1490"),
        details={"rule_file": "ransomware/vss.yml"},
        events=(
            AlertEvent(
                first,
                host,
                "/logs/sysmon.jsonl",
                7,
                {"CommandLine": "vssadmin delete shadows /all /quiet", "EventID": "1"},
            ),
        ),
    )
