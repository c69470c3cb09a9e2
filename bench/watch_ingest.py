"""Benchmark: loading all of the shared watch data into the store.

Each repeat is a fresh child process with a fresh database (a SQLite file in a temporary
folder, or a new PostgreSQL schema with ``--database-url``), migrated beforehand. The
child loads each feed the way ``tocsin watch update --from DIR`` does, through the
store service's public ``load_advisories`` (one transaction per feed), in this order:

- cve5: 44,130 CVE JSON 5 records (vulnrichment);
- certfr: 16,538 CERT-FR avis;
- csaf: 144 ICSMA files and 2,241 other CISA CSAF documents;
- kev: the CISA KEV catalogue (advisories and exploitation enrichments).

Then it loads the same files a second time (``reload``: every record already there, as a
daily update that finds nothing new). Reported per feed: documents, records inserted,
updated and skipped, the median time of the repeats, and the same feed parsed without a
store (``parse only``, in a child of its own so that neither run warms the other's
caches) to show what the store adds. The peak RSS is each child's (``ru_maxrss``), the
size is that of the SQLite file.

Usage: .venv/bin/python bench/watch_ingest.py [--repeat 3] [--quick]
       [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
Results are kept in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

from rich.console import Console
from rich.table import Table

from inventory_import import fresh_database
from watch_synthetic import DATA

FEEDS = (
    ("cve5", ("watch", "vulnrichment", "cve5-records.jsonl.gz")),
    ("certfr", ("watch", "certfr", "avis.jsonl.gz")),
    ("csaf", ("watch", "csaf")),
    ("kev", ("watch", "kev", "known_exploited_vulnerabilities.json")),
)
QUICK_DOCUMENTS = 2_000


def _rss() -> int:
    scale = 1 if platform.system() == "Darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def child(mode: str, url: str, data: Path, limit: int | None) -> dict[str, object]:
    """``parse``: every feed parsed, no store; ``load``: loaded, then loaded again."""
    from tocsin.store.db import open_database
    from tocsin.watch.service import load_advisories
    from tocsin.watch.sources import ParseReport, get_source, iter_documents

    def documents(parts: tuple[str, ...]):  # noqa: ANN202 - a generator of Documents
        return islice(iter_documents(data.joinpath(*parts)), limit)

    out: dict[str, dict[str, object]] = {kind: {} for kind, _ in FEEDS}
    if mode == "parse":
        base = _rss()
        for kind, parts in FEEDS:
            source, report = get_source(kind), ParseReport(kind)
            start = time.perf_counter()
            records = 0
            for document in documents(parts):
                records += sum(1 for _ in source.parse(document.raw, document.origin, report))
            out[kind] = {"parse": time.perf_counter() - start, "records": records}
        return {"feeds": out, "base_rss": base, "peak_rss": _rss(), "size": 0}
    database = open_database(url)
    base = _rss()
    for step in ("load", "reload"):
        for kind, parts in FEEDS:
            start = time.perf_counter()
            report = load_advisories(database, {kind: documents(parts)})
            seconds = time.perf_counter() - start
            loads = getattr(report, "feeds", None) or report.sources
            load = loads[0]
            if load.error:
                raise SystemExit(f"{kind}: {load.error}")
            out[kind][step] = seconds
            out[kind][f"{step}_counts"] = load.counts()
    database.dispose()
    size = 0
    if url.startswith("sqlite:///"):
        size = Path(url.removeprefix("sqlite:///")).stat().st_size
    return {"feeds": out, "base_rss": base, "peak_rss": _rss(), "size": size}


def run_child(mode: str, url: str, data: Path, limit: int | None) -> dict[str, object]:
    command = [sys.executable, __file__, "--child", mode, url, str(data), str(limit or 0)]
    done = subprocess.run(command, capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"the ingest child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def one_repeat(url: str, data: Path, limit: int | None) -> dict[str, object]:
    """A parse-only child and a load child (each with cold caches), merged."""
    parsed = run_child("parse", url, data, limit)
    loaded = run_child("load", url, data, limit)
    for kind, values in parsed["feeds"].items():
        loaded["feeds"][kind].update(values)
    loaded["parse_peak_rss"] = parsed["peak_rss"]
    return loaded


def render(
    console: Console, runs: list[dict[str, object]], backend: str, limit: int | None
) -> None:
    what = f"first {limit:,} documents of each feed" if limit else "all of ../shared/data/watch"
    table = Table(title=f"watch ingest: {what}, {backend}, median of {len(runs)}")
    columns = (
        "feed", "documents", "inserted", "enrich.", "skipped", "parse only", "load",
        "load ÷ parse", "records/s", "reload", "reload: updated",
    )  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column == "feed" else "right")
    totals = {"parse": 0.0, "load": 0.0, "reload": 0.0}
    for kind, _ in FEEDS:
        feeds = [run["feeds"][kind] for run in runs]
        median = {s: statistics.median(f[s] for f in feeds) for s in totals}
        for step, value in median.items():
            totals[step] += value
        counts, again = feeds[0]["load_counts"], feeds[0]["reload_counts"]
        table.add_row(
            kind,
            f"{counts['documents']:,}",
            f"{counts['inserted']:,}",
            f"{counts['enrichments']:,}",
            f"{counts['skipped']:,}",
            f"{median['parse']:.1f} s",
            f"{median['load']:.1f} s",
            f"{median['load'] / median['parse']:.2f}×",
            f"{feeds[0]['records'] / median['load']:,.0f}",
            f"{median['reload']:.1f} s",
            f"{again['updated']:,}",
        )
    table.add_row(
        "all", "", "", "", "",
        f"{totals['parse']:.1f} s", f"{totals['load']:.1f} s",
        f"{totals['load'] / totals['parse']:.2f}×", "", f"{totals['reload']:.1f} s", "",
    )  # fmt: skip
    console.print(table)
    peak = statistics.median(int(r["peak_rss"]) for r in runs)
    parse_peak = statistics.median(int(r["parse_peak_rss"]) for r in runs)
    base = statistics.median(int(r["base_rss"]) for r in runs)
    size = statistics.median(int(r["size"]) for r in runs)
    console.print(
        f"peak RSS of the load {peak / 2**20:,.0f} MiB ({base / 2**20:,.0f} MiB after imports "
        f"and migrations), of the parse only {parse_peak / 2**20:,.0f} MiB"
        + (f"; SQLite file {size / 2**20:,.0f} MiB" if size else "")
    )
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    console.print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average at the end {load}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite per repeat)")
    parser.add_argument("--quick", action="store_true", help="2,000 documents a feed, 1 run")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "URL", "DATA", "LIMIT"))
    args = parser.parse_args()
    if args.child:
        mode, url, data, limit = args.child
        print(json.dumps(child(mode, url, Path(data), int(limit) or None)))
        return 0
    console = Console(width=max(120, Console().width))
    missing = [kind for kind, parts in FEEDS if not args.data.joinpath(*parts).exists()]
    if missing:
        console.print(f"[yellow]skipped: shared data absent for {', '.join(missing)}[/]")
        return 0
    limit = QUICK_DOCUMENTS if args.quick else None
    repeat = 1 if args.quick else args.repeat
    runs = []
    for number in range(repeat):
        console.print(f"repeat {number + 1}/{repeat}…")
        with (
            tempfile.TemporaryDirectory(prefix="tocsin-ingest-") as folder,
            fresh_database(args.database_url, Path(folder)) as url,
        ):
            runs.append(one_repeat(url, args.data, limit))
    render(console, runs, "PostgreSQL" if args.database_url else "SQLite", limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
