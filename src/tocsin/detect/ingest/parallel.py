"""Ingest over several worker processes: one :class:`StoreWriter` per worker.

Parsing and normalising records is Python work bound by one core, so ``ingest(...,
workers=N)`` hands the input files to N processes. Each reads whole files (the next one
it is given, so a large file does not hold the others back) and writes its own Parquet
files into the same store under temporary names; the parent renames them only once every
worker has finished, and removes them all if any failed, so the store never holds half a
run (docs/detect-events.md). Reports, counts and warnings come back to the parent and
are merged in input order.
"""

from __future__ import annotations

import multiprocessing
import queue
from dataclasses import dataclass, field
from multiprocessing.context import ForkContext, SpawnContext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tocsin.detect.ingest.model import IngestWarning, Limits
from tocsin.detect.ingest.service import (
    MAX_KEPT_WARNINGS,
    FileReport,
    IngestReport,
    Progress,
    ingest_file,
)
from tocsin.detect.ingest.writer import StoreWriter, commit_files, discard_files
from tocsin.errors import InputError, Location, StoreError, TocsinError, UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence

_POLL_SECONDS = 0.5


@dataclass
class Job:
    """What every worker is given besides the files."""

    store: Path
    formats: Sequence[str] | None
    limits: Limits
    batch_rows: int


@dataclass
class _Outcome:
    """What a worker sends back when its queue is empty (or it failed)."""

    pending: list[tuple[Path, Path]] = field(default_factory=list)
    created_dirs: list[Path] = field(default_factory=list)
    error: tuple[str, str, Location | None] | None = None


def _worker(job: Job, tasks: Any, results: Any) -> None:
    """Ingest files from ``tasks`` until ``None``; report each, then the files written."""
    kept = 0
    total = IngestReport(str(job.store))

    def sink(warning: IngestWarning) -> None:
        nonlocal kept
        total.warnings_total += 1
        if kept < MAX_KEPT_WARNINGS:  # the parent keeps the first of all workers'
            kept += 1
            total.warnings.append(warning)

    writer = StoreWriter(job.store, batch_rows=job.batch_rows, sink=sink)
    try:
        while (task := tasks.get()) is not None:
            index, path, explicit = task
            shard = IngestReport(str(job.store))
            before, warned = total.warnings_total, len(total.warnings)
            report = ingest_file(path, explicit, job.formats, job.limits, writer, sink, shard)
            shard.warnings_total = total.warnings_total - before
            shard.warnings = total.warnings[warned:]
            results.put(("file", index, report, shard))
        results.put(("done", _Outcome(writer.finish(), writer.created_dirs)))
    except BaseException as exc:
        writer.abort()
        kind = type(exc).__name__ if isinstance(exc, TocsinError) else "error"
        location = exc.location if isinstance(exc, TocsinError) else None
        message = exc.message if isinstance(exc, TocsinError) else f"{type(exc).__name__}: {exc}"
        results.put(("done", _Outcome(error=(kind, message, location))))


def ingest_parallel(
    files: list[tuple[Path, bool]],
    report: IngestReport,
    job: Job,
    workers: int,
    progress: Progress | None,
) -> None:
    """Fill ``report`` from ``workers`` processes reading ``files``; commit or discard."""
    # fork: a worker needs nothing but what the parent already imported, and "spawn" would
    # re-run a calling script that lacks an ``if __name__ == "__main__"`` guard.
    context: ForkContext | SpawnContext
    if "fork" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("fork")
    else:
        context = multiprocessing.get_context("spawn")
    tasks, results = context.Queue(), context.Queue()
    for index, (path, explicit) in enumerate(files):
        tasks.put((index, path, explicit))
    for _ in range(workers):
        tasks.put(None)
    processes = [
        context.Process(target=_worker, args=(job, tasks, results), daemon=True)
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    outcomes: list[_Outcome] = []
    try:
        by_index = _collect(files, report, results, processes, outcomes, progress)
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
    pending = [p for outcome in outcomes for p in outcome.pending]
    failure = next((o.error for o in outcomes if o.error is not None), None)
    if failure is not None or len(outcomes) < workers:
        discard_files(pending, [d for o in outcomes for d in o.created_dirs])
        raise _rebuild(failure)
    report.files = [by_index[i] for i in sorted(by_index)]
    report.written = [str(p) for p in commit_files(pending)]


def _collect(
    files: list[tuple[Path, bool]],
    report: IngestReport,
    results: Any,
    processes: list[Any],
    outcomes: list[_Outcome],
    progress: Progress | None,
) -> dict[int, FileReport]:
    """Read worker messages until every worker is done (or one died without a word)."""
    by_index: dict[int, FileReport] = {}
    total = sum(p.stat().st_size for p, _ in files)
    while len(outcomes) < len(processes):
        try:
            message = results.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in processes):
                break  # a worker was killed (out of memory…): the run fails below
            continue
        if message[0] == "done":
            outcomes.append(message[1])
            continue
        _, index, file_report, shard = message
        report.skipped_files.extend(shard.skipped_files)
        report.warnings_total += shard.warnings_total
        room = MAX_KEPT_WARNINGS - len(report.warnings)
        report.warnings.extend(shard.warnings[: max(room, 0)])
        path = files[index][0]
        report.bytes += path.stat().st_size
        if file_report is not None:
            by_index[index] = file_report
        if progress is not None:
            progress(path.name, report.bytes, total)
    return by_index


def _rebuild(failure: tuple[str, str, Location | None] | None) -> TocsinError:
    """The worker's error as the parent raises it (exceptions do not pickle with their
    location, so it comes back as its parts)."""
    if failure is None:
        return TocsinError("an ingest worker process died")
    kind, message, location = failure
    known: dict[str, type[TocsinError]] = {
        c.__name__: c for c in (InputError, UsageError, StoreError, TocsinError)
    }
    return known.get(kind, TocsinError)(message, location)
