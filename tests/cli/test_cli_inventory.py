"""``tocsin inventory`` end to end: import, list (streamed), show, export round trip."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Run, asset_rows, runner, write_rows

import tocsin.cli.inventory as inventory_cli
from tocsin.errors import InventoryError
from tocsin.inventory.export import iter_csv as real_iter_csv
from tocsin.inventory.importers.csv import COLUMNS
from tocsin.store.inventory import StoredAsset
from tocsin.store.inventory import iter_assets as real_iter_assets

WriteCsv = Callable[[str, Iterable[Mapping[str, str]]], Path]


@pytest.fixture
def run(cli_env: object, capsys: pytest.CaptureFixture[str]) -> Run:
    return runner(capsys)


@pytest.fixture
def write_csv(tmp_path: Path) -> WriteCsv:
    """``write_csv("name.csv", rows)`` → a CSV file in the test's folder."""

    def write(name: str, rows: Iterable[Mapping[str, str]]) -> Path:
        return write_rows(tmp_path / name, rows)

    return write


@pytest.fixture
def ch_a(run: Run) -> str:
    assert run("establishment", "add", "ch-a", "--name", "CH A").code == 0
    return "ch-a"


def _import(run: Run, path: Path, establishment: str = "ch-a") -> dict[str, Any]:
    result = run("inventory", "import", str(path), "-e", establishment, "--output", "jsonl")
    assert result.code == 0, result.err
    report: dict[str, Any] = json.loads(result.out)
    return report


def test_import_reports_what_changed(run: Run, ch_a: str, write_csv: WriteCsv) -> None:
    path = write_csv("inventory.csv", asset_rows(30))
    result = run("inventory", "import", str(path))  # the only establishment is the default
    assert result.code == 0, result.err
    assert f"imported 30 records from {path}" in result.err_text
    assert "30 added, 0 changed, 0 removed, 0 unchanged" in result.err_text
    rows = asset_rows(30)
    rows[3]["version"] = "9.9.9"
    report = _import(run, write_csv("inventory.csv", rows[:-2]))
    assert {k: report[k] for k in ("records", "added", "changed", "removed", "unchanged")} == {
        "records": 28,
        "added": 0,
        "changed": 1,
        "removed": 2,
        "unchanged": 27,
    }
    assert (report["format"], report["establishment"], report["dry_run"]) == ("csv", "ch-a", False)


def test_import_bad_enum_names_file_line_column_and_field(
    run: Run, ch_a: str, write_csv: WriteCsv
) -> None:
    rows = asset_rows(3)
    rows[1]["criticality"] = "urgent"
    path = write_csv("bad.csv", rows)
    result = run("inventory", "import", str(path), "-e", "ch-a")
    assert result.code == 3
    column = COLUMNS.index("criticality") + 1
    assert f"{path}:3:{column} [criticality]" in result.err_text
    assert "'urgent'" in result.err_text and "vital" in result.err_text
    assert result.err.strip().startswith("error: ")
    assert (
        json.loads(run("establishment", "list", "-f", "json").out)["establishments"][0]["assets"]
        == 0
    )  # nothing half-written


def test_import_missing_file_is_bad_input(run: Run, ch_a: str, tmp_path: Path) -> None:
    result = run("inventory", "import", str(tmp_path / "nope.csv"), "-e", "ch-a")
    assert result.code == 3
    assert "nope.csv: file not found" in result.err


def test_import_unknown_format_is_a_usage_error(run: Run, ch_a: str, write_csv: WriteCsv) -> None:
    path = write_csv("inventory.csv", asset_rows(2))
    result = run("inventory", "import", str(path), "-e", "ch-a", "--format", "xml")
    assert result.code == 2
    assert "unknown inventory format 'xml'" in result.err


def test_import_into_unknown_establishment_is_a_usage_error(
    run: Run, ch_a: str, write_csv: WriteCsv
) -> None:
    path = write_csv("inventory.csv", asset_rows(2))
    result = run("inventory", "import", str(path), "-e", "ch-zzz")
    assert result.code == 2
    assert "no establishment 'ch-zzz'" in result.err


class _Recorder(io.StringIO):
    """A stdout that notes when each write happens relative to the rows fetched."""

    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events

    def write(self, text: str) -> int:
        self.events.append("write")
        return super().write(text)


def test_list_jsonl_streams_every_asset(
    run: Run, ch_a: str, write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch
) -> None:
    _import(run, write_csv("big.csv", asset_rows(2000)))
    events: list[str] = []

    def counting_iter_assets(*args: Any, **kwargs: Any) -> Iterator[StoredAsset]:
        for stored in real_iter_assets(*args, **kwargs):
            events.append("fetch")
            yield stored

    monkeypatch.setattr(inventory_cli, "iter_assets", counting_iter_assets)
    recorder = _Recorder(events)
    with contextlib.redirect_stdout(recorder):
        result = run("inventory", "list", "--format", "jsonl")
    assert result.code == 0, result.err
    lines = recorder.getvalue().splitlines()
    assert len(lines) == 2000
    docs = [json.loads(line) for line in lines]
    assert {d["establishment"] for d in docs} == {"ch-a"}
    assert [d["id"] for d in docs] == sorted(d["id"] for d in docs)
    # Streamed: the first line was written before the last asset was read.
    assert events.count("fetch") == 2000
    assert events.index("write") < len(events) - 1 - events[::-1].index("fetch")


