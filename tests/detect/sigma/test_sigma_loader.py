"""Loading rules: folders, archives, limits, and every unusable rule reported with why."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from conftest import shared_data
from tocsin.detect.sigma.compile import compile_rules
from tocsin.detect.sigma.loader import RuleLimits, load_rules
from tocsin.detect.sigma.select import RuleFilter, select
from tocsin.errors import InputError

GOOD = """
title: good
id: 11111111-1111-1111-1111-111111111111
status: stable
level: high
tags: [attack.impact, attack.t1490]
logsource: {product: windows, category: process_creation}
detection:
    sel: {Image|endswith: '\\vssadmin.exe'}
    condition: sel
"""
LOW = (
    GOOD.replace("1111-111111111111", "1111-222222222222")
    .replace("high", "low")
    .replace("stable", "experimental")
)
BROKEN = "title: broken\nid: 33333333-3333-3333-3333-333333333333\ndetection: {condition: nope}\n"
UNROUTED = GOOD.replace("1111-111111111111", "1111-444444444444").replace(
    "product: windows, category: process_creation", "product: okta, service: okta"
)


def write(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.yml").write_text(text, encoding="utf-8")
    return folder


def test_folder_loads_good_rules_and_reports_the_others(tmp_path: Path) -> None:
    folder = write(tmp_path / "rules", good=GOOD, broken=BROKEN, yaml_error="a: [", dup=GOOD)
    ruleset = load_rules([folder])
    assert [str(r.id) for r in ruleset.rules] == ["11111111-1111-1111-1111-111111111111"]
    reasons = {Path(p.file).name: p.reason for p in ruleset.problems}
    assert set(reasons) == {"broken.yml", "yaml_error.yml", "good.yml"}
    assert "duplicate id" in reasons["good.yml"]


def test_archive_is_read_in_memory_with_limits(tmp_path: Path) -> None:
    archive = tmp_path / "rules.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("sigma/good.yml", GOOD)
        zf.writestr("sigma/big.yml", GOOD + "#" * 5000)
        zf.writestr("sigma/readme.txt", "not a rule")
    ruleset = load_rules([archive], RuleLimits(max_file_bytes=4000))
    assert len(ruleset.rules) == 1
    assert [p.reason for p in ruleset.problems] == ["file too large (5355 bytes)"] or all(
        "too large" in p.reason for p in ruleset.problems
    )
    assert ruleset.problems[0].file.endswith("rules.zip!sigma/big.yml")


def test_not_a_zip_is_bad_input(tmp_path: Path) -> None:
    fake = tmp_path / "rules.zip"
    fake.write_bytes(b"nope")
    with pytest.raises(InputError):
        load_rules([fake])


def test_filter_by_status_level_tags_and_logsource(tmp_path: Path) -> None:
    ruleset = load_rules([write(tmp_path / "r", good=GOOD, low=LOW)])
    assert len(select(ruleset, RuleFilter(min_level="medium")).rules) == 1
    assert len(select(ruleset, RuleFilter(statuses=frozenset({"experimental"}))).rules) == 1
    assert len(select(ruleset, RuleFilter(tags=frozenset({"attack"}))).rules) == 2
    assert len(select(ruleset, RuleFilter(tags=frozenset({"attack.t1059"}))).rules) == 0
    assert len(select(ruleset, RuleFilter(category="process_creation")).rules) == 2
    assert len(select(ruleset, RuleFilter(product="linux")).rules) == 0


def test_compile_reports_rules_without_a_log_source(tmp_path: Path) -> None:
    compiled = compile_rules(select(load_rules([write(tmp_path / "r", good=GOOD, x=UNROUTED)])))
    assert [r.info.id for r in compiled.rules] == ["11111111-1111-1111-1111-111111111111"]
    assert compiled.rules[0].info.attack == ("T1490",)
    assert len(compiled.problems) == 1
    assert "no Tocsin log source" in compiled.problems[0].reason


def test_whole_sigmahq_ruleset_loads_and_every_skip_has_a_reason() -> None:
    base = shared_data("detect", "sigma")
    ruleset = load_rules([base / d for d in ("rules", "rules-emerging-threats")])
    assert len(ruleset.rules) > 3000
    compiled = compile_rules(select(ruleset))
    assert len(compiled.rules) + len(compiled.problems) == len(ruleset.rules)
    assert all(p.reason and p.file for p in compiled.problems)
    assert len([r for r in compiled.rules if r.source == "windows"]) > 2500
