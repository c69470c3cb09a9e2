"""``tocsin watch`` on the database, end to end, on SQLite and PostgreSQL.

Recorded advisory files (a CVE 5 record and a KEV catalogue, written in tmp_path) are loaded
with ``watch load``, matched with ``watch run``, listed, triaged, rendered as bulletins in
each format and posted to a webhook served on loopback.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree as ET

from tocsin.cli.main import main

CVE = "CVE-2024-21762"
INVENTORY = """id,name,vendor,product,version,cpe,purl,kind,criticality,exposure,function
fw-dmz,Pare-feu DMZ,Fortinet,FortiGate,7.2.5,,,appliance,vital,internet,infrastructure
fw-lab,Pare-feu labo,Fortinet,FortiGate,7.2.12,,,appliance,medium,internal,laboratoire
fw-bloc,Pare-feu bloc,Fortinet,FortiGate,7.2.4,,,appliance,high,internal,bloc
"""


def _cve5() -> dict[str, Any]:
    affected = {
        "vendor": "Fortinet",
        "product": "FortiOS",
        "defaultStatus": "unaffected",
        "versions": [
            {"version": "7.2.0", "lessThan": "7.2.7", "status": "affected", "versionType": "semver"}
        ],
    }
    cvss = {
        "version": "3.1",
        "baseScore": 9.8,
        "baseSeverity": "CRITICAL",
        "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    }
    return {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {"cveId": CVE, "state": "PUBLISHED", "datePublished": "2024-02-09T08:14Z"},
        "containers": {
            "cna": {
                "providerMetadata": {"orgId": "6abe59d8-c742-4dff-8ce8-9b0ca1073da8"},
                "title": "Out-of-bounds write in FortiOS SSL VPN",
                "descriptions": [{"lang": "en", "value": "An out-of-bounds write in FortiOS."}],
                "affected": [affected],
                "references": [{"url": "https://fortiguard.fortinet.com/psirt/FG-IR-24-015"}],
                "metrics": [{"cvssV3_1": cvss}],
            }
        },
    }


def _kev(added: str) -> dict[str, Any]:
    entry = {
        "cveID": CVE,
        "vendorProject": "Fortinet",
        "product": "FortiOS",
        "vulnerabilityName": "Fortinet FortiOS Out-of-Bound Write Vulnerability",
        "dateAdded": added,
        "shortDescription": "An out-of-bounds write in FortiOS SSL VPN.",
        "requiredAction": "Apply mitigations per vendor instructions.",
        "dueDate": added,
        "knownRansomwareCampaignUse": "Unknown",
        "notes": "",
    }
    return {"title": "KEV", "catalogVersion": "1", "count": 1, "vulnerabilities": [entry]}


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def err_text(self) -> str:
        return " ".join(self.err.split())

    def jsonl(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines()]


Run = Callable[..., Result]


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server interface
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"type": self.headers["Content-Type"], "body": body})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def run(
    cli_env: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Run:
    """As tests/cli/cli_helpers.py: ``tocsin`` in-process, with its own home and database."""
    monkeypatch.setenv("COLUMNS", "250")

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def loaded(run: Run, tmp_path: Path) -> Run:
    """An establishment with three FortiGates, CVE 5 and KEV loaded, one run done."""
    assert run("establishment", "add", "ch-a", "--name", "CH Arles").code == 0
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(INVENTORY, encoding="utf-8")
    assert run("inventory", "import", str(inventory), "-e", "ch-a").code == 0
    (tmp_path / "cve5").mkdir()
    (tmp_path / "cve5" / f"{CVE}.json").write_text(json.dumps(_cve5()), encoding="utf-8")
    kev = tmp_path / "kev.json"
    today = datetime.now(UTC).date().isoformat()
    kev.write_text(json.dumps(_kev(today)), encoding="utf-8")
    result = run("watch", "load", f"cve5={tmp_path / 'cve5'}", f"kev={kev}", "-f", "jsonl")
    assert result.code == 0, result.err
    feeds = {row["feed"]: row for row in result.jsonl()}
    assert feeds["cve5"]["inserted"] == 1 and feeds["kev"]["enrichments"] == 1
    result = run("watch", "run", "--no-update", "--bulletins", str(tmp_path / "bulletins"))
    assert result.code == 0, result.err
    return run


def _exposures(run: Run, *args: str) -> list[dict[str, Any]]:
    result = run("watch", "exposures", "-f", "jsonl", *args)
    assert result.code == 0, result.err
    return result.jsonl()


def test_run_writes_exposures_and_bulletins(loaded: Run, tmp_path: Path) -> None:
    rows = _exposures(loaded, "-e", "ch-a")
    assert sorted(r["asset"] for r in rows) == ["fw-bloc", "fw-dmz"]  # fw-lab runs 7.2.12
    first = rows[0]
    assert (first["asset"], first["advisory"], first["decision"]) == ("fw-dmz", CVE, "act_now")
    assert first["kev"] is True and first["fixed"] == "7.2.7" and first["status"] == "new"
    assert "kev" in [c["code"] for c in first["reason_codes"]]
    written = sorted(p.suffix for p in (tmp_path / "bulletins" / "ch-a").iterdir())
    assert written == [".html", ".json", ".md"]


def test_exposure_filters_and_fail_on(loaded: Run) -> None:
    assert [r["asset"] for r in _exposures(loaded, "--criticality", "high")] == ["fw-bloc"]
    assert _exposures(loaded, "--decision", "track") == []
    assert _exposures(loaded, "--status", "fixed") == []
    assert loaded("watch", "exposures", "--fail-on", "act_now", "-f", "json").code == 1
    table = loaded("watch", "exposures")
    assert table.code == 0 and "fw-dmz" in table.out


def test_transition_from_the_cli(loaded: Run) -> None:
    target = _exposures(loaded, "--criticality", "high")[0]["id"]
    result = loaded("watch", "exposure", str(target), "--set", "acknowledged", "-f", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["exposures"][0]["status"] == "acknowledged"
    refused = loaded("watch", "exposure", str(target), "--set", "risk_accepted", "--reason", "x")
    assert refused.code == 2 and "expiry" in refused.err_text
    accepted = loaded(
        "watch", "exposure", str(target), "--set", "risk_accepted",
        "--reason", "réseau isolé", "--until", "2099-01-01", "-f", "jsonl",
    )  # fmt: skip
    assert accepted.code == 0, accepted.err
    assert accepted.jsonl()[0]["status_until"].startswith("2099-01-01")
    shown = loaded("watch", "exposure", str(target))
    assert "cli" in shown.out and "risk_accepted" in shown.out
    assert loaded("watch", "exposure", "99999").code == 2


def test_bulletin_formats(loaded: Run, tmp_path: Path) -> None:
    html = loaded("watch", "bulletin", "-e", "ch-a")
    assert html.code == 0, html.err
    assert "Bulletin de veille quotidien — CH Arles" in html.out
    assert "<script" not in html.out and "<svg" in html.out and 'src="http' not in html.out
    assert "Mettre à jour vers la version 7.2.7 ou ultérieure" in html.out
    english = loaded("watch", "bulletin", "-e", "ch-a", "--lang", "en", "-f", "md")
    assert "# Daily watch bulletin — CH Arles" in english.out and "Update to 7.2.7" in english.out
    weekly = loaded("watch", "bulletin", "-e", "ch-a", "--period", "weekly", "-f", "json")
    document = json.loads(weekly.out)
    assert (document["format"], document["version"], document["period"]) == (
        "tocsin-bulletin",
        1,
        "weekly",
    )
    assert document["counts"]["act_now"] >= 1 and document["counts"]["total"] == 2
    group = document["new"][0]
    assert group["advisory"] == CVE and {a["asset"] for a in group["assets"]} == {
        "fw-dmz",
        "fw-bloc",
    }
    assert "https://fortiguard.fortinet.com/psirt/FG-IR-24-015" in group["links"]
    assert [k["cve"] for k in document["kev_additions"]] == [CVE]
    assert len(document["history"]) == 30 and document["history"][-1]["act_now"] >= 1
    out = tmp_path / "b.md"
    assert loaded("watch", "bulletin", "-e", "ch-a", "-f", "md", "-o", str(out)).code == 0
    assert out.read_text(encoding="utf-8").startswith("# Bulletin de veille quotidien")
    assert loaded("watch", "bulletin", "-e", "nowhere").code == 2


def test_pdf_bulletin(loaded: Run, tmp_path: Path) -> None:
    out = tmp_path / "b.pdf"
    result = loaded("watch", "bulletin", "-e", "ch-a", "-f", "pdf", "-o", str(out))
    if importlib.util.find_spec("weasyprint") is None:
        assert result.code == 2 and "tocsin[pdf]" in result.err
        pytest.skip("WeasyPrint is not installed: the PDF itself is not tested")
    assert result.code == 0 and out.read_bytes().startswith(b"%PDF")


def test_run_notifies_a_webhook(
    loaded: Run, tmp_path: Path, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = webhook
    folder = str(tmp_path / "b2")
    args = ("watch", "run", "--no-update", "--notify", "--bulletins", folder)
    result = loaded(*args, "--webhook", url, "--webhook-mode", "text")
    assert result.code == 0, result.err
    assert len(received) == 1 and received[0]["type"] == "application/json"
    text = json.loads(received[0]["body"])["text"]
    assert text.startswith("# Bulletin de veille quotidien") and CVE in text
    result = loaded(*args, "--webhook", url, "--lang", "en")
    document = json.loads(received[1]["body"])
    assert (document["format"], document["lang"]) == ("tocsin-bulletin", "en")
    dead = loaded(*args, "--webhook", "http://127.0.0.1:9/nothing")
    assert dead.code == 4 and "webhook" in dead.err_text


def test_load_and_update_errors(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = run("watch", "load", f"kev={bad}")  # a bad document is a counted skip
    assert result.code == 0 and "kev: 1 × not JSON" in result.err_text
    missing = run("watch", "load", f"kev={tmp_path / 'missing.json'}", "-f", "jsonl")
    assert missing.code == 3 and missing.jsonl()[0]["error"]
    assert run("watch", "load", "nokind").code == 2
    assert run("watch", "update", "--feed", "no-such-feed").code == 2
    assert run("watch", "update", "--from", str(tmp_path / "no-mirror")).code == 3


def test_atom_feed_of_a_stored_bulletin(loaded: Run, cli_env: Any) -> None:
    from tocsin.report import collect_bulletin
    from tocsin.store.db import open_database
    from tocsin.watch.atom import ATOM_NS, atom_feed

    database = open_database(cli_env.database_url)
    try:
        bulletin = collect_bulletin(database, "ch-a", lang="en")
    finally:
        database.dispose()
    root = ET.fromstring(atom_feed(bulletin, "https://tocsin.example/"))
    entries = root.findall(f"{{{ATOM_NS}}}entry")
    assert [e.findtext(f"{{{ATOM_NS}}}title") for e in entries] == [
        f"[Act now] {CVE} — Out-of-bounds write in FortiOS SSL VPN"
    ]
