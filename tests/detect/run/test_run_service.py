"""The service behind ``tocsin detect run``: reasons, levels, the alert document."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from detect_run_support import VSS_ID, write_logs, write_rules

from tocsin.detect.engines.base import Alert, EventRef
from tocsin.detect.run import (
    DetectionRequest,
    alert_document,
    level_at_least,
    reason_group,
    run_detection,
)
from tocsin.detect.sigma.compiled import RuleInfo
from tocsin.errors import UsageError


def test_reason_groups() -> None:
    assert reason_group("no Tocsin log source for product=aws") == "no Tocsin log source"
    assert reason_group("cannot compile: bad modifier") == "cannot compile"
    assert (
        reason_group("referenced rule 0a1b2c3d-0000-4000-8000-000000000001 is unusable")
        == "referenced rule … is unusable"
    )


def test_levels() -> None:
    assert level_at_least("critical", "high")
    assert level_at_least("high", "high")
    assert not level_at_least("medium", "high")
    assert not level_at_least(None, "informational")


def test_alert_document() -> None:
    when = datetime(2025, 3, 1, 10, tzinfo=UTC)
    info = RuleInfo("r1", "t", "high", "test", ("attack.t1059.001", "attack.execution"), "f.yml")
    alert = Alert(info, "pc1", when, 3, when, when, (EventRef(when, "pc1", "a.evtx", 7),))
    document = alert_document(alert)
    assert document["attack"] == ["T1059.001"]
    assert document["hosts"] == ["pc1"]
    assert document["sample"] == [
        {"file": "a.evtx", "record": 7, "time": "2025-03-01T10:00:00+00:00", "host": "pc1"}
    ]
    assert alert_document(Alert(info, None, None, 1, None, None, ()))["hosts"] == []


def test_run_detection_reports_what_it_did(tmp_path: Path) -> None:
    rules = write_rules(tmp_path / "rules")
    logs = write_logs(tmp_path / "logs")
    report = run_detection(DetectionRequest(rules=[rules], logs=[logs]))
    assert report.events_read == 4
    assert report.rules_loaded == 2
    assert report.ingest is not None and report.ingest.events == 4
    assert [a.rule.id for a in report.alerts] == [VSS_ID, VSS_ID]
    assert report.skipped_reasons() == {"no Tocsin log source": 1}
    summary = report.summary()
    assert summary["rules_skipped"] == 1 and summary["alerts"] == 2


def test_request_needs_logs_or_store(tmp_path: Path) -> None:
    rules = write_rules(tmp_path / "rules")
    with pytest.raises(UsageError):
        run_detection(DetectionRequest(rules=[rules]))


def test_spark_without_pyspark_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "tocsin.detect.engines.spark", None)
    rules = write_rules(tmp_path / "rules")
    logs = write_logs(tmp_path / "logs")
    with pytest.raises(UsageError, match="pyspark"):
        run_detection(DetectionRequest(rules=[rules], logs=[logs], engine="spark"))
