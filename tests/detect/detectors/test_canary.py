"""Canary files: real decoy formats, the manifest, check statuses, the generated Sigma rules
and the CLI (plant, check exit code, rule)."""

from __future__ import annotations

import io
import json
import os
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sigma.collection import SigmaCollection
from test_ransomware_pack import SYSMON, T0, _write

from conftest import Cli
from tocsin.detect.detectors.canary import (
    CanaryStatus,
    Manifest,
    canary_names,
    check,
    decoy_content,
    plant,
    sigma_rules,
)
from tocsin.detect.engines.duckdb import DuckDBEngine
from tocsin.detect.sigma.compile import compile_rules


def test_decoys_are_real_minimal_files() -> None:
    for name in canary_names(12):
        data = decoy_content(name)
        if name.endswith((".xlsx", ".docx")):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                assert archive.testzip() is None
                assert "[Content_Types].xml" in archive.namelist()
        elif name.endswith(".pdf"):
            assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
        else:
            assert data.decode("utf-8").startswith("IPP;Nom")
    assert len(set(canary_names(25))) == 25


def test_plant_and_check_each_status(tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    (share / "Planning_bloc_2026.xlsx").write_bytes(b"a real file of the user")
    manifest = Manifest()
    planted = plant(share, 5, manifest)
    assert len(planted) == 5
    assert (share / "Planning_bloc_2026.xlsx").read_bytes() == b"a real file of the user"
    manifest.save(tmp_path / "m.json")
    loaded = Manifest.load(tmp_path / "m.json")
    assert loaded.canaries == manifest.canaries
    assert {r.status for r in check(loaded)} == {CanaryStatus.INTACT}

    a, b, c, d = (Path(x.path) for x in loaded.canaries[:4])
    a.write_bytes(b"encrypted")
    b.rename(b.with_name(b.name + ".locked"))
    c.unlink()
    os.utime(d, (d.stat().st_atime, d.stat().st_mtime + 60))
    statuses = {r.path: r.status for r in check(loaded)}
    assert statuses[str(a)] is CanaryStatus.MODIFIED
    assert statuses[str(b)] is CanaryStatus.RENAMED
    assert statuses[str(c)] is CanaryStatus.DELETED
    assert statuses[str(d)] is CanaryStatus.TOUCHED
    assert list(statuses.values()).count(CanaryStatus.INTACT) == 1


def test_bad_manifest_is_an_input_error(tmp_path: Path) -> None:
    from tocsin.errors import InputError

    bad = tmp_path / "m.json"
    bad.write_text('{"version": 1, "canaries": [{"nope": 1}]}')
    with pytest.raises(InputError):
        Manifest.load(bad)


def test_generated_rules_make_any_canary_event_critical(tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    manifest = Manifest()
    plant(share, 3, manifest)
    name = Path(manifest.canaries[0].path).name
    rules = SigmaCollection.from_yaml(sigma_rules(manifest)).rules
    compiled = compile_rules(rules)
    assert not compiled.problems and len(compiled.rules) == 3
    assert {r.info.level for r in compiled.rules} == {"critical"}

    def at(seconds: int, **fields: str) -> dict[str, object]:
        return {"_time": T0 + timedelta(seconds=seconds), "Computer": "srv-fichiers", **fields}

    rows = [
        at(0, EventID="4663", Channel="Security", ObjectName=f"D:\\Partage\\{name}"),
        at(1, EventID="5145", Channel="Security", RelativeTargetName=name),
        at(2, EventID="11", Channel=SYSMON, TargetFilename=f"C:\\Partage\\{name}.lockbit"),
        at(3, EventID="23", Channel=SYSMON, TargetFilename=f"C:\\Partage\\{name}"),
        # not canaries: another file, and a longer name that ends like one
        at(4, EventID="4663", Channel="Security", ObjectName="D:\\Partage\\rapport.docx"),
        at(5, EventID="11", Channel=SYSMON, TargetFilename=f"C:\\Partage\\Old_{name}"),
    ]
    store = tmp_path / "store"
    _write(store, rows)
    result = DuckDBEngine(store, threads=1).run(compiled)
    records = sorted(e.record for a in result.alerts for e in a.events)
    assert records == [1, 2, 4]  # 3: the canary's name with .lockbit is the pack's business


def test_cli_plant_check_rule(
    cli_env: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    share = tmp_path / "share"
    share.mkdir()
    assert cli_env("detect", "canary", "plant", str(share), "--count", "4", "-f", "json") == 0
    manifest = cli_env.home / "detect" / "canaries.json"
    paths = [c["path"] for c in json.loads(manifest.read_text())["canaries"]]
    assert len(paths) == 4
    capsys.readouterr()
    assert cli_env("detect", "canary", "check", "-f", "jsonl") == 0
    Path(paths[0]).unlink()
    assert cli_env("detect", "canary", "check", "-f", "jsonl") == 1
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["status"] for r in rows].count("deleted") == 1
    assert cli_env("detect", "canary", "rule", "-o", str(tmp_path / "canary.yml")) == 0
    assert "level: critical" in (tmp_path / "canary.yml").read_text()
