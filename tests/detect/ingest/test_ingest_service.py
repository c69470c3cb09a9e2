"""The ingest service and CLI: Parquet layout, union of schemas, atomicity, gzip, limits."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from tocsin.cli.main import main
from tocsin.detect.ingest import Event, Limits, ingest
from tocsin.detect.ingest.writer import StoreWriter
from tocsin.detect.store import list_partitions, partition_dir
from tocsin.errors import InputError

SYSLOG = (
    "<34>1 2024-01-05T10:00:00Z h1 app 1 - - hello\n<34>1 2024-01-06T10:00:00Z h1 app 1 - - x\n"
)
WEB = '1.2.3.4 - - [05/Jan/2024:10:00:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua"\n'
FORTI = "date=2024-01-05 time=10:00:00 devname=fw logid=1 srcip=1.1.1.1\n"
JSONL = '{"@timestamp": "2024-01-05T10:00:00Z", "user": {"name": "bob"}}\n{"oops\n'


def union(store: Path) -> pa.Table:
    dataset = ds.dataset(store, format="parquet", partitioning="hive")
    schema = pa.unify_schemas([f.physical_schema for f in dataset.get_fragments()])
    return ds.dataset(store, format="parquet", partitioning="hive", schema=schema).to_table()


def write_inputs(folder: Path) -> None:
    folder.mkdir()
    (folder / "sys.log").write_text(SYSLOG)
    (folder / "access.log.gz").write_bytes(gzip.compress(WEB.encode()))
    (folder / "fw.log").write_text(FORTI)
    (folder / "app.jsonl").write_text(JSONL)


def test_ingest_writes_hive_partitions_with_the_contract_columns(tmp_path: Path) -> None:
    write_inputs(tmp_path / "in")
    store = tmp_path / "store"
    report = ingest([tmp_path / "in"], store)
    assert report.sources == {"syslog": 2, "web": 1, "fortigate": 1, "json": 1}
    assert report.warnings_total == 1
    assert report.warnings[0].location.line == 2
    assert report.warnings[0].location.file == str(tmp_path / "in" / "app.jsonl")
    parts = {(p.source, p.day) for p in list_partitions(store)}
    assert parts == {
        ("syslog", date(2024, 1, 5)),
        ("syslog", date(2024, 1, 6)),
        ("web", date(2024, 1, 5)),
        ("fortigate", date(2024, 1, 5)),
        ("json", date(2024, 1, 5)),
    }
    assert list_partitions(store, sources=["syslog"], since=date(2024, 1, 6)) == [
        p for p in list_partitions(store) if p.source == "syslog" and p.day == date(2024, 1, 6)
    ]
    files = list(store.rglob("*"))
    assert not [f for f in files if f.name.endswith(".tmp")]
    table = union(store)
    assert table.num_rows == 5
    types = {f.name: f.type for f in table.schema}
    assert types["_time"] == pa.timestamp("us", tz="UTC")
    assert types["_record"] == pa.int64()
    for name in ("_host", "_source", "_file", "_message", "c-ip", "srcip", "user.name"):
        assert types[name] == pa.string(), name
    rows = {r["_source"]: r for r in table.to_pylist()}
    assert rows["web"]["c-ip"] == "1.2.3.4" and rows["web"]["srcip"] is None
    assert rows["fortigate"]["_host"] == "fw" and rows["json"]["user.name"] == "bob"
    assert rows["syslog"]["_message"] in ("hello", "x")
    part = partition_dir(store, "web", date(2024, 1, 5))
    assert [p.name.startswith("part-") for p in part.iterdir()] == [True]


def test_a_file_that_cannot_be_read_leaves_nothing(tmp_path: Path) -> None:
    write_inputs(tmp_path / "in")
    bad = tmp_path / "bad.evtx"
    bad.write_bytes(b"ElfFile\x00" + b"\x00" * 100)
    store = tmp_path / "store"
    with pytest.raises(InputError) as caught:
        ingest([tmp_path / "in", bad], store, batch_rows=1)
    assert caught.value.location is not None and caught.value.location.file == str(bad)
    assert [p for p in store.rglob("*") if p.is_file()] == []


def test_unrecognised_file_named_explicitly_is_an_error(tmp_path: Path) -> None:
    odd = tmp_path / "odd.bin"
    odd.write_bytes(b"\x00\x01\x02")
    with pytest.raises(InputError, match="not recognised"):
        ingest([odd], tmp_path / "store")
    report = ingest([odd], tmp_path / "store", formats=["syslog"])
    assert report.events == 0 and report.warnings_total == 1


def test_gzip_over_the_decompression_cap_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.log.gz"
    bomb.write_bytes(gzip.compress(SYSLOG.encode() * 2000))
    with pytest.raises(InputError, match="decompressed size"):
        ingest([bomb], tmp_path / "store", limits=Limits(max_decompressed_bytes=10_000))
    assert not list((tmp_path / "store").rglob("*.parquet"))


def test_writer_flushes_in_batches_and_bounds_what_it_buffers(tmp_path: Path) -> None:
    writer = StoreWriter(tmp_path, batch_rows=1000, max_buffered_rows=1500, max_open_files=2)
    from datetime import UTC, datetime, timedelta

    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(20_000):
        when = start + timedelta(days=i % 5)
        fields = {"n": str(i), f"k{i % 7}": "v"}
        writer.add(Event("json", i + 1, when, "h", None, fields), "gen.jsonl")
        assert writer.buffered <= 1500
    assert writer.flushes >= 13
    assert writer.peak_buffered <= 1500
    written = writer.commit()
    assert len(list_partitions(tmp_path)) == 5
    table = union(tmp_path)
    assert table.num_rows == 20_000 and len(written) >= 5
    assert sorted(int(n) for n in table.column("n").to_pylist()) == list(range(20_000))


def test_case_variants_of_a_field_share_one_column(tmp_path: Path) -> None:
    writer = StoreWriter(tmp_path)
    writer.add(Event("json", 1, None, None, None, {"ProcessID": "1"}), "f")
    writer.add(Event("json", 2, None, None, None, {"ProcessId": "2", "_time": "x"}), "f")
    warnings: list[object] = []
    writer.sink = warnings.append
    writer.commit()
    table = union(tmp_path)
    assert table.column("ProcessID").to_pylist() == ["1", "2"]
    assert "ProcessId" not in table.column_names and len(warnings) == 1


def test_cli_ingest_json_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOCSIN_HOME", str(tmp_path / "home"))
    write_inputs(tmp_path / "in")
    code = main(["detect", "ingest", str(tmp_path / "in"), "--format", "json", "--stats"])
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    (run,) = document["ingests"]
    assert run["events"] == 5 and run["warnings_total"] == 1
    assert run["warnings"][0]["line"] == 2
    assert (tmp_path / "home" / "detect" / "events" / "source=web").is_dir()
    code = main(
        [
            "detect",
            "ingest",
            str(tmp_path / "in" / "fw.log"),
            "--store",
            str(tmp_path / "s2"),
            "--log-format",
            "fortigate",
        ]
    )
    assert code == 0
    assert "fortigate" in capsys.readouterr().out
    assert main(["detect", "ingest", str(tmp_path / "missing")]) == 3
