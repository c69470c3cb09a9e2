"""The whole DDoS path: generated access-log and FortiGate lines -> ingest -> Parquet store ->
per-minute features in DuckDB SQL -> detector -> ``tocsin detect ddos``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tocsin.cli.main import main
from tocsin.detect.detectors.ddos import detect
from tocsin.detect.detectors.ddos_features import minute_stats
from tocsin.detect.detectors.ddos_store import read_minutes
from tocsin.detect.detectors.ddos_synthetic import (
    Flood,
    Traffic,
    TrafficModel,
    access_log_lines,
    fortigate_lines,
    inject,
    normal_traffic,
)
from tocsin.detect.ingest import ingest

START = datetime(2024, 3, 4, tzinfo=UTC)  # a Monday
FLOOD_AT = START + timedelta(days=1, hours=14, seconds=20)


@pytest.fixture(scope="module")
def flooded() -> Traffic:
    traffic = normal_traffic(7, START, 2, TrafficModel(peak_rate=20, crawler_bursts=1))
    flood = Flood("botnet", FLOOD_AT, 6, 3000, 800)
    return inject(traffic, flood, 7)


@pytest.fixture(scope="module")
def store(flooded: Traffic, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ddos")
    (root / "in").mkdir()
    web = root / "in" / "portal-access.log"
    web.write_text("\n".join(access_log_lines(flooded, "portal.example.org", 1)) + "\n")
    fgt = root / "in" / "fortigate.log"
    fgt.write_text("\n".join(fortigate_lines(flooded, "203.0.113.10", 443, 2)) + "\n")
    report = ingest([root / "in"], root / "store")
    assert report.warnings_total == 0
    return root / "store"


def test_sql_features_equal_the_python_ones(flooded: Traffic, store: Path) -> None:
    rows = {
        (m.log, m.minute): m
        for m in read_minutes(store, START + timedelta(days=1, hours=13, minutes=58))
    }
    for index in range(1440 + 14 * 60 - 2, 1440 + 14 * 60 + 8):
        expected = minute_stats("web", "x", flooded.at(index), flooded.minutes[index])
        for log in ("web", "fortigate"):
            got = rows[(log, flooded.at(index))]
            assert got.requests == expected.requests
            assert got.sources == expected.sources
            assert got.source_entropy == pytest.approx(expected.source_entropy, abs=1e-6)
            assert got.top == expected.top
            assert got.dest_entropy == pytest.approx(0, abs=1e-9)  # one target per log
    assert {m.target for m in rows.values()} == {"portal.example.org", "203.0.113.10:443"}


def test_the_flood_is_found_in_both_logs(store: Path) -> None:
    alerts = detect(read_minutes(store))
    assert [(a.log, a.target) for a in alerts] == [
        ("fortigate", "203.0.113.10:443"),
        ("web", "portal.example.org"),
    ]
    for alert in alerts:
        assert alert.start == FLOOD_AT.replace(second=0)
        assert alert.detected - alert.start <= timedelta(minutes=1)
        assert alert.end == FLOOD_AT.replace(second=0) + timedelta(minutes=6)
        assert alert.peak_rate > 2500
        assert alert.severity == "critical"


def test_cli_lists_the_alerts_as_json_and_honours_until(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["detect", "ddos", "--store", str(store), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["version"] == 1
    assert [a["log"] for a in document["alerts"]] == ["fortigate", "web"]
    assert document["alerts"][0]["top_sources"][0]["requests"] > 0
    until = (FLOOD_AT - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert main(["detect", "ddos", "--store", str(store), "--until", until, "-f", "jsonl"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["detect", "ddos", "--store", str(store)]) == 0
    assert "DDoS: 2 flood(s) over 2 target(s)" in capsys.readouterr().out


def test_cli_refuses_an_unknown_time_zone(store: Path) -> None:
    assert main(["detect", "ddos", "--store", str(store), "--timezone", "Mars/Olympus"]) == 2
