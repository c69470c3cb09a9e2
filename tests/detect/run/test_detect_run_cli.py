"""``tocsin detect run``: rules over logs without the app database (issue 4)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from detect_run_support import AWS_ID, VSS_ID, write_logs, write_rules

from tocsin.cli.main import main


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


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TOCSIN_HOME", str(tmp_path / "home"))
    for name in ("TOCSIN_FORMAT", "TOCSIN_DETECT_ENGINE", "TOCSIN_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[str, str]:
    return str(write_rules(tmp_path / "rules")), str(write_logs(tmp_path / "logs"))


def test_jsonl_alerts_have_the_documented_shape(run: Any, inputs: tuple[str, str]) -> None:
    rules, logs = inputs
    result = run("detect", "run", "--rules", rules, "--logs", logs, "--format", "jsonl")
    assert result.code == 0, result.err
    alerts = result.jsonl()
    assert [(a["hosts"], a["count"]) for a in alerts] == [(["pc1"], 2), (["pc2"], 1)]
    first = alerts[0]
    assert first["rule"] == VSS_ID
    assert first["title"] == "Shadow copies deleted with vssadmin"
    assert first["level"] == "high"
    assert first["attack"] == ["T1490"]
    assert first["tags"] == ["attack.impact", "attack.t1490"]
    assert first["first"] == "2025-03-01T10:00:00+00:00"
    assert first["last"] == "2025-03-01T10:01:00+00:00"
    assert first["sample"] == [
        {"file": logs, "record": 1, "time": "2025-03-01T10:00:00+00:00", "host": "pc1"},
        {"file": logs, "record": 2, "time": "2025-03-01T10:01:00+00:00", "host": "pc1"},
    ]
    # The skipped cloud rule is said on stderr, never silently dropped.
    assert "1 rules skipped" in result.err_text


def test_no_database_and_nothing_left_behind(
    run: Any, inputs: tuple[str, str], tmp_path: Path
) -> None:
    rules, logs = inputs
    assert run("detect", "run", "-r", rules, "--logs", logs, "-f", "jsonl").code == 0
    home = tmp_path / "home"
    assert not list(home.rglob("*.db")) if home.exists() else True
    assert not list(home.rglob("*.parquet")) if home.exists() else True


def test_stats_counts_and_skipped_reasons(run: Any, inputs: tuple[str, str]) -> None:
    rules, logs = inputs
    result = run("detect", "run", "-r", rules, "--logs", logs, "-f", "jsonl", "--stats")
    assert result.code == 0
    text = result.err_text
    assert "4 events read" in text
    assert "2 rules loaded" in text
    assert "1 rules skipped" in text
    assert "skipped 1: no Tocsin log source" in text
    assert AWS_ID in text and "product=aws" in text
    assert "events/s" in text


@pytest.mark.parametrize(("fail_on", "code"), [("high", 1), ("medium", 1), ("critical", 0)])
def test_fail_on(run: Any, inputs: tuple[str, str], fail_on: str, code: int) -> None:
    rules, logs = inputs
    result = run("detect", "run", "-r", rules, "--logs", logs, "-f", "jsonl", "--fail-on", fail_on)
    assert result.code == code


@pytest.mark.parametrize(
    ("options", "alerts"),
    [
        (["--level", "critical"], 0),
        (["--level", "high"], 2),
        (["--tag", "attack.t1490"], 2),
        (["--tag", "attack.t1486"], 0),
        (["--status", "stable"], 0),
        (["--status", "test", "--status", "stable"], 2),
    ],
)
def test_filters(run: Any, inputs: tuple[str, str], options: list[str], alerts: int) -> None:
    rules, logs = inputs
    result = run("detect", "run", "-r", rules, "--logs", logs, "-f", "jsonl", *options)
    assert result.code == 0, result.err
    assert len(result.jsonl()) == alerts


def test_existing_store_gives_the_same_alerts(
    run: Any, inputs: tuple[str, str], tmp_path: Path
) -> None:
    rules, logs = inputs
    store = tmp_path / "store"
    assert run("detect", "ingest", logs, "--store", str(store), "-f", "json").code == 0
    from_store = run("detect", "run", "-r", rules, "--store", str(store), "-f", "jsonl")
    from_logs = run("detect", "run", "-r", rules, "--logs", logs, "-f", "jsonl")
    assert from_store.code == 0
    assert from_store.jsonl() == from_logs.jsonl()


def test_json_and_table_formats(run: Any, inputs: tuple[str, str]) -> None:
    rules, logs = inputs
    result = run("detect", "run", "-r", rules, "--logs", logs, "-f", "json")
    document = json.loads(result.out)
    assert document["version"] == 1
    assert [a["count"] for a in document["alerts"]] == [2, 1]
    table = run("detect", "run", "-r", rules, "--logs", logs, "-f", "table")
    assert table.code == 0
    assert "Shadow" in table.out and "T1490" in table.out


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--logs", "LOGS", "--store", "STORE"], 2),  # both
        ([], 2),  # neither
        (["--logs", "LOGS", "--engine", "oracle"], 2),
        (["--logs", "LOGS", "--fail-on", "severe"], 2),
        (["--logs", "MISSING"], 3),
        (["--store", "MISSING"], 3),
        (["--logs", "LOGS", "--memory-limit", "lots"], 2),
        (["--logs", "LOGS", "--chunk-rows", "0"], 2),
    ],
)
def test_usage_and_input_errors(
    run: Any, inputs: tuple[str, str], tmp_path: Path, args: list[str], code: int
) -> None:
    rules, logs = inputs
    names = {"LOGS": logs, "STORE": str(tmp_path), "MISSING": str(tmp_path / "nope")}
    result = run("detect", "run", "-r", rules, *(names.get(a, a) for a in args))
    assert result.code == code, result.err


def test_missing_rules_folder_is_bad_input(
    run: Any, inputs: tuple[str, str], tmp_path: Path
) -> None:
    _, logs = inputs
    result = run("detect", "run", "-r", str(tmp_path / "none"), "--logs", logs)
    assert result.code == 3
    assert "no such rule file or folder" in result.err_text


def test_small_chunks_and_memory_give_the_same_alerts(run: Any, inputs: tuple[str, str]) -> None:
    rules, logs = inputs
    plain = run("detect", "run", "-r", rules, "--logs", logs, "-f", "jsonl")
    small = run(
        "detect", "run", "-r", rules, "--logs", logs, "-f", "jsonl",
        "--chunk-rows", "1", "--memory-limit", "256MB",
    )  # fmt: skip
    assert plain.code == small.code == 0, small.err
    assert small.jsonl() == plain.jsonl()
