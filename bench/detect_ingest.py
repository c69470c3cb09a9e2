"""Ingest rate alone: the EVTX attack samples re-read until ≥ 1,000,000 events.

Usage: .venv/bin/python bench/detect_ingest.py [--events 1000000] [--runs 3] [--workers N]
Each run ingests into a fresh temporary store in a child process, so that its peak RSS
(ru_maxrss, the largest process: with workers, the parent or one worker) is the ingest's
own. Prints a table; the median of the runs is the result. ``events_per_copy`` and
``replicate`` are shared with bench/detect_vs_zircolite.py.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "data" / "detect" / "evtx-attack-samples"


def events_per_copy() -> int:
    """Records in one copy of the attack samples (8,255)."""
    from evtx import PyEvtxParser

    return sum(sum(1 for _ in PyEvtxParser(str(f)).records_json()) for f in SAMPLES.rglob("*.evtx"))


def replicate(folder: Path, copies: int) -> Path:
    """``copies`` copies of the samples under ``folder`` (``c001/…``), made once."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(1, copies + 1):
        target = folder / f"c{number:03d}"
        if not target.is_dir():
            shutil.copytree(SAMPLES, target)
    return folder


def child(copies: int, workers: int) -> None:
    from tocsin.detect.ingest import ingest

    files = sorted(SAMPLES.rglob("*.evtx"))
    with tempfile.TemporaryDirectory() as store:
        report = ingest(files * copies, Path(store), workers=workers)
    peak_kib = max(
        resource.getrusage(who).ru_maxrss
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    print(json.dumps({"events": report.events, "seconds": report.seconds, "rss_kib": peak_kib}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.workers)
        return
    if not SAMPLES.is_dir():
        sys.exit(f"shared data missing: {SAMPLES}")
    per_copy = events_per_copy()
    copies = -(-args.events // per_copy)
    results = []
    for _ in range(args.runs):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(copies), "--workers", str(args.workers)],
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{per_copy:,} events per copy of the samples, {copies} copies, {args.workers} workers")
    print(f"{'run':>4} {'events':>10} {'seconds':>8} {'events/s':>10} {'peak RSS MiB':>13}")
    for i, r in enumerate(results, 1):
        rate, rss_mib = r["events"] / r["seconds"], r["rss_kib"] / 1024
        print(f"{i:>4} {r['events']:>10,} {r['seconds']:>8.1f} {rate:>10,.0f} {rss_mib:>13.0f}")
    rate = statistics.median(r["events"] / r["seconds"] for r in results)
    rss = statistics.median(r["rss_kib"] for r in results) / 1024
    print(f"median: {rate:,.0f} events/s, peak RSS {rss:,.0f} MiB")


if __name__ == "__main__":
    main()
