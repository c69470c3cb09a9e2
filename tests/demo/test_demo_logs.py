"""The bundled demo logs: reproducible, and the detectors find exactly the two incidents.

Regenerate the bundled set (then update its README if the counts or times changed)::

    .venv/bin/python -m tocsin.demo.logs src/tocsin/data/demo/logs
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tocsin.data import data_path
from tocsin.demo.logs import (
    DEFAULT_END,
    WEB_PREFIX,
    WINDOWS_PREFIX,
    Scenario,
    bundled_logs_dir,
    demo_log_files,
    main,
    write_demo_logs,
)
from tocsin.demo.logs_chain import CHAIN_HOST
from tocsin.demo.logs_web import VHOST
from tocsin.demo.logs_windows import HOSTS
from tocsin.detect.detectors.ddos import detect
from tocsin.detect.detectors.ddos_model import DdosAlert
from tocsin.detect.detectors.ddos_store import read_minutes
from tocsin.detect.engines.base import Alert
from tocsin.detect.ingest import ingest
from tocsin.detect.run import DetectionRequest, level_at_least, run_detection

SCENARIO = Scenario.ending(DEFAULT_END)
# Rule ids of the ransomware pack (src/tocsin/data/detect/rules/ransomware) the chain fires.
CHAIN_RULES = {
    "a420e440-efb1-4800-8cb6-740f9abef4ec": "vssadmin delete shadows",
    "b2e675f2-fc19-4415-b647-f256ae637def": "wmic shadowcopy delete",
    "d69bbe8d-18d3-4282-ad2f-207674150faa": "wbadmin delete catalog",
    "28227af9-48b8-4464-be46-841f0ddc416d": "bcdedit recoveryenabled no",
    "3cd4dafc-2bd9-4e5f-8c3b-79fe63f666d1": "ransom note named",
    "e6422a5b-ffab-4b31-a084-19abecda5ddb": "notes in many folders",
    "1f54071a-2dd6-44b5-9afe-377a520d21ab": "known ransomware extension",
    "ab489af5-acc3-4b6a-88b9-f1ed0f4e3bf5": "burst of DELETE accesses (4663)",
    "38f72aae-b0f7-47b3-aae5-8b9ad1bbcab2": "burst of Sysmon deletions",
    "aca791d3-a2a6-49dd-8f36-9f20b547baba": "host kill chain",
}


@pytest.fixture(scope="module")
def alerts() -> list[Alert]:
    rules = Path(str(data_path("detect", "rules")))  # every pack the wheel ships
    windows = [p for p in demo_log_files() if p.name.startswith(WINDOWS_PREFIX)]
    report = run_detection(DetectionRequest(rules=[rules], logs=windows))
    assert report.skipped == []
    assert report.ingest is not None and report.ingest.warnings_total == 0
    return report.alerts


@pytest.fixture(scope="module")
def floods(tmp_path_factory: pytest.TempPathFactory) -> list[DdosAlert]:
    store = tmp_path_factory.mktemp("demo-store")
    web = [p for p in demo_log_files() if p.name.startswith(WEB_PREFIX)]
    report = ingest(web, store)
    assert report.warnings_total == 0 and report.skipped_files == []
    return detect(read_minutes(store))


def _content(path: Path) -> bytes:
    with gzip.open(path, "rb") as stream:
        return stream.read()


def test_regenerating_with_the_defaults_gives_the_bundled_files(tmp_path: Path) -> None:
    written = write_demo_logs(tmp_path)
    bundled = demo_log_files()
    assert sorted(p.name for p in written) == [p.name for p in bundled]
    for path in bundled:
        fresh = tmp_path / path.name
        assert _content(fresh) == _content(path), path.name  # same events, same order
        assert fresh.read_bytes() == path.read_bytes(), path.name  # and the same gzip bytes


def test_another_seed_gives_other_logs_with_the_same_timeline(tmp_path: Path) -> None:
    assert main([str(tmp_path), "--end", "2026-11-05T00:00:00Z", "--seed", "1"]) == 0
    bundled = demo_log_files()
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in bundled]
    assert _content(tmp_path / bundled[0].name) != _content(bundled[0])


def test_the_end_must_be_a_whole_hour() -> None:
    with pytest.raises(ValueError, match="whole hour"):
        Scenario.ending(datetime(2026, 11, 5, 0, 30, tzinfo=UTC))
    with pytest.raises(ValueError, match="whole hour"):
        Scenario.ending(datetime(2026, 11, 5))  # naive


def test_the_bundled_set_is_modest_and_documented() -> None:
    files = demo_log_files()
    assert sum(p.stat().st_size for p in files) < 3_000_000
    assert (bundled_logs_dir() / "README.md").is_file()
    assert all(p.name.endswith(".gz") for p in files)


def test_the_ransomware_chain_fires_the_pack_on_its_host_only(alerts: list[Alert]) -> None:
    on_chain = {a.rule.id for a in alerts if a.host == CHAIN_HOST}
    assert set(CHAIN_RULES) <= on_chain, {CHAIN_RULES[r] for r in set(CHAIN_RULES) - on_chain}
    assert {a.host for a in alerts} == {CHAIN_HOST}
    chain = SCENARIO.chain
    for alert in alerts:
        assert alert.first is not None and alert.last is not None
        assert chain.logon <= alert.first and alert.last <= chain.end + timedelta(minutes=1)
    killchain = next(a for a in alerts if a.rule.id == "aca791d3-a2a6-49dd-8f36-9f20b547baba")
    assert killchain.rule.level == "critical"


def test_background_raises_nothing_high_elsewhere(alerts: list[Alert]) -> None:
    elsewhere = [a for a in alerts if a.host != CHAIN_HOST]
    assert not [a for a in elsewhere if level_at_least(a.rule.level, "high")]


def test_the_flood_is_the_only_ddos_alert(floods: list[DdosAlert]) -> None:
    assert len(floods) == 1
    flood = floods[0]
    assert (flood.log, flood.target) == ("web", VHOST)
    onset = SCENARIO.flood.start
    assert abs(flood.start - onset) <= timedelta(minutes=2)
    assert flood.detected - onset <= timedelta(minutes=2)
    assert abs(flood.end - SCENARIO.flood.end) <= timedelta(minutes=2)
    assert flood.severity == "critical"


def test_host_names_are_inventory_assets() -> None:
    """Servers and the portal by their asset id, workstations by their fleet's id + a number."""
    inventory = data_path("demo", "inventory.csv").read_text(encoding="utf-8")
    assets = {line.split(",", 1)[0] for line in inventory.splitlines()[1:]}
    assert {CHAIN_HOST, VHOST} <= assets
    for host in HOSTS:
        fleet, _, number = host.name.rpartition("-")
        assert host.name in assets or (fleet in assets and number.isdigit()), host.name
