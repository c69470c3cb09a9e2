"""Splitting a chunk by (Channel, EventID) in Arrow: every row once, in its key's group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.detect.engines.arrow_split import Key, split_files

T0 = datetime(2024, 3, 1, tzinfo=UTC)
TIME = pa.timestamp("us", tz="UTC")

# Values that a naive join of the two keys would confuse (separators, NUL, case).
values = st.one_of(
    st.none(),
    st.sampled_from(["Security", "security", "SECURITY", "a\x1fb", "a", "\x00", "", "4688"]),
)
row = st.fixed_dictionaries(
    {"Channel": values, "EventID": values, "Extra": st.one_of(st.none(), st.text(max_size=3))}
)


def _write(folder: Path, number: int, rows: list[dict[str, str | None]], drop: set[str]) -> Path:
    data: dict[str, pa.Array] = {
        "_time": pa.array([T0 + timedelta(minutes=i) for i in range(len(rows))], TIME),
        "_record": pa.array([number * 1000 + i for i in range(len(rows))], pa.int64()),
    }
    for name in ("Channel", "EventID", "Extra"):
        if name not in drop:
            data[name] = pa.array([r[name] for r in rows], pa.string())
    # A Hive-looking folder: the split must not add a ``source``/``day`` column from it.
    path = folder / "source=windows" / "day=2024-03-01" / f"part-{number}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(data), path)
    return path


def _key(r: dict[str, str | None], drop: set[str]) -> Key:
    channel = None if "Channel" in drop or r["Channel"] is None else r["Channel"].lower()
    event = None if "EventID" in drop or r["EventID"] is None else r["EventID"].lower()
    return channel, event


@settings(max_examples=60, deadline=None)
@given(
    files=st.lists(
        st.tuples(
            st.lists(row, min_size=1, max_size=12),
            st.sets(st.sampled_from(["Channel", "EventID", "Extra"]), max_size=1),
        ),
        min_size=1,
        max_size=4,
    ),
    unwanted=st.sets(st.sampled_from(["security", "a", None]), max_size=2),
)
def test_every_row_lands_once_in_its_keys_group(
    tmp_path_factory: object,
    files: list[tuple[list[dict[str, str | None]], set[str]]],
    unwanted: set[str | None],
) -> None:
    folder = Path(str(tmp_path_factory.mktemp("split")))  # type: ignore[attr-defined]
    paths = [_write(folder, n, rows, drop) for n, (rows, drop) in enumerate(files)]

    def wanted(key: Key) -> bool:
        return key[0] not in unwanted

    groups = split_files(paths, "Channel", "EventID", wanted)
    expected: dict[Key | None, set[int]] = {}
    for n, (rows, drop) in enumerate(files):
        for i, r in enumerate(rows):
            key = _key(r, drop)
            expected.setdefault(key if wanted(key) else None, set()).add(n * 1000 + i)
    got = {key: set(group.table()["_record"].to_pylist()) for key, group in groups.items()}
    assert got == expected
    for group in groups.values():
        table = group.table()
        assert group.rows == table.num_rows
        assert not {"source", "day"} & set(table.column_names)
        assert group.filled() == {
            name for name in table.column_names if table[name].null_count < table.num_rows
        }


def test_the_time_range_keeps_rows_between_its_bounds(tmp_path: Path) -> None:
    rows: list[dict[str, str | None]] = [
        {"Channel": "Security", "EventID": "1", "Extra": None} for _ in range(10)
    ]
    path = _write(tmp_path, 0, rows, set())
    since, until = T0 + timedelta(minutes=2), T0 + timedelta(minutes=5)
    groups = split_files([path], "Channel", "EventID", lambda key: True, since, until)
    assert groups[("security", "1")].table()["_record"].to_pylist() == [2, 3, 4, 5]
    assert split_files([path], "Channel", "EventID", lambda key: True, T0 + timedelta(days=1)) == {}


def test_names_that_differ_in_case_meet_under_the_chunks_spelling(tmp_path: Path) -> None:
    def write(name: str, data: dict[str, list[str | None]]) -> Path:
        path = tmp_path / name
        pq.write_table(pa.table({k: pa.array(v, pa.string()) for k, v in data.items()}), path)
        return path

    a = write("a.parquet", {"Channel": ["Security"], "CommandLine": ["one"]})
    b = write("b.parquet", {"channel": ["security"], "commandline": ["two"]})
    # Both spellings in one file: merged, the first non-null value winning.
    c = write("c.parquet", {"Channel": ["SECURITY"], "COMMANDLINE": [None], "commandLine": ["3"]})
    groups = split_files(
        [a, b, c], "Channel", None, lambda key: True, columns=["Channel", "CommandLine"]
    )
    table = groups[("security", None)].table()
    assert table.column_names == ["Channel", "CommandLine"]
    assert table["CommandLine"].to_pylist() == ["one", "two", "3"]
