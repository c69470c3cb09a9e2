"""Benchmark: how the stateless match grows with the inventory and with the corpus.

Inventories of 1,000, 10,000 and 100,000 assets (``watch_synthetic.inventory_rows``:
products of the corpus weighted by their CVE count, versions near the stated bounds,
fixed seed) are matched in-process, as ``tocsin watch match`` does, against:

- real: the whole shared corpus, CVE 5 (44,130 records) + CERT-FR (16,538 avis) + CSAF
  (144 ICSMA + 2,241 other CISA documents) + CISA KEV;
- synthetic: an NVD-sized CVE 5 corpus (400,000 records, ``watch_synthetic.corpus_file``,
  written once under build/bench/ and reused).

Each (corpus, size) runs in a child process of its own, so that its peak RSS is its own.
Timed in the child: reading the inventory, parsing the sources (the same whatever the
size), preparing the corpus once (``Corpus``: merging, resolving names, compiling ranges;
it does not depend on the inventory either), indexing the inventory (``Matcher``), and
matching against the prepared corpus (the advisories that state one of the inventory's
keys, each finding ranked, one final sort). A child still running after ``--timeout``
seconds is stopped and reported as such (no match time).

Usage: .venv/bin/python bench/watch_scale.py [--sizes 1000 10000 100000]
       [--corpora real synthetic] [--timeout 900] [--quick]
Results are kept in bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import selectors
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from watch_synthetic import (
    DATA,
    NVD_SIZE,
    SEED,
    catalogue,
    corpus_file,
    cve5_path,
    inventory_rows,
    write_inventory,
)

REAL = (
    ("cve5", ("watch", "vulnrichment", "cve5-records.jsonl.gz")),
    ("certfr", ("watch", "certfr", "avis.jsonl.gz")),
    ("csaf", ("watch", "csaf")),
    ("kev", ("watch", "kev", "known_exploited_vulnerabilities.json")),
)


def _rss() -> int:
    scale = 1 if platform.system() == "Darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _report(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def child(inventory: Path, specs: list[str]) -> None:
    """One (corpus, size) in this process; progress and the result as JSON lines."""
    from tocsin.inventory.normalise import load_aliases
    from tocsin.model.advisory import Advisory, Exploitation
    from tocsin.watch.match.corpus import Corpus
    from tocsin.watch.match.engine import Matcher
    from tocsin.watch.match.merge import combine_exploitation
    from tocsin.watch.stateless import SourceSpec, read_inventory, read_source, resolve_source

    aliases = load_aliases()
    base = _rss()
    start = time.perf_counter()
    _, assets = read_inventory(inventory, aliases=aliases, max_bytes=1 << 30)
    read = time.perf_counter() - start
    start = time.perf_counter()
    advisories: list[Advisory] = []
    enrichments: dict[str, Exploitation] = {}
    skipped = 0
    for text in specs:
        spec = SourceSpec.parse(text)
        run, found, enriched = read_source(spec, resolve_source(spec.kind))
        advisories.extend(found)
        skipped += len(run.report.skipped)
        for cve, exploitation in enriched.items():
            known = enrichments.get(cve)
            both = (known, exploitation)
            enrichments[cve] = exploitation if known is None else combine_exploitation(both)
    parse = time.perf_counter() - start
    parsed_rss = _rss()
    _report(step="parsed", advisories=len(advisories), seconds=parse)
    start = time.perf_counter()
    corpus = Corpus(advisories, aliases)
    prepare = time.perf_counter() - start
    _report(step="prepared", advisories=len(corpus), seconds=prepare, rss=_rss())
    gc.freeze()  # as ``tocsin watch match`` does while it matches (stateless._frozen_heap)
    start = time.perf_counter()
    matcher = Matcher(assets, aliases)
    index = time.perf_counter() - start
    start = time.perf_counter()
    findings = matcher.findings(corpus, enrichments=enrichments)
    match = time.perf_counter() - start
    kinds: dict[str, int] = {}
    for finding in findings:
        kinds[finding.match.value] = kinds.get(finding.match.value, 0) + 1
    _report(
        step="done",
        assets=len(assets),
        profiles=matcher.profiles,
        advisories=len(corpus),
        skipped=skipped,
        findings=len(findings),
        kinds=kinds,
        read=read,
        parse=parse,
        prepare=prepare,
        index=index,
        match=match,
        base_rss=base,
        parsed_rss=parsed_rss,
        peak_rss=_rss(),
    )


@dataclass
class Result:
    corpus: str
    size: int
    done: dict[str, object] = field(default_factory=dict)
    parsed: dict[str, object] = field(default_factory=dict)
    prepared: dict[str, object] = field(default_factory=dict)
    progress: dict[str, object] = field(default_factory=dict)
    wall: float = 0.0
    timed_out: bool = False
    peak_rss: int = 0  # bytes: VmHWM when stopped, else the child's own report


def _vm_hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_child(corpus: str, size: int, inventory: Path, specs: list[str], timeout: float) -> Result:
    command = [sys.executable, __file__, "--child", str(inventory), *specs]
    result = Result(corpus, size)
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    while True:
        left = timeout - (time.perf_counter() - start)
        if left <= 0:
            result.timed_out = True
            result.peak_rss = _vm_hwm(process.pid)
            process.kill()
            break
        if not selector.select(timeout=min(left, 5.0)):
            continue
        line = process.stdout.readline()
        if not line:
            break
        report = json.loads(line)
        step = report.pop("step")
        setattr(result, step, report)
    process.wait()
    result.wall = time.perf_counter() - start
    if not result.timed_out:
        if process.returncode != 0 or not result.done:
            raise SystemExit(f"the {corpus} × {size} child failed ({process.returncode})")
        result.peak_rss = int(result.done["peak_rss"])
    return result


def _fmt_seconds(value: float | None, estimated: bool = False) -> str:
    if value is None:
        return "—"
    return f"{'≈' if estimated else ''}{value:,.1f} s"


def match_seconds(result: Result) -> tuple[float | None, bool]:
    """The match time, or its extrapolation from the progress of a stopped child."""
    if result.done:
        return float(result.done["match"]), False
    p = result.progress
    if p and p.get("done"):
        # every advisory matched: measured, only the final sort is missing
        return float(p["seconds"]) * float(p["total"]) / float(p["done"]), p["done"] < p["total"]
    return None, True


def render(console: Console, results: list[Result]) -> None:
    table = Table(title="tocsin watch match in-process: cost by inventory size and corpus")
    columns = (
        "corpus", "assets", "profiles", "advisories", "parse", "prepare", "index", "match",
        "findings", "peak RSS", "match ×", "RSS ×",
    )  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column == "corpus" else "right")
    previous: dict[str, Result] = {}
    for r in results:
        seconds, estimated = match_seconds(r)
        done = r.done
        before = previous.get(r.corpus)
        growth = rss_growth = "—"
        if before is not None and seconds is not None:
            earlier, _ = match_seconds(before)
            if earlier:
                growth = f"{seconds / earlier:.1f}×"
            if before.peak_rss:
                rss_growth = f"{r.peak_rss / before.peak_rss:.1f}×"
        parse = done.get("parse") if done else r.parsed.get("seconds")
        advisories = done.get("advisories") if done else r.progress.get("total")
        findings = f"{done['findings']:,}" if done else f"≥{r.progress.get('findings', 0):,}"
        table.add_row(
            r.corpus,
            f"{r.size:,}",
            f"{done['profiles']:,}" if done else "—",
            f"{advisories:,}" if advisories else "—",
            _fmt_seconds(parse),
            _fmt_seconds(done.get("prepare") if done else r.prepared.get("seconds")),
            _fmt_seconds(done.get("index") if done else None),
            _fmt_seconds(seconds, estimated) + ("" if done or estimated else " +sort"),
            findings,
            f"{r.peak_rss / 2**20:,.0f} MiB",
            growth,
            rss_growth,
        )
        previous[r.corpus] = r
    console.print(table)
    for r in results:
        if r.timed_out:
            p = r.progress
            console.print(
                f"{r.corpus} × {r.size:,}: stopped after {r.wall:,.0f} s with "
                f"{p.get('done', 0):,} of {p.get('total', '?'):,} advisories matched "
                f"({p.get('findings', 0):,} findings so far); the match time is "
                + (
                    "extrapolated (≈)"
                    if p.get("done") != p.get("total")
                    else "without the final sort"
                )
            )
        elif r.done:
            console.print(f"{r.corpus} × {r.size:,}: findings by kind {r.done['kinds']}")
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    console.print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average at the end {load}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--corpora", nargs="+", default=["real", "synthetic"])
    parser.add_argument("--synthetic-count", type=int, default=NVD_SIZE)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per child")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--quick", action="store_true", help="200 and 1,000 assets, 20,000 CVEs")
    parser.add_argument("--child", nargs="+", metavar="ARG")
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1:])
        return 0
    if args.quick:
        args.sizes, args.synthetic_count = [200, 1_000], 20_000
    console = Console(width=max(120, Console().width))
    cve5 = cve5_path(args.data)
    if not cve5.exists():
        console.print(f"[yellow]skipped: the shared data is absent ({cve5})[/]")
        return 0
    corpora: dict[str, list[str]] = {}
    if "real" in args.corpora:
        kinds = REAL[:1] if args.quick else REAL
        corpora["real"] = [f"{kind}={args.data.joinpath(*parts)}" for kind, parts in kinds]
    if "synthetic" in args.corpora:
        console.print(f"synthetic corpus of {args.synthetic_count:,} CVE 5 records…")
        corpora["synthetic"] = [f"cve5={corpus_file(args.synthetic_count, args.seed)}"]
    products = catalogue(cve5)
    results = []
    with tempfile.TemporaryDirectory(prefix="tocsin-scale-") as folder:
        for size in args.sizes:
            rows = inventory_rows(products, size, args.seed)
            inventory = write_inventory(Path(folder) / f"inventory-{size}.csv", rows)
            for corpus, specs in corpora.items():
                console.print(f"{corpus} × {size:,} assets…")
                results.append(run_child(corpus, size, inventory, specs, args.timeout))
    results.sort(key=lambda r: (list(corpora).index(r.corpus), r.size))
    render(console, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
