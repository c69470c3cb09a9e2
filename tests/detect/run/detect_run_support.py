"""Rules and logs for the ``tocsin detect run`` tests (a plain module, not a conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

VSS_ID = "0a1b2c3d-0000-4000-8000-000000000001"
AWS_ID = "0a1b2c3d-0000-4000-8000-000000000002"
VSS_RULE = f"""
title: Shadow copies deleted with vssadmin
id: {VSS_ID}
status: test
level: high
tags:
    - attack.impact
    - attack.t1490
logsource:
    product: windows
    category: process_creation
detection:
    sel:
        Image|endswith: '\\vssadmin.exe'
        CommandLine|contains|all: [delete, shadows]
    condition: sel
"""
AWS_RULE = f"""
title: a cloud rule Tocsin has no logs for
id: {AWS_ID}
status: stable
level: low
logsource:
    product: aws
    service: cloudtrail
detection:
    sel:
        eventName: x
    condition: sel
"""
SYSMON = "Microsoft-Windows-Sysmon/Operational"
EVENTS = [
    ("pc1", "vssadmin.exe delete shadows /all /quiet", "C:\\Windows\\System32\\vssadmin.exe"),
    ("pc1", "vssadmin delete shadows", "C:\\Windows\\System32\\vssadmin.exe"),
    ("pc2", "notepad.exe a.txt", "C:\\Windows\\notepad.exe"),
    ("pc2", "VSSADMIN.EXE Delete Shadows /For=C:", "C:\\Windows\\System32\\VSSADMIN.EXE"),
]


def write_rules(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vss.yml").write_text(VSS_RULE, encoding="utf-8")
    (folder / "aws.yml").write_text(AWS_RULE, encoding="utf-8")
    return folder


def write_logs(folder: Path) -> Path:
    """Winlogbeat JSON lines: three vssadmin deletions on two hosts, one benign event."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for minute, (host, command, image) in enumerate(EVENTS):
        event = {
            "@timestamp": f"2025-03-01T10:0{minute}:00Z",
            "host": {"name": host},
            "winlog": {
                "event_id": 1,
                "channel": SYSMON,
                "provider_name": "Microsoft-Windows-Sysmon",
                "event_data": {"CommandLine": command, "Image": image},
            },
        }
        lines.append(json.dumps(event))
    target = folder / "sysmon.jsonl"
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target
