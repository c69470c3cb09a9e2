"""``tocsin detect scan`` and ``tocsin detect alerts``: logs → event store → stored alerts,
linked to the inventory, listed, triaged and exported; a second scan adds nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from conftest import Cli  # noqa: I001 - the tests' own conftest

SYSMON = "Microsoft-Windows-Sysmon/Operational"


def _process(moment: str, host: str, image: str, command: str, record: int) -> str:
    return json.dumps(
        {
            "@timestamp": moment,
            "host": {"name": host},
            "winlog": {
                "channel": SYSMON,
                "provider_name": "Microsoft-Windows-Sysmon",
                "event_id": 1,
                "record_id": record,
                "computer_name": host,
                "event_data": {
                    "Image": image,
                    "CommandLine": command,
                    "ParentImage": "C:\\Windows\\System32\\cmd.exe",
                    "User": "CHU\\presta",
                },
            },
        }
    )


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    lines = [
        _process("2026-11-04T02:11:16Z", "A-001.chu-a.local", "C:\\Windows\\System32\\vssadmin.exe",
                 "vssadmin.exe delete shadows /all /quiet", 1),
        _process("2026-11-04T02:13:16Z", "A-001.chu-a.local", "C:\\Windows\\System32\\bcdedit.exe",
                 "bcdedit /set {default} recoveryenabled no", 2),
        _process("2026-11-04T03:00:00Z", "pc-unknown", "C:\\Windows\\System32\\vssadmin.exe",
                 "vssadmin list shadows", 3),
    ]  # fmt: skip
    path = tmp_path / "logs" / "sysmon.ndjson"
    path.parent.mkdir()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _json(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_scan_stores_alerts_once_and_the_commands_read_them(
    cli_env: Cli, logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_env("establishment", "add", "chu-a", "--name", "CHU A", "--type", "chu") == 0
    inventory = tmp_path / "inv.csv"
    inventory.write_text("id,name\na-001,Serveur de fichiers\n", encoding="utf-8")
    assert cli_env("inventory", "import", str(inventory), "-e", "chu-a") == 0
    assert cli_env("detect", "ingest", str(logs)) == 0
    capsys.readouterr()

    assert cli_env("detect", "scan", "-e", "chu-a", "-f", "jsonl") == 0
    [summary] = _json(capsys)
    # vssadmin, bcdedit, and the kill chain (two precursors on one host within the hour)
    assert (summary["new"], summary["ddos_alerts"], summary["linked_to_assets"]) == (3, 0, 3)
    assert cli_env("detect", "scan", "-e", "chu-a", "-f", "jsonl") == 0
    [again] = _json(capsys)
    assert (again["new"], again["updated"], again["unchanged"]) == (0, 0, 3)

    assert cli_env("detect", "alerts", "list", "-e", "chu-a", "-f", "jsonl") == 0
    listed = _json(capsys)
    assert {a["title"] for a in listed} == {
        "Shadow copies deleted or shrunk with vssadmin",
        "Windows recovery disabled with bcdedit",
        "Several ransomware precursors on one host within an hour",
    }
    vss = next(a for a in listed if "vssadmin" in str(a["title"]))
    assert vss["asset"] == {"id": vss["asset"]["id"], "key": "a-001", "name": "Serveur de fichiers"}  # type: ignore[index]
    [event] = vss["events"]  # type: ignore[misc]
    assert event["fields"]["CommandLine"] == "vssadmin.exe delete shadows /all /quiet"
    assert event["fields"]["EventID"] == "1" and event["record"] == 1

    assert cli_env("detect", "alerts", "show", str(vss["id"]), "-e", "chu-a", "--set",
                   "closed", "--note", "test de restauration", "-f", "json") == 0  # fmt: skip
    shown = json.loads(capsys.readouterr().out)["alerts"][0]
    assert (shown["status"], shown["note"]) == ("closed", "test de restauration")
    assert cli_env("detect", "alerts", "list", "-e", "chu-a", "-f", "jsonl") == 0
    assert len(_json(capsys)) == 2  # closed ones are left out by default

    out = tmp_path / "alerts.csv"
    assert cli_env("detect", "alerts", "export", "-e", "chu-a", "-f", "csv", "-o", str(out)) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 3 and {r["status"] for r in rows} == {"new", "closed"}
    assert all(r["asset"] == "a-001" and r["attack"] for r in rows)


def test_scan_errors(cli_env: Cli, tmp_path: Path) -> None:
    assert cli_env("establishment", "add", "chu-a", "--name", "CHU A", "--type", "chu") == 0
    assert cli_env("detect", "scan", "-e", "chu-a", "--store", str(tmp_path / "none")) == 3
    assert cli_env("detect", "alerts", "list", "-e", "chu-a", "--level", "severe") == 2
    assert cli_env("detect", "alerts", "show", "99", "-e", "chu-a") != 0
