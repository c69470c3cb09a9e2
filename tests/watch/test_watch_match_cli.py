"""``tocsin watch match`` end to end: an inventory CSV and small advisory files, no database.

Runs through the ``watch`` Typer group with typer's CliRunner. The CVE 5 and KEV source
modules are imported when present (they register themselves); tests that need them skip
otherwise.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from tocsin.cli.state import STATE
from tocsin.cli.watch import app
from tocsin.watch import stateless
from tocsin.watch.sources import sources

CVE = "CVE-2024-21762"
INVENTORY = """id,name,vendor,product,version,cpe,purl,kind,criticality,exposure,function
fw-dmz,Pare-feu DMZ,Fortinet,FortiGate,7.2.5,,,appliance,vital,internet,infrastructure
fw-lab,Pare-feu labo,Fortinet,FortiGate,7.2.12,,,appliance,medium,internal,laboratoire
pump-12,Pompe réa 12,B. Exemple Medical,Perfusor Space,3.2,,,medical_device,vital,isolated,
"""
CVE5_RECORD: dict[str, Any] = {
    "dataType": "CVE_RECORD",
    "dataVersion": "5.1",
    "cveMetadata": {"cveId": CVE, "state": "PUBLISHED", "datePublished": "2024-02-09T08:14:00Z"},
    "containers": {
        "cna": {
            "providerMetadata": {"orgId": "6abe59d8-c742-4dff-8ce8-9b0ca1073da8"},
            "title": "Out-of-bounds write in FortiOS SSL VPN",
            "descriptions": [{"lang": "en", "value": "An out-of-bounds write in FortiOS."}],
            "affected": [
                {
                    "vendor": "Fortinet",
                    "product": "FortiOS",
                    "defaultStatus": "unaffected",
                    "versions": [
                        {
                            "version": "7.2.0",
                            "lessThan": "7.2.7",
                            "status": "affected",
                            "versionType": "semver",
                        }
                    ],
                }
            ],
            "metrics": [
                {
                    "cvssV3_1": {
                        "version": "3.1",
                        "baseScore": 9.8,
                        "baseSeverity": "CRITICAL",
                        "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                    }
                }
            ],
        }
    },
}
KEV_CATALOGUE: dict[str, Any] = {
    "title": "CISA Catalog of Known Exploited Vulnerabilities",
    "catalogVersion": "2024.02.09",
    "dateReleased": "2024-02-09T15:00:00.000Z",
    "count": 1,
    "vulnerabilities": [
        {
            "cveID": CVE,
            "vendorProject": "Fortinet",
            "product": "FortiOS",
            "vulnerabilityName": "Fortinet FortiOS Out-of-Bound Write Vulnerability",
            "dateAdded": "2024-02-09",
            "shortDescription": "An out-of-bounds write in FortiOS SSL VPN.",
            "requiredAction": "Apply mitigations per vendor instructions.",
            "dueDate": "2024-02-16",
            "knownRansomwareCampaignUse": "Unknown",
            "notes": "",
            "cwes": ["CWE-787"],
        }
    ],
}
REQUIRED = {"asset", "advisory", "cves", "match", "confidence", "decision", "score"}
REQUIRED |= {"kev", "epss", "fixed", "evidence", "reasons", "asset_name", "title"}


def _needs(*kinds: str) -> None:
    for kind in kinds:
        if kind not in sources():
            try:
                importlib.import_module(f"tocsin.watch.sources.{kind}")
            except ImportError:
                pytest.skip(f"the {kind} source module is not there yet")


@pytest.fixture(autouse=True)
def _fresh_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("TOCSIN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TOCSIN_CONFIG", raising=False)
    monkeypatch.delenv("TOCSIN_FORMAT", raising=False)
    STATE.reset()
    yield
    STATE.reset()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(INVENTORY, encoding="utf-8")
    record = tmp_path / "cve5" / f"{CVE}.json"
    record.parent.mkdir()
    record.write_text(json.dumps(CVE5_RECORD), encoding="utf-8")
    kev = tmp_path / "known_exploited_vulnerabilities.json"
    kev.write_text(json.dumps(KEV_CATALOGUE), encoding="utf-8")
    return {"inventory": inventory, "cve5": record.parent, "kev": kev}


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["match", *args], env={"COLUMNS": "200"})


def _sources(files: dict[str, Path]) -> list[str]:
    return ["--source", f"cve5={files['cve5']}", "--source", f"kev={files['kev']}"]


def test_jsonl_findings_with_priority(files: dict[str, Path]) -> None:
    _needs("cve5", "kev")
    result = run("--inventory", str(files["inventory"]), *_sources(files), "--format", "jsonl")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["asset"] for row in rows] == ["fw-dmz"]  # fw-lab runs the fixed 7.2.12
    row = rows[0]
    assert REQUIRED <= set(row)
    assert (row["advisory"], row["cves"], row["match"]) == (CVE, [CVE], "name+version")
    assert (row["kev"], row["epss"], row["fixed"]) == (True, None, "7.2.7")
    assert (row["decision"], row["confidence"]) == ("act_now", 0.9)
    assert row["score"] >= 80 and "listed in CISA KEV since 2024-02-09" in row["reasons"]
    codes = row["reason_codes"]
    assert [c["text"] for c in codes] == row["reasons"]
    assert {"code": "kev", "params": {"since": "2024-02-09"}} in [
        {"code": c["code"], "params": c["params"]} for c in codes
    ]
    assert row["title"] and row["asset_name"] == "Pare-feu DMZ"
    assert "7.2.0" in row["evidence"] and "inventory version 7.2.5" in row["evidence"]
    summary = " ".join(result.stderr.split())
    assert (
        "3 assets" in summary and "1 documents, 1 advisories, 0 enrichments, 0 skipped" in summary
    )
    assert "1 advisories after merging; 1 findings (1 act_now)" in summary


def test_fail_on_sets_the_exit_code(files: dict[str, Path]) -> None:
    _needs("cve5", "kev")
    args = ["--inventory", str(files["inventory"]), *_sources(files), "--format", "jsonl"]
    assert run(*args, "--fail-on", "act_now").exit_code == 1
    assert run(*args, "--fail-on", "track", "--min-confidence", "0.95").exit_code == 0


def test_json_and_table_formats(files: dict[str, Path]) -> None:
    _needs("cve5", "kev")
    args = ["--inventory", str(files["inventory"]), *_sources(files)]
    document = json.loads(run(*args, "--format", "json").stdout)
    assert document["version"] == 1 and len(document["findings"]) == 1
    table = run(*args, "--format", "table")
    assert table.exit_code == 0 and "fw-dmz" in table.stdout and "act_now" in table.stdout


def test_kev_alone_matches_by_name_only(files: dict[str, Path]) -> None:
    _needs("kev")
    result = run("-i", str(files["inventory"]), "-s", f"kev={files['kev']}", "-f", "jsonl")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {row["asset"] for row in rows} == {"fw-dmz", "fw-lab"}
    assert {row["match"] for row in rows} == {"name-only"}
    assert all(row["confidence"] < 0.5 for row in rows)


def test_source_without_kind_is_a_usage_error(files: dict[str, Path]) -> None:
    result = run("--inventory", str(files["inventory"]), "--source", str(files["kev"]))
    assert result.exit_code == 2 and "KIND=PATH" in result.stderr


def test_unknown_source_kind_is_a_usage_error(files: dict[str, Path]) -> None:
    result = run("--inventory", str(files["inventory"]), "--source", f"nosuch={files['kev']}")
    assert result.exit_code == 2 and "unknown source kind 'nosuch'" in result.stderr


def test_missing_source_file_is_bad_input(files: dict[str, Path], tmp_path: Path) -> None:
    _needs("kev")
    missing = tmp_path / "absent.json"
    result = run("--inventory", str(files["inventory"]), "--source", f"kev={missing}")
    assert result.exit_code == 3 and "absent.json" in result.stderr


def test_bad_inventory_is_bad_input(files: dict[str, Path], tmp_path: Path) -> None:
    _needs("kev")
    bad = tmp_path / "bad.csv"
    bad.write_text(INVENTORY.replace("vital,internet", "urgent,internet"), encoding="utf-8")
    result = run("--inventory", str(bad), "--source", f"kev={files['kev']}")
    assert result.exit_code == 3 and "bad.csv" in result.stderr


def test_documented_kind_that_is_not_installed_is_unavailable(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stateless, "sources", dict)  # as if no source module were installed
    result = run("--inventory", str(files["inventory"]), "--source", f"osv={files['kev']}")
    assert result.exit_code == 4 and "not available" in result.stderr
