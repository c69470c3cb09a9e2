"""Benchmark: parsing the shared watch data with the cve5 and kev sources.

Each run is a fresh child process that reads every document of one file through
``iter_documents`` and the source's ``parse``, so that its peak RSS is its own:

- stream: records are counted and dropped (what ``watch match`` needs at most per record);
- keep: every record is kept in a list (what an ingest holds before its one transaction).

Reported per file and mode: documents, records, skips, the median of the runs' parse times,
records per second, and the peak RSS of the child above its RSS after imports.

Usage: .venv/bin/python bench/watch_parse.py [--repeat 3] [--data ../shared/data]
Results are kept in bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

DATA = Path(
    os.environ.get("TOCSIN_SHARED_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
FILES = (
    ("cve5", ("watch", "vulnrichment", "cve5-records.jsonl.gz")),
    ("kev", ("watch", "kev", "known_exploited_vulnerabilities.json")),
)
MODES = ("stream", "keep")


@dataclass(frozen=True)
class Run:
    documents: int
    records: int
    skips: int
    seconds: float
    base_rss: int  # bytes, after imports
    peak_rss: int  # bytes


def _rss() -> int:
    scale = 1 if platform.system() == "Darwin" else 1024  # ru_maxrss: bytes on macOS, KiB here
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def child(kind: str, path: Path, keep: bool) -> Run:
    """One parse of one file, in this process."""
    from tocsin.watch.sources.base import ParseReport, get_source, iter_documents

    source = get_source(kind)
    gc.collect()
    base = _rss()
    report = ParseReport(kind)
    kept: list[object] = []
    documents = records = 0
    start = time.perf_counter()
    for document in iter_documents(path):
        documents += 1
        for record in source.parse(document.raw, document.origin, report):
            records += 1
            if keep:
                kept.append(record)
    seconds = time.perf_counter() - start
    return Run(documents, records, len(report.skipped), seconds, base, _rss())


def run_child(kind: str, path: Path, mode: str) -> Run:
    command = [sys.executable, __file__, "--child", kind, str(path), mode]
    done = subprocess.run(command, capture_output=True, check=True, text=True)
    return Run(**json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "PATH", "MODE"))
    args = parser.parse_args()
    if args.child:
        kind, path, mode = args.child
        _register_bundled()
        print(json.dumps(child(kind, Path(path), mode == "keep").__dict__))
        return
    console = Console(width=120)
    machine = f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    table = Table(title=f"watch parse, median of {args.repeat} runs ({machine})")
    for column in ("source", "mode", "documents", "records", "skips", "seconds", "records/s"):
        table.add_column(column, justify="left" if column in ("source", "mode") else "right")
    table.add_column("peak RSS over base", justify="right")
    for kind, parts in FILES:
        path = args.data.joinpath(*parts)
        if not path.exists():
            console.print(f"[yellow]skipped {kind}: {path} is absent[/]")
            continue
        for mode in MODES:
            runs = [run_child(kind, path, mode) for _ in range(args.repeat)]
            seconds = statistics.median(r.seconds for r in runs)
            memory = statistics.median(r.peak_rss - r.base_rss for r in runs)
            first = runs[0]
            table.add_row(
                kind,
                mode,
                f"{first.documents:,}",
                f"{first.records:,}",
                f"{first.skips:,}",
                f"{seconds:.2f}",
                f"{first.records / seconds:,.0f}",
                f"{memory / 2**20:,.0f} MiB",
            )
    console.print(table)


def _register_bundled() -> None:
    """Import the source modules so that they register (until the package imports them)."""
    import tocsin.watch.sources.cve5
    import tocsin.watch.sources.kev  # noqa: F401


if __name__ == "__main__":
    main()
