"""``tocsin detect run --engine spark`` prints the alerts ``--engine duckdb`` prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spark_support import spark  # noqa: F401 - the session fixture (the engine reuses it)

from tocsin.cli.main import main

pytestmark = pytest.mark.spark

RULE = """
title: Shadow copies deleted
id: 0a1b2c3d-0000-4000-8000-000000000009
status: test
level: critical
tags: [attack.t1490]
logsource: {product: windows, category: process_creation}
detection:
    sel:
        Image|endswith: '\\vssadmin.exe'
        CommandLine|contains: 'delete shadows'
    condition: sel
"""


def _logs(folder: Path) -> Path:
    folder.mkdir()
    lines = []
    for minute, (host, command) in enumerate(
        [
            ("pc1", "vssadmin delete shadows /all"),
            ("pc2", "notepad"),
            ("pc2", "VSSADMIN Delete Shadows"),
        ]
    ):
        image = "C:\\Windows\\System32\\vssadmin.exe" if "ssadmin" in command.lower() else "x.exe"
        lines.append(
            json.dumps(
                {
                    "@timestamp": f"2025-03-01T23:5{minute}:00Z",
                    "host": {"name": host},
                    "winlog": {
                        "event_id": 1,
                        "channel": "Microsoft-Windows-Sysmon/Operational",
                        "event_data": {"CommandLine": command, "Image": image},
                    },
                }
            )
        )
    (folder / "sysmon.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_spark_and_duckdb_print_the_same_alerts(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    spark: object,  # noqa: F811
) -> None:
    monkeypatch.setenv("TOCSIN_HOME", str(tmp_path / "home"))
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "vss.yml").write_text(RULE, encoding="utf-8")
    logs = _logs(tmp_path / "logs")
    outputs = {}
    for engine in ("duckdb", "spark"):
        capsys.readouterr()
        args = ["detect", "run", "-r", str(rules), "--logs", str(logs), "-f", "jsonl"]
        code = main([*args, "--engine", engine, "--fail-on", "critical"])
        assert code == 1
        outputs[engine] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert outputs["spark"] == outputs["duckdb"]
    assert [a["hosts"] for a in outputs["spark"]] == [["pc1"], ["pc2"]]
