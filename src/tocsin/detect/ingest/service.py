"""``ingest(paths, store)``: read log files in any supported format into the event store."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tocsin.detect.ingest.base import LogFormat, ReadContext, detect_format, get_format
from tocsin.detect.ingest.model import IngestWarning, Limits
from tocsin.detect.ingest.stream import open_input, peek
from tocsin.detect.ingest.writer import StoreWriter
from tocsin.errors import InputError, Location, UsageError

Progress = Callable[[str, int, int | None], None]
MAX_KEPT_WARNINGS = 1000
_PROGRESS_EVERY = 8192


@dataclass
class FileReport:
    file: str
    format: str
    events: int = 0
    skipped: int = 0
    bytes: int = 0
    sources: Counter[str] = field(default_factory=Counter)


@dataclass
class IngestReport:
    """What one ingest run did: per file and per source counts, warnings, speed."""

    store: str
    files: list[FileReport] = field(default_factory=list)
    warnings: list[IngestWarning] = field(default_factory=list)
    warnings_total: int = 0
    skipped_files: list[IngestWarning] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0

    @property
    def events(self) -> int:
        return sum(f.events for f in self.files)

    @property
    def sources(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for report in self.files:
            total.update(report.sources)
        return total

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        """The JSON document of the run (docs/detect-events.md, "Ingest report")."""
        return {
            "version": 1,
            "store": self.store,
            "events": self.events,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.events_per_second, 1),
            "sources": dict(sorted(self.sources.items())),
            "files": [
                {
                    "file": f.file,
                    "format": f.format,
                    "events": f.events,
                    "skipped": f.skipped,
                    "bytes": f.bytes,
                    "sources": dict(sorted(f.sources.items())),
                }
                for f in self.files
            ],
            "skipped_files": [w.document() for w in self.skipped_files],
            "warnings_total": self.warnings_total,
            "warnings": [w.document() for w in self.warnings],
            "parquet_files": len(self.written),
        }


def _expand(paths: Iterable[Path]) -> Iterator[tuple[Path, bool]]:
    """Files to read, and whether each was named explicitly (not found in a folder)."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
                if child.is_file() and not hidden:
                    yield child, False
        elif path.is_file():
            yield path, True
        else:
            raise InputError("no such file or folder", Location(str(path)))


def _choose(
    head: bytes, allowed: Sequence[str] | None, file: str, explicit: bool
) -> LogFormat | None:
    if allowed and len(allowed) == 1:
        return get_format(allowed[0])
    fmt = detect_format(head)
    if fmt is not None and (not allowed or fmt.name in allowed):
        return fmt
    if explicit:
        raise InputError("log format not recognised; pass --format", Location(file))
    return None


def ingest(
    paths: Sequence[Path],
    store_dir: Path,
    *,
    formats: Sequence[str] | None = None,
    progress: Progress | None = None,
    limits: Limits | None = None,
    batch_rows: int = 50_000,
    workers: int = 1,
) -> IngestReport:
    """Read ``paths`` (files or folders, plain or gzip) into ``store_dir``.

    ``formats`` restricts detection to these names; a single name forces it. A bad record
    is a counted, located warning; a file that cannot be read at all raises
    :class:`InputError` and nothing of this run stays in the store. ``workers`` > 1 reads
    files in that many processes (``ingest/parallel.py``); one file is always read by one.
    """
    limits = limits or Limits()
    for name in formats or ():
        get_format(name)
    files = list(_expand(paths))
    if not files:
        raise UsageError("no input files")
    report = IngestReport(str(store_dir))
    total = sum(p.stat().st_size for p, _ in files)

    def sink(warning: IngestWarning) -> None:
        report.warnings_total += 1
        if len(report.warnings) < MAX_KEPT_WARNINGS:
            report.warnings.append(warning)

    started = time.perf_counter()
    if workers > 1 and len(files) > 1:
        from tocsin.detect.ingest.parallel import Job, ingest_parallel

        job = Job(store_dir, formats, limits, batch_rows)
        ingest_parallel(files, report, job, min(workers, len(files)), progress)
        report.seconds = time.perf_counter() - started
        return report
    writer = StoreWriter(store_dir, batch_rows=batch_rows, sink=sink)
    try:
        for path, explicit in files:
            done_before = report.bytes
            file_report = ingest_file(path, explicit, formats, limits, writer, sink, report)
            if file_report is not None:
                report.files.append(file_report)
            report.bytes = done_before + path.stat().st_size
            if progress is not None:
                progress(path.name, report.bytes, total)
        report.written = [str(p) for p in writer.commit()]
    except BaseException:
        writer.abort()
        raise
    report.seconds = time.perf_counter() - started
    return report


def ingest_file(
    path: Path,
    explicit: bool,
    allowed: Sequence[str] | None,
    limits: Limits,
    writer: StoreWriter,
    sink: Callable[[IngestWarning], None],
    report: IngestReport,
) -> FileReport | None:
    name = str(path)
    stream = open_input(path, limits.max_decompressed_bytes)
    with stream:
        fmt = _choose(peek(stream), allowed, name, explicit)
        if fmt is None:
            report.skipped_files.append(IngestWarning(Location(name), "log format not recognised"))
            return None
        file_report = FileReport(name, fmt.name, bytes=path.stat().st_size)
        before = report.warnings_total

        def count(warning: IngestWarning) -> None:
            sink(warning)

        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        ctx = ReadContext(name, limits, count, mtime)
        sources = file_report.sources
        for event in fmt.read(stream, ctx):
            writer.add(event, name)
            sources[event.source] += 1
        file_report.events = sum(sources.values())
        file_report.skipped = report.warnings_total - before
    return file_report
