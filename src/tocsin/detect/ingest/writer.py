"""Streaming writer of events to the Parquet store (docs/detect-events.md).

Rows are buffered per ``(source, day)`` partition and flushed as Arrow record batches of
``batch_rows`` rows to one open ``ParquetWriter`` per partition; the total of buffered rows
and the number of open files are capped, so memory stays bounded whatever the input. A file
is written under a hidden temporary name (``.part-<uuid>.parquet.tmp``, which readers skip)
and renamed by :meth:`StoreWriter.commit`; :meth:`StoreWriter.abort` removes all this run
wrote. A batch whose fields are not all in the open file's schema closes it and opens
another, so one partition holds files with different field columns (union by name).
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tocsin.detect.ingest.model import Event, IngestWarning
from tocsin.detect.store import NO_TIME_DAY, partition_dir
from tocsin.errors import Location, StoreError

TIME_TYPE = pa.timestamp("us", tz="UTC")
META_SCHEMA = pa.schema(
    [
        ("_time", TIME_TYPE),
        ("_host", pa.string()),
        ("_source", pa.string()),
        ("_file", pa.string()),
        ("_record", pa.int64()),
        ("_message", pa.string()),
    ]
)
META_NAMES = frozenset(name.lower() for name in META_SCHEMA.names)
MAX_COLUMNS = 4000

Key = tuple[str, str]  # (source, day as YYYY-MM-DD)


@dataclass
class _Open:
    writer: pq.ParquetWriter
    schema: pa.Schema
    temp: Path
    final: Path


@dataclass
class _Buffer:
    """Rows of one partition, column-wise; field columns are sparse (row index, value)."""

    times: list[datetime | None] = field(default_factory=list)
    hosts: list[str | None] = field(default_factory=list)
    records: list[int] = field(default_factory=list)
    messages: list[str | None] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    fields: dict[str, tuple[list[int], list[str]]] = field(default_factory=dict)

    def add(self, event: Event, file: str) -> int:
        row = len(self.records)
        self.times.append(event.time)
        self.hosts.append(event.host)
        self.records.append(event.record)
        self.messages.append(event.message)
        self.files.append(file)
        columns = self.fields
        for name, value in event.fields.items():
            column = columns.get(name)
            if column is None:
                column = columns[name] = ([], [])
            column[0].append(row)
            column[1].append(value)
        return row + 1


def event_day(event: Event) -> str:
    if event.time is None:
        return NO_TIME_DAY.isoformat()
    return event.time.astimezone(UTC).date().isoformat()


class StoreWriter:
    """Writes events to ``store``; use :meth:`commit` at the end or :meth:`abort` on failure."""

    def __init__(
        self,
        store: Path,
        *,
        batch_rows: int = 50_000,
        max_buffered_rows: int = 100_000,
        max_open_files: int = 256,
        sink: Callable[[IngestWarning], None] = lambda warning: None,
    ) -> None:
        self.store = store
        self.batch_rows = batch_rows
        self.max_buffered_rows = max(max_buffered_rows, batch_rows)
        self.max_open_files = max_open_files
        self.sink = sink
        self._buffers: dict[Key, _Buffer] = {}
        self._buffered = 0
        self._open: OrderedDict[Key, _Open] = OrderedDict()
        self._closed: list[tuple[Path, Path]] = []
        self._created_dirs: list[Path] = []
        self.flushes = 0
        self.peak_buffered = 0
        self.rows_written = 0

    def add(self, event: Event, file: str) -> None:
        key = (event.source, event_day(event))
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = self._buffers[key] = _Buffer()
        rows = buffer.add(event, file)
        self._buffered += 1
        if self._buffered > self.peak_buffered:
            self.peak_buffered = self._buffered
        if rows >= self.batch_rows:
            self._flush(key)
        elif self._buffered >= self.max_buffered_rows:
            # Flush the largest buffers until half the cap is free: one flush frees enough
            # for many adds, so a spread over many partitions does not flush row by row.
            by_size = sorted(self._buffers, key=lambda k: -len(self._buffers[k].records))
            for largest in by_size:
                self._flush(largest)
                if self._buffered <= self.max_buffered_rows // 2:
                    break

    def _columns(self, buffer: _Buffer) -> dict[str, list[str]]:
        """Field name → its spellings in this batch; names equal but for case are merged.

        Readers (DuckDB, Spark) match column names without regard to case, so two spellings
        would clash: they become one column under the first spelling in sorted order.
        """
        groups: dict[str, list[str]] = {}
        for name in sorted(buffer.fields):
            folded = name.lower()
            if folded in META_NAMES or (folded not in groups and len(groups) >= MAX_COLUMNS):
                reason = (
                    "its name is reserved for a _column"
                    if folded in META_NAMES
                    else f"more than {MAX_COLUMNS} distinct fields in one batch"
                )
                where = Location(buffer.files[buffer.fields[name][0][0]], field=name)
                self.sink(IngestWarning(where, f"field dropped: {reason}"))
                continue
            groups.setdefault(folded, []).append(name)
        return {spellings[0]: spellings for spellings in groups.values()}

    def _batch(self, key: Key, buffer: _Buffer) -> pa.RecordBatch:
        size = len(buffer.records)
        arrays: list[pa.Array] = [
            pa.array(buffer.times, TIME_TYPE),
            pa.array(buffer.hosts, pa.string()),
            pa.array([key[0]] * size, pa.string()),
            pa.array(buffer.files, pa.string()),
            pa.array(buffer.records, pa.int64()),
            pa.array(buffer.messages, pa.string()),
        ]
        columns = self._columns(buffer)
        for spellings in columns.values():
            dense: list[str | None] = [None] * size
            for name in reversed(spellings):  # the first spelling wins on a row with several
                rows, values = buffer.fields[name]
                for row, value in zip(rows, values, strict=True):
                    dense[row] = value
            arrays.append(pa.array(dense, pa.string()))
        schema = pa.schema([*META_SCHEMA, *(pa.field(n, pa.string()) for n in columns)])
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

    def _flush(self, key: Key) -> None:
        buffer = self._buffers.pop(key)
        if not buffer.records:
            return
        self._buffered -= len(buffer.records)
        batch = self._batch(key, buffer)
        current = self._open.get(key)
        if current is not None and not set(batch.schema.names) <= set(current.schema.names):
            self._close(key)
            current = None
        if current is None:
            current = self._start(key, batch.schema)
        else:
            self._open.move_to_end(key)
            batch = _conform(batch, current.schema)
        try:
            current.writer.write_batch(batch)
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"cannot write: {exc}", Location(str(current.temp))) from exc
        self.flushes += 1
        self.rows_written += batch.num_rows

    def _start(self, key: Key, schema: pa.Schema) -> _Open:
        while len(self._open) >= self.max_open_files:
            self._close(next(iter(self._open)))
        folder = partition_dir(self.store, key[0], date.fromisoformat(key[1]))
        if not folder.is_dir():
            missing = [p for p in (folder.parent, folder) if not p.exists()]
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create: {exc.strerror}", Location(str(folder))) from exc
            self._created_dirs.extend(missing)
        name = f"part-{uuid.uuid4()}.parquet"
        temp = folder / f".{name}.tmp"
        try:
            writer = pq.ParquetWriter(temp, schema, compression="zstd")
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"cannot write: {exc}", Location(str(temp))) from exc
        opened = _Open(writer, schema, temp, folder / name)
        self._open[key] = opened
        return opened

    def _close(self, key: Key) -> None:
        opened = self._open.pop(key)
        self._closed.append((opened.temp, opened.final))
        opened.writer.close()

    def finish(self) -> list[tuple[Path, Path]]:
        """Flush and close everything; the (temporary, final) names, not yet renamed.

        A worker process of a parallel ingest stops here: the parent renames the files of
        every worker only when all of them succeeded (:func:`commit_files`).
        """
        for key in list(self._buffers):
            self._flush(key)
        for key in list(self._open):
            self._close(key)
        return list(self._closed)

    @property
    def created_dirs(self) -> list[Path]:
        return list(self._created_dirs)

    def commit(self) -> list[Path]:
        """Flush and close everything, then give every file its final name."""
        done = commit_files(self.finish())
        self._closed = [(final, final) for final in done]
        return done

    def abort(self) -> None:
        """Remove every file and folder this writer created (temporary or renamed)."""
        for opened in self._open.values():
            try:
                opened.writer.close()
            except (OSError, pa.ArrowException):
                pass
            self._closed.append((opened.temp, opened.final))
        self._open.clear()
        self._buffers.clear()
        self._buffered = 0
        for temp, final in self._closed:
            temp.unlink(missing_ok=True)
            final.unlink(missing_ok=True)
        self._closed = []
        for folder in reversed(self._created_dirs):
            try:
                folder.rmdir()
            except OSError:
                pass
        self._created_dirs = []

    @property
    def buffered(self) -> int:
        return self._buffered


def commit_files(pending: list[tuple[Path, Path]]) -> list[Path]:
    """Rename each temporary file to its final name."""
    done: list[Path] = []
    for temp, final in pending:
        temp.rename(final)
        done.append(final)
    return done


def discard_files(pending: list[tuple[Path, Path]], created_dirs: list[Path]) -> None:
    """Remove files (temporary or renamed) and the folders a failed run created."""
    for temp, final in pending:
        temp.unlink(missing_ok=True)
        final.unlink(missing_ok=True)
    for folder in sorted(created_dirs, key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()
        except OSError:
            pass


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """``batch`` with the columns of ``schema`` (absent fields as nulls), in its order."""
    arrays = [
        batch.column(name) if name in batch.schema.names else pa.nulls(batch.num_rows, pa.string())
        for name in schema.names
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
