"""The ransomware pack (tocsin/data/detect/rules/ransomware): loads, compiles, fires on the
EVTX attack samples that contain its techniques, stays silent on unrelated regression cases,
and tells each crafted variant from its near-misses (Sysmon 1 and Security 4688 alike)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from conftest import shared_data
from tocsin.detect.detectors import ransomware_extensions, ransomware_pack
from tocsin.detect.engines.duckdb import DuckDBEngine
from tocsin.detect.ingest import ingest
from tocsin.detect.sigma.compile import CompiledRuleSet, compile_rules
from tocsin.detect.sigma.loader import load_rules
from tocsin.detect.sigma.select import select

T0 = datetime(2026, 1, 12, 2, 0, tzinfo=UTC)
SYSMON = "Microsoft-Windows-Sysmon/Operational"
VSSADMIN = "a420e440-efb1-4800-8cb6-740f9abef4ec"
WMIC = "b2e675f2-fc19-4415-b647-f256ae637def"
PS_CMD = "b245afd6-a264-4be6-9f64-7c54d92554b4"
PS_SCRIPT = "e0c817db-a24c-43ea-a63b-f293e04c7b4c"
WBADMIN = "d69bbe8d-18d3-4282-ad2f-207674150faa"
BCDEDIT = "28227af9-48b8-4464-be46-841f0ddc416d"
REAGENTC = "4b372924-f55c-42a6-b1a1-82cfa9b8ece0"
DISKSHADOW = "ef2dc65e-59e3-4011-ab6f-62f2faf7806c"
EXTENSION = "1f54071a-2dd6-44b5-9afe-377a520d21ab"
NOTE = "3cd4dafc-2bd9-4e5f-8c3b-79fe63f666d1"
NOTES_MANY = "e6422a5b-ffab-4b31-a084-19abecda5ddb"
BURST_SECURITY = "ab489af5-acc3-4b6a-88b9-f1ed0f4e3bf5"
BURST_SYSMON = "38f72aae-b0f7-47b3-aae5-8b9ad1bbcab2"
KILLCHAIN = "aca791d3-a2a6-49dd-8f36-9f20b547baba"
PACK_TECHNIQUES = {"attack.t1490", "attack.t1486", "attack.t1485"}


def _compiled() -> CompiledRuleSet:
    ruleset = load_rules([ransomware_pack()])
    assert not ruleset.problems, ruleset.problems
    compiled = compile_rules(select(ruleset))
    assert not compiled.problems, compiled.problems
    return compiled


def _write(store: Path, rows: Sequence[Mapping[str, object]]) -> None:
    names: list[str] = []
    for row in rows:
        names.extend(k for k in row if k not in names and k != "_time")
    folder = store / "source=windows" / f"day={T0.date().isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"_time": pa.array([r["_time"] for r in rows], pa.timestamp("us", tz="UTC"))}
    arrays["_host"] = pa.array([str(r.get("Computer", "pc1")) for r in rows])
    arrays["_source"] = pa.array(["windows"] * len(rows))
    arrays["_file"] = pa.array(["crafted.evtx"] * len(rows))
    arrays["_record"] = pa.array(range(1, len(rows) + 1), pa.int64())
    for name in names:
        values = [r.get(name) for r in rows]
        arrays[name] = pa.array([None if v is None else str(v) for v in values], pa.string())
    pq.write_table(pa.table(arrays), folder / f"part-{uuid.uuid4()}.parquet")


def _fired(tmp_path: Path, rows: Sequence[Mapping[str, object]]) -> set[str]:
    store = tmp_path / f"store-{uuid.uuid4().hex[:6]}"
    _write(store, rows)
    result = DuckDBEngine(store, threads=1).run(_compiled())
    assert not result.problems, result.problems
    return set(result.fired())


def sysmon1(command_line: str, image: str, minutes: float = 0, host: str = "srv-pacs") -> dict:
    return {
        "_time": T0 + timedelta(minutes=minutes),
        "EventID": "1",
        "Channel": SYSMON,
        "Computer": host,
        "Image": image,
        "CommandLine": command_line,
    }


def security4688(command_line: str, image: str, minutes: float = 0) -> dict:
    return {
        "_time": T0 + timedelta(minutes=minutes),
        "EventID": "4688",
        "Channel": "Security",
        "Computer": "srv-dpi",
        "NewProcessName": image,
        "CommandLine": command_line,
        "SubjectLogonId": "0x3e7",
    }


SYS32 = "C:\\Windows\\System32\\"
# (command line, image, rule that must fire or None for a near-miss)
VARIANTS = [
    ("vssadmin.exe delete shadows /all /quiet", SYS32 + "vssadmin.exe", VSSADMIN),
    ("vssadmin Delete Shadows /For=C: /Oldest", SYS32 + "vssadmin.exe", VSSADMIN),
    (
        "vssadmin resize shadowstorage /for=c: /on=c: /maxsize=401MB",
        SYS32 + "vssadmin.exe",
        VSSADMIN,
    ),
    ("vssadmin list shadows", SYS32 + "vssadmin.exe", None),
    ("vssadmin create shadow /for=C:", SYS32 + "vssadmin.exe", None),
    ("wmic shadowcopy delete /nointeractive", SYS32 + "wbem\\WMIC.exe", WMIC),
    ("wmic shadowcopy where \"ID='{x}'\" delete", SYS32 + "wbem\\WMIC.exe", WMIC),
    ('wmic shadowcopy call create Volume="C:\\"', SYS32 + "wbem\\WMIC.exe", None),
    (
        'powershell -c "Get-WmiObject Win32_Shadowcopy | ForEach-Object {$_.Delete();}"',
        SYS32 + "WindowsPowerShell\\v1.0\\powershell.exe",
        PS_CMD,
    ),
    (
        "pwsh -c Get-CimInstance Win32_ShadowCopy | Remove-CimInstance",
        "C:\\Program Files\\PowerShell\\7\\pwsh.exe",
        PS_CMD,
    ),
    (
        "powershell -c Get-WmiObject Win32_ShadowCopy | Select-Object ID",
        SYS32 + "WindowsPowerShell\\v1.0\\powershell.exe",
        None,
    ),
    ("wbadmin delete catalog -quiet", SYS32 + "wbadmin.exe", WBADMIN),
    ("wbadmin delete systemstatebackup -keepversions:0", SYS32 + "wbadmin.exe", WBADMIN),
    ("wbadmin get versions", SYS32 + "wbadmin.exe", None),
    ("bcdedit /set {default} recoveryenabled No", SYS32 + "bcdedit.exe", BCDEDIT),
    (
        "bcdedit.exe /set {default} bootstatuspolicy ignoreallfailures",
        SYS32 + "bcdedit.exe",
        BCDEDIT,
    ),
    ("bcdedit /set {default} recoveryenabled yes", SYS32 + "bcdedit.exe", None),
    ("bcdedit /enum", SYS32 + "bcdedit.exe", None),
    ("reagentc.exe /disable", SYS32 + "reagentc.exe", REAGENTC),
    ("reagentc /info", SYS32 + "reagentc.exe", None),
    ('cmd /c "echo delete shadows all | diskshadow"', SYS32 + "cmd.exe", DISKSHADOW),
    ("diskshadow /s C:\\backup\\snapshot.dsh", SYS32 + "diskshadow.exe", None),
]


@pytest.mark.parametrize("make", [sysmon1, security4688], ids=["sysmon1", "security4688"])
def test_each_variant_fires_and_near_misses_do_not(tmp_path: Path, make: object) -> None:
    assert callable(make)
    rows = [make(cmd, image, minutes=i * 120) for i, (cmd, image, _) in enumerate(VARIANTS)]
    store = tmp_path / "store"
    _write(store, rows)
    result = DuckDBEngine(store, threads=1, sample_limit=100).run(_compiled())
    assert not result.problems
    fired = {(a.rule.id, e.record) for a in result.alerts for e in a.events}
    for number, (cmd, _, rule) in enumerate(VARIANTS, 1):
        got = {r for r, record in fired if record == number}
        assert got == ({rule} if rule else set()), cmd


def test_script_block_removal_fires_and_reading_does_not(tmp_path: Path) -> None:
    def block(text: str, minutes: float) -> dict:
        return {
            "_time": T0 + timedelta(minutes=minutes),
            "EventID": "4104",
            "Channel": "Microsoft-Windows-PowerShell/Operational",
            "Computer": "pc1",
            "ScriptBlockText": text,
        }

    fired = _fired(
        tmp_path,
        [block("Get-WmiObject Win32_ShadowCopy | Remove-WmiObject", 0)],
    )
    assert fired == {PS_SCRIPT}
    assert (
        _fired(tmp_path, [block("Get-CimInstance Win32_ShadowCopy | Measure-Object", 0)]) == set()
    )


def test_two_precursors_on_one_host_raise_the_kill_chain(tmp_path: Path) -> None:
    rows = [
        sysmon1("vssadmin delete shadows /all /quiet", SYS32 + "vssadmin.exe", 0),
        sysmon1("bcdedit /set {default} recoveryenabled no", SYS32 + "bcdedit.exe", 30),
        # the same two an hour and a half apart on another host: no kill chain there
        sysmon1("vssadmin delete shadows /all", SYS32 + "vssadmin.exe", 0, host="pc2"),
        sysmon1("wbadmin delete catalog", SYS32 + "wbadmin.exe", 90, host="pc2"),
    ]
    store = tmp_path / "store"
    _write(store, rows)
    result = DuckDBEngine(store, threads=1).run(_compiled())
    chains = [a for a in result.alerts if a.rule.id == KILLCHAIN]
    assert {a.host for a in chains} == {"srv-pacs"}
    assert chains[0].rule.level == "critical"
    assert {VSSADMIN, BCDEDIT, WBADMIN} <= set(result.fired())  # generate: true


def file_event(name: str, seconds: float, image: str = "C:\\Users\\x\\enc.exe") -> dict:
    return {
        "_time": T0 + timedelta(seconds=seconds),
        "EventID": "11",
        "Channel": SYSMON,
        "Computer": "pc1",
        "Image": image,
        "TargetFilename": name,
    }


def test_known_extension_and_named_note(tmp_path: Path) -> None:
    rows = [
        file_event("C:\\Partage\\Radiologie\\cr_2026.docx.lockbit", 0),
        file_event("C:\\Partage\\Radiologie\\HOW_TO_DECRYPT.txt", 1),
        file_event("C:\\Partage\\Radiologie\\rapport.docx", 2),
        file_event("C:\\Program Files\\App\\README.txt", 3),
        file_event("C:\\Partage\\Radiologie\\lockbit_notes.docx", 4),
    ]
    assert _fired(tmp_path, rows) == {EXTENSION, NOTE, KILLCHAIN}


def test_readme_in_many_folders_by_one_process(tmp_path: Path) -> None:
    many = [file_event(f"C:\\Partage\\Service{i}\\README.txt", i) for i in range(25)]
    assert _fired(tmp_path, many) == {NOTES_MANY}
    few = [
        file_event(f"C:\\Program Files\\App{i}\\README.txt", i, "C:\\setup.exe") for i in range(5)
    ]
    assert _fired(tmp_path, few) == set()


def object_access(seconds: float, logon: str, number: int) -> dict:
    return {
        "_time": T0 + timedelta(seconds=seconds),
        "EventID": "4663",
        "Channel": "Security",
        "Computer": "srv-fichiers",
        "ObjectType": "File",
        "ObjectName": f"D:\\Partage\\Compta\\facture_{number}.pdf",
        "AccessList": "%%1537\n\t\t\t\t",
        "AccessMask": "0x10000",
        "SubjectLogonId": logon,
    }


def test_burst_of_deletes_by_one_logon_session(tmp_path: Path) -> None:
    burst = [object_access(i * 0.3, "0x5a1f2", i) for i in range(150)]
    assert _fired(tmp_path, burst) == {BURST_SECURITY}
    # the same number of deletions by 150 sessions, or slowly by one session: no burst
    spread = [object_access(i * 0.3, f"0x{i:x}", i) for i in range(150)]
    slow = [object_access(i * 2.0, "0x5a1f2", i) for i in range(150)]
    assert _fired(tmp_path, spread) == set()
    assert _fired(tmp_path, slow) == set()


def test_burst_of_sysmon_deletes_by_one_process(tmp_path: Path) -> None:
    rows = [
        {
            "_time": T0 + timedelta(seconds=i * 0.2),
            "EventID": "23",
            "Channel": SYSMON,
            "Computer": "pc1",
            "ProcessGuid": "{aaaa-1}",
            "Image": "C:\\Users\\x\\enc.exe",
            "TargetFilename": f"C:\\Users\\x\\Documents\\f{i}.docx",
        }
        for i in range(120)
    ]
    assert _fired(tmp_path, rows) == {BURST_SYSMON}
    assert _fired(tmp_path, rows[:50]) == set()


def test_extension_rule_matches_the_data_list() -> None:
    rule = yaml.safe_load((ransomware_pack() / "impact_ransomware_extension.yml").read_text())
    listed = set(rule["detection"]["extension"]["TargetFilename|endswith"])
    assert listed == set(ransomware_extensions())


def test_every_rule_has_attack_tags_level_and_false_positives() -> None:
    for path in sorted(ransomware_pack().glob("*.yml")):
        rule = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert rule["level"] in {"informational", "low", "medium", "high", "critical"}, path
        assert rule.get("falsepositives"), path
        assert any(re.fullmatch(r"attack\.t\d{4}(\.\d{3})?", t) for t in rule["tags"]), path


# --- real samples --------------------------------------------------------------------------
EXPECTED_SAMPLES = {
    "AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx": {
        VSSADMIN,
        WBADMIN,
        BCDEDIT,
        KILLCHAIN,
    },
}


def test_fires_on_the_attack_samples_that_hold_these_techniques(tmp_path: Path) -> None:
    """All 277 attack samples: only the Atomic Red Team run (vssadmin delete shadows,
    wbadmin delete catalog, bcdedit x2) fires; sysmon_exec_from_vss_persistence (vssadmin
    list shadows, wmic shadowcopy call create) and the rest stay silent."""
    root = shared_data("detect", "evtx-attack-samples")
    store = tmp_path / "store"
    report = ingest([root], store)
    assert sum(f.format == "evtx" and f.events > 0 for f in report.files) == 277
    result = DuckDBEngine(store, sample_limit=1000).run(_compiled())
    assert not result.problems, result.problems
    per_file: dict[str, set[str]] = {}
    for alert in result.alerts:
        for event in alert.events:
            assert event.file is not None
            name = str(Path(event.file).relative_to(root))
            per_file.setdefault(name, set()).add(alert.rule.id)
    assert per_file == EXPECTED_SAMPLES


def test_silent_on_unrelated_regression_cases(tmp_path: Path) -> None:
    root = shared_data("detect", "sigma", "regression_data")
    rules_root = shared_data("detect", "sigma")
    related: set[str] = set()
    for info in root.rglob("info.yml"):
        rule_dir = info.parent.relative_to(root)
        rule_file = rules_root / rule_dir.parent / f"{rule_dir.name}.yml"
        tags = set()
        if rule_file.exists():
            tags = {str(t).lower() for t in yaml.safe_load(rule_file.read_text())["tags"] or []}
        if tags & PACK_TECHNIQUES:
            related.add(str(info.parent))
    store = tmp_path / "store"
    report = ingest([root], store)
    # Not vacuous: all 202 cases' EVTX files are read (their .json twins too).
    assert sum(f.format == "evtx" and f.events > 0 for f in report.files) == 202
    result = DuckDBEngine(store, sample_limit=1000).run(_compiled())
    assert not result.problems, result.problems
    noisy = {
        (alert.rule.title, str(Path(e.file).parent))
        for alert in result.alerts
        for e in alert.events
        if e.file is not None and str(Path(e.file).parent) not in related
    }
    assert not noisy


def test_untagged_process_creation_rules_stay_sysmon_only(tmp_path: Path) -> None:
    """The 4688 mapping is opt-in (tag tocsin.security-4688): SigmaHQ-style rules unchanged."""
    from sigma.collection import SigmaCollection

    text = (ransomware_pack() / "recovery_vssadmin_shadow_delete.yml").read_text()
    untagged = text.replace("    - tocsin.security-4688\n", "")
    compiled = compile_rules(SigmaCollection.from_yaml(untagged).rules)
    assert "4688" not in compiled.rules[0].condition
    assert "newprocessname" not in compiled.rules[0].condition.lower()
    store = tmp_path / "store"
    cmd, image = "vssadmin delete shadows /all", SYS32 + "vssadmin.exe"
    _write(store, [security4688(cmd, image), sysmon1(cmd, image, minutes=1)])
    result = DuckDBEngine(store, threads=1, sample_limit=10).run(compiled)
    assert [e.record for a in result.alerts for e in a.events] == [2]