@pytest.mark.parametrize(
    ("option", "value", "check"),
    [
        ("--kind", "medical_device", lambda d: d["kind"] == "medical_device"),
        ("--criticality", "vital", lambda d: d["criticality"] == "vital"),
        ("--exposure", "isolated", lambda d: d["exposure"] == "isolated"),
        ("--search", "FORTIGATE", lambda d: d["product"] == "FortiGate"),
        ("--tag", "vpn", lambda d: "vpn" in d["tags"]),
        ("--function", "urgences", lambda d: d["function"] == "urgences"),
    ],
)
def test_list_filters(
    run: Run,
    ch_a: str,
    write_csv: WriteCsv,
    option: str,
    value: str,
    check: Callable[[dict[str, Any]], bool],
) -> None:
    rows = asset_rows(100)
    _import(run, write_csv("inventory.csv", rows))
    result = run("inventory", "list", "-f", "jsonl", option, value)
    assert result.code == 0, result.err
    docs = result.jsonl()
    assert docs and all(check(d) for d in docs)
    everything = run("inventory", "list", "-f", "jsonl").jsonl()
    assert len(docs) == sum(1 for d in everything if check(d))


def test_list_json_is_one_versioned_document(run: Run, ch_a: str, write_csv: WriteCsv) -> None:
    _import(run, write_csv("inventory.csv", asset_rows(25)))
    result = run("inventory", "list", "--format", "json", "--limit", "10")
    document = json.loads(result.out)
    assert document["version"] == 1
    assert len(document["assets"]) == 10
    first = document["assets"][0]
    assert set(first) == {
        *COLUMNS,
        "establishment",
        "vendor_key",
        "product_key",
        "source",
        "updated_at",
    }
    assert first["vendor_key"] == "fortinet" and first["product_key"] == "fortios"
    assert first["tags"] == ["dmz", "vpn"]


def test_list_table_counts_assets(run: Run, ch_a: str, write_csv: WriteCsv) -> None:
    _import(run, write_csv("inventory.csv", asset_rows(12)))
    result = run("inventory", "list")
    assert result.code == 0
    assert "Assets" in result.out
    assert "12 assets" in result.err


def test_show_one_asset(run: Run, ch_a: str, write_csv: WriteCsv) -> None:
    _import(run, write_csv("inventory.csv", asset_rows(5)))
    table = run("inventory", "show", "a00003")
    assert table.code == 0, table.err
    assert "a00003" in table.out and "Asset 3" in table.out
    doc = json.loads(run("inventory", "show", "a00003", "-e", "ch-a", "-f", "json").out)
    assert (doc["id"], doc["establishment"], doc["version"]) == ("a00003", "ch-a", "7.2.3")
    missing = run("inventory", "show", "zzz")
    assert missing.code == 2 and "no asset 'zzz'" in missing.err


def test_show_ambiguous_id_asks_for_the_establishment(
    run: Run, ch_a: str, write_csv: WriteCsv
) -> None:
    assert run("establishment", "add", "ch-b", "--name", "CH B").code == 0
    path = write_csv("inventory.csv", asset_rows(3))
    _import(run, path, "ch-a")
    _import(run, path, "ch-b")
    result = run("inventory", "show", "a00001")
    assert result.code == 2
    assert "pass --establishment" in result.err


def _comparable(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ignored = {"establishment", "source", "updated_at"}
    return [{k: v for k, v in d.items() if k not in ignored} for d in docs]


def test_export_csv_round_trip(run: Run, ch_a: str, write_csv: WriteCsv, tmp_path: Path) -> None:
    _import(run, write_csv("inventory.csv", asset_rows(120)))
    exported = tmp_path / "export.csv"
    result = run("inventory", "export", "--format", "csv", "-e", "ch-a", "-o", str(exported))
    assert result.code == 0, result.err
    assert not list(tmp_path.glob("*.part"))
    stdout = run("inventory", "export", "-e", "ch-a")
    assert stdout.out == exported.read_bytes().decode("utf-8")
    assert next(csv.reader(io.StringIO(stdout.out))) == list(COLUMNS)

    assert run("establishment", "add", "ch-b", "--name", "CH B").code == 0
    report = _import(run, exported, "ch-b")
    assert report["added"] == 120
    first = run("inventory", "list", "-e", "ch-a", "-f", "jsonl").jsonl()
    second = run("inventory", "list", "-e", "ch-b", "-f", "jsonl").jsonl()
    assert _comparable(first) == _comparable(second)
    assert {d["establishment"] for d in second} == {"ch-b"}


def test_export_json_and_jsonl(run: Run, ch_a: str, write_csv: WriteCsv) -> None:
    _import(run, write_csv("inventory.csv", asset_rows(7)))
    document = json.loads(run("inventory", "export", "--format", "json").out)
    assert document["version"] == 1 and len(document["assets"]) == 7
    lines = run("inventory", "export", "--format", "jsonl").jsonl()
    assert lines == document["assets"]


def test_export_to_a_file_is_atomic(
    run: Run, ch_a: str, write_csv: WriteCsv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _import(run, write_csv("inventory.csv", asset_rows(50)))
    target = tmp_path / "export.csv"
    target.write_text("previous export\n", encoding="utf-8")

    def failing_iter_csv(assets: Iterable[StoredAsset]) -> Iterator[str]:
        for number, chunk in enumerate(real_iter_csv(assets)):
            if number == 10:
                raise InventoryError("simulated failure half-way")
            yield chunk

    monkeypatch.setattr(inventory_cli, "iter_csv", failing_iter_csv)
    failed = run("inventory", "export", "-o", str(target))
    assert failed.code == 3
    assert target.read_text(encoding="utf-8") == "previous export\n"

    monkeypatch.setattr(inventory_cli, "iter_csv", real_iter_csv)
    assert run("inventory", "export", "-o", str(target)).code == 0
    assert target.read_text(encoding="utf-8").count("\n") == 51
