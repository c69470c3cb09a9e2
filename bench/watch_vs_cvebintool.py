"""Benchmark: Tocsin against cve-bin-tool on the same inventories and the same CVE 5 ranges.

cve-bin-tool (Intel, PyPI ``cve-bin-tool``) matches vendor/product/version triples against
a SQLite database (``cve_range`` rows: a CPE vendor/product and a version or a range)
that it normally builds from NVD. Here it runs offline (``--offline``) on a database that
this script builds from the shared CVE 5 records: one ``cve_range`` row per CPE of each
CISA ADP ``affected`` entry and per version statement of that entry (``version`` with
``lessThan``/``lessThanOrEqual`` becomes ``versionStartIncluding`` and
``versionEndExcluding``/``versionEndIncluding``, a lone version an exact row,
``defaultStatus: affected`` or ``version: "*"`` every version), one ``cve_severity`` row
per CVE (the first CVSS base score, "unknown" when there is none, as cve-bin-tool's own
NVD loader writes). The schema is read from the installed cve-bin-tool itself.
cve-bin-tool's database has no place for what the CNA containers say without a CPE, for
``unaffected`` statements, ``changes`` or git ranges: those are counted, not loaded.

Both tools get the same inventory, drawn with a fixed seed from the products of the
corpus (``watch_synthetic.inventory_rows``): Tocsin reads it as a Tocsin CSV, cve-bin-tool
as an ``--input-file`` CSV with the columns vendor, product, version. Timed, median of
``--repeat`` runs each:

- cve-bin-tool: ``cve-bin-tool --offline -i inventory.csv -f json -o out.json`` (its
  database already built, as after an update), wall time of the process; its startup
  (``cve-bin-tool --version``) is shown too, and the time without it;
- Tocsin engine: in a child process, the 44,130 records parsed once and prepared once as a
  :class:`~tocsin.watch.match.corpus.Corpus` (merged, names resolved, ranges compiled: the
  counterpart of cve-bin-tool's database, each timed separately), then, timed: the
  inventory read, indexed and matched against the corpus, and the findings ranked
  (``Matcher(...).findings(corpus)``), the same work as ``tocsin watch match`` does after
  reading its sources;
- Tocsin CLI: ``tocsin watch match --inventory inventory.csv --source cve5=... --format
  jsonl``, end to end: it parses the whole CVE 5 file on every run.

Findings are compared as (CVE, vendor, product, version) pairs, with the differences
sorted into categories and a few examples of each.

cve-bin-tool must not be a dependency of Tocsin: install it into a separate venv and
name its command in TOCSIN_BENCH_CVEBINTOOL (see ``--help``).

Usage: TOCSIN_BENCH_CVEBINTOOL=/tmp/cbt-venv/bin/cve-bin-tool \\
       .venv/bin/python bench/watch_vs_cvebintool.py [--sizes 1000 5000] [--repeat 3] [--quick]
Results are kept in bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import gc
import gzip
import json
import os
import platform
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from watch_synthetic import (
    COMMIT,
    DATA,
    SEED,
    catalogue,
    cve5_path,
    inventory_rows,
    write_inventory,
)

ENV = "TOCSIN_BENCH_CVEBINTOOL"
HOW_TO_GET = f"""cve-bin-tool is not installed for this benchmark. Install it apart from Tocsin:
    python3 -m venv /tmp/cbt-venv
    /tmp/cbt-venv/bin/pip install cve-bin-tool==3.4
    export {ENV}=/tmp/cbt-venv/bin/cve-bin-tool
(It runs offline here: this script builds its database from the shared CVE 5 records.)"""
_OPEN = frozenset({"", "0", "*", "-", "n/a", "unspecified", "unknown"})
_SCHEMA_PROBE = (
    "import json; from cve_bin_tool.cvedb import CVEDB; "
    "print(json.dumps([list(CVEDB.TABLE_SCHEMAS.values()), list(CVEDB.INDEXES.values())]))"
)
_CVE_ID = re.compile(r'"cveId"\s*:\s*"([^"]+)"')
Pair = tuple[str, str, str, str]  # CVE, vendor, product, version


def _rss_self() -> int:
    scale = 1 if platform.system() == "Darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


# --- cve-bin-tool's database, from the CVE 5 ADP ranges ------------------------------------------


@dataclass
class Loaded:
    """What went into cve-bin-tool's database, and what it has no place for."""

    cves: int = 0
    rows: int = 0
    not_loaded: Counter[str] = field(default_factory=Counter)


def _is_bound(text: str | None) -> bool:
    return bool(text) and any(c.isdigit() for c in text or "") and "://" not in (text or "")


def range_rows(entry: dict[str, object], loaded: Loaded) -> Iterator[tuple[str, ...]]:
    """(version, startIncl, startExcl, endIncl, endExcl) for one ADP affected entry."""
    said = False
    for item in entry.get("versions") or ():
        status, kind = item.get("status"), (item.get("versionType") or "").lower()
        if status != "affected":
            loaded.not_loaded[f"'{status}' version statement"] += 1
            continue
        if kind == "git":
            loaded.not_loaded["git commit range"] += 1
            continue
        if item.get("changes"):
            loaded.not_loaded["'changes' inside a range (range kept, changes dropped)"] += 1
        version = str(item.get("version") or "").strip()
        upper = item.get("lessThan") or item.get("lessThanOrEqual")
        if COMMIT.match(version) or COMMIT.match(str(upper or "").strip()):
            loaded.not_loaded["git commit range written as a 'custom' version"] += 1
            continue
        said = True
        if upper is not None:
            start = "" if version.lower() in _OPEN else version
            upper = str(upper).strip()
            bound = upper if upper != "*" and _is_bound(upper) else ""
            inclusive = "lessThan" not in item
            yield ("*", start, "", bound if inclusive else "", "" if inclusive else bound)
        elif version == "*":
            yield ("*", "", "", "", "")
        elif version.lower() in _OPEN:
            loaded.not_loaded["affected without a version ('n/a', '0', …)"] += 1
        else:
            yield (version, "", "", "", "")
    if not said and entry.get("defaultStatus") == "affected":
        yield ("*", "", "", "", "")


def _severity(record: dict[str, object]) -> tuple[str, object, object, str]:
    containers = record["containers"]
    for container in (containers["cna"], *(containers.get("adp") or ())):
        for metric in container.get("metrics") or ():
            for key, version in (
                ("cvssV3_1", 3),
                ("cvssV3_0", 3),
                ("cvssV4_0", 4),
                ("cvssV2_0", 2),
            ):
                cvss = metric.get(key)
                if isinstance(cvss, dict) and cvss.get("baseScore") is not None:
                    severity = str(cvss.get("baseSeverity") or "UNKNOWN")
                    return severity, cvss["baseScore"], version, str(cvss.get("vectorString", ""))
    return "unknown", "unknown", "unknown", "unknown"


def _description(record: dict[str, object]) -> str:
    for text in record["containers"]["cna"].get("descriptions") or ():
        if str(text.get("lang", "")).lower().startswith("en"):
            return str(text.get("value") or "-")
    return "-"


def build_database(cbt: Path, cve5: Path, db_path: Path) -> Loaded:
    """cve-bin-tool's cve.db, with its own schema, from the ADP ranges of the CVE 5 records."""
    probe = subprocess.run(  # noqa: S603 - the benchmark's own tool, no shell
        [str(cbt.with_name("python")), "-c", _SCHEMA_PROBE],
        capture_output=True,
        text=True,
        check=True,
    )
    tables, indexes = json.loads(probe.stdout)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db_path.unlink(missing_ok=True)
    loaded = Loaded()
    with sqlite3.connect(db_path) as db:
        for statement in (*tables, *indexes):
            db.execute(statement)
        with gzip.open(cve5, "rt", encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                meta = record["cveMetadata"]
                if meta.get("state") != "PUBLISHED":
                    continue
                cve = meta["cveId"]
                rows = set()
                for adp in record["containers"].get("adp") or ():
                    for entry in adp.get("affected") or ():
                        cpes = [c.split(":") for c in entry.get("cpes") or ()]
                        names = {(p[3], p[4]) for p in cpes if len(p) >= 13}
                        if not names:
                            loaded.not_loaded["ADP entry without a CPE"] += 1
                            continue
                        ranges = list(range_rows(entry, loaded))
                        rows.update((cve, v, p, *r, "NVD") for v, p in names for r in ranges)
                cna = record["containers"]["cna"].get("affected") or ()
                loaded.not_loaded["CNA affected entry (no CPE; not loaded)"] += len(cna)
                if not rows:
                    continue
                severity, score, version, vector = _severity(record)
                db.execute(
                    "INSERT OR REPLACE INTO cve_severity VALUES (?,?,?,?,?,?,?,?)",
                    (
                        cve,
                        severity,
                        _description(record),
                        score,
                        version,
                        vector,
                        "NVD",
                        meta.get("dateUpdated") or meta.get("datePublished"),
                    ),
                )
                db.executemany("INSERT INTO cve_range VALUES (?,?,?,?,?,?,?,?,?)", sorted(rows))
                loaded.cves += 1
                loaded.rows += len(rows)
    return loaded


# --- running each tool ---------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    seconds: float
    peak_rss: int  # bytes
    returncode: int


def timed(command: list[str], env: dict[str, str] | None = None) -> Timed:
    """Run ``command``; its wall time and peak RSS (from wait4, this one child)."""
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=output, stderr=output)  # noqa: S603
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code < 0 or code > 200:
            output.seek(0)
            tail = output.read()[-2000:].decode("utf-8", "replace")
            raise SystemExit(f"{' '.join(command)} failed ({code}):\n{tail}")
    scale = 1 if sys.platform == "darwin" else 1024
    return Timed(seconds, usage.ru_maxrss * scale, code)


def cbt_env(home: Path) -> dict[str, str]:
    """cve-bin-tool keeps its database under ~/.cache/cve-bin-tool: a HOME of its own."""
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("nvd_api")}
    env.update(HOME=str(home), TERM="dumb", NO_COLOR="1")
    return env


def run_cbt(cbt: Path, home: Path, inventory: Path, out: Path) -> Timed:
    out.unlink(missing_ok=True)
    command = [str(cbt), "--offline", "-i", str(inventory), "-f", "json", "-o", str(out)]
    run = timed([*command, "-l", "error"], cbt_env(home))
    if not out.exists():
        raise SystemExit(f"cve-bin-tool wrote no report ({run.returncode})")
    return run


def cbt_pairs(report: Path) -> set[Pair]:
    text = report.read_text(encoding="utf-8").strip()
    items = json.loads(text) if text else []
    return {(i["cve_number"], i["vendor"], i["product"], i["version"]) for i in items}


def write_cbt_inventory(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("vendor", "product", "version"))
        writer.writerows((r["vendor"], r["product"], r["version"]) for r in rows)
    return path


def tocsin_command() -> str:
    beside = Path(sys.executable).with_name("tocsin")
    found = str(beside) if beside.exists() else shutil.which("tocsin")
    if found is None:
        raise SystemExit("cannot find the tocsin command; run: make install")
    return found


def child(inventory: Path, cve5: Path, repeat: int) -> dict[str, object]:
    """Tocsin in this process: parse once and prepare the corpus once (the counterparts of
    cve-bin-tool's database), then read + index + match + rank ``repeat`` times."""
    from tocsin.inventory.normalise import load_aliases
    from tocsin.watch.match.corpus import Corpus
    from tocsin.watch.match.engine import Matcher
    from tocsin.watch.stateless import SourceSpec, read_inventory, read_source, resolve_source

    aliases = load_aliases()
    start = time.perf_counter()
    run, advisories, enrichments = read_source(SourceSpec("cve5", cve5), resolve_source("cve5"))
    parse = time.perf_counter() - start
    start = time.perf_counter()
    corpus = Corpus(advisories, aliases)
    prepare = time.perf_counter() - start
    matching: list[float] = []
    findings: list[Any] = []
    for _ in range(repeat):
        # Each run starts as the first did (as each cve-bin-tool run is a new process):
        # the previous run's findings freed, the heap frozen as ``tocsin watch match``
        # freezes it while it matches (stateless._frozen_heap), untimed.
        findings = []
        gc.collect()
        gc.freeze()
        start = time.perf_counter()
        _, assets = read_inventory(inventory, aliases=aliases, max_bytes=1 << 30)
        matcher = Matcher(assets, aliases)
        findings = matcher.findings(corpus, enrichments=enrichments, freeze=True)
        matching.append(time.perf_counter() - start)
        gc.unfreeze()
    return {
        "parse": parse,
        "prepare": prepare,
        "match": matching,
        "peak_rss": _rss_self(),
        "profiles": matcher.profiles,
        "findings": [(f.asset, f.advisory, f.match.value, f.evidence) for f in findings],
    }


def run_child(inventory: Path, cve5: Path, repeat: int) -> dict[str, object]:
    command = [sys.executable, __file__, "--child", str(inventory), str(cve5), str(repeat)]
    done = subprocess.run(command, capture_output=True, check=True, text=True)  # noqa: S603
    return json.loads(done.stdout)


# --- the comparison -----------------------------------------------------------------------------


@dataclass
class Comparison:
    both: int
    only_tocsin: Counter[str]
    only_cbt: Counter[str]
    examples: dict[str, list[str]]
    vendors: dict[str, Counter[str]]  # category → vendors of its pairs


def _ranges(db_path: Path) -> dict[tuple[str, str, str], list[tuple[str, ...]]]:
    found: dict[tuple[str, str, str], list[tuple[str, ...]]] = defaultdict(list)
    with sqlite3.connect(db_path) as db:
        for cve, vendor, product, *rest in db.execute("SELECT * FROM cve_range"):
            found[(cve, vendor, product)].append(tuple(rest[:5]))
    return found


def _records(cve5: Path, wanted: set[str]) -> dict[str, dict[str, object]]:
    found = {}
    with gzip.open(cve5, "rt", encoding="utf-8") as lines:
        for line in lines:
            found_id = _CVE_ID.search(line)
            if found_id is not None and found_id.group(1) in wanted:
                cve = found_id.group(1)
                found[cve] = json.loads(line)
    return found


def _describe_range(row: tuple[str, ...]) -> str:
    version, si, se, ei, ee = row
    if version != "*":
        return f"= {version}"
    parts = [f">= {si}" if si else "", f"> {se}" if se else "", f"<= {ei}" if ei else ""]
    parts.append(f"< {ee}" if ee else "")
    return " ".join(p for p in parts if p) or "all versions"


def _said(record: dict[str, object], vendor: str, product: str) -> tuple[str, bool]:
    """What the containers say about the product, in a few words; whether one says unaffected."""
    containers = record["containers"]
    said, unaffected = [], False
    for container in (containers["cna"], *(containers.get("adp") or ())):
        voice = "ADP" if container is not containers["cna"] else "CNA"
        for entry in container.get("affected") or ():
            folded = str(entry.get("product", "")).lower().replace(" ", "_")
            if not folded or (product not in folded and folded not in product):
                continue
            words = []
            for item in entry.get("versions") or ():
                bound = item.get("lessThan") or item.get("lessThanOrEqual") or ""
                words.append(f"{item.get('status')} {item.get('version')} {bound}".strip())
                unaffected = unaffected or item.get("status") == "unaffected"
            words.append(f"default {entry.get('defaultStatus')}")
            said.append(f"{voice}: " + "; ".join(words))
    return (" | ".join(said) or f"no container names {vendor}/{product}"), unaffected


def _trailing_zeros(version: str, bound: str) -> bool:
    """``3.21`` against ``3.21.0``: equal once the shorter is padded with zeros."""
    if not bound or bound == "*" or version == bound:
        return False
    short, long_ = sorted((version, bound), key=len)
    return long_.startswith(short) and set(long_[len(short) :]) <= {".", "0"}


def _tocsin_category(
    kind: str, evidence: str, pair: Pair, known: list[tuple[str, ...]] | None
) -> str:
    _, vendor, product, version = pair
    adp = evidence.startswith(f"{vendor} {product}")  # CISA ADP writes the CPE names
    if kind == "name-only":
        return "name-only: no version statement Tocsin can compare (confidence ≤ 0.5)"
    if "defaultStatus: affected" in evidence:
        voice = "CISA ADP" if adp else "CNA"
        return f"{voice} defaultStatus 'affected': every version outside the listed ones"
    if not known:
        return "a range in the CNA container only (no CISA ADP CPE for this CVE and product)"
    if any(row[0] != "*" and _trailing_zeros(version, row[0]) for row in known):
        return "exact version written with or without '.0' (6 / 6.0): cve-bin-tool compares strings"
    if not adp:
        return "the CNA's range differs from CISA ADP's (Tocsin takes every voice)"
    return "same ADP range, versions compared differently"


def compare(
    tocsin: list[list[object]],
    rows: dict[str, dict[str, str]],
    cbt: set[Pair],
    db_path: Path,
    cve5: Path,
) -> Comparison:
    """Pairs found by both and by one tool, the differences sorted into categories."""
    kinds: dict[Pair, str] = {}
    evidence: dict[Pair, str] = {}
    for asset, advisory, kind, said in tocsin:
        row = rows[str(asset)]
        pair = (str(advisory), row["vendor"], row["product"], row["version"])
        kinds[pair], evidence[pair] = str(kind), str(said)  # assets of one row agree
    ours = set(kinds)
    ranges = _ranges(db_path)
    records = _records(cve5, {p[0] for p in ours ^ cbt})
    only_tocsin: Counter[str] = Counter()
    only_cbt: Counter[str] = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    vendors: dict[str, Counter[str]] = defaultdict(Counter)
    for pair in sorted(ours - cbt):
        cve, vendor, product, version = pair
        known = ranges.get((cve, vendor, product))
        category = _tocsin_category(kinds[pair], evidence[pair], pair, known)
        only_tocsin[category] += 1
        vendors[category][vendor] += 1
        if len(examples[category]) < 6:
            said = ", ".join(_describe_range(r) for r in known or ())
            examples[category].append(
                f"{cve} {vendor}/{product} {version} — Tocsin: {evidence[pair]}"
                f" — cve-bin-tool rows: {said or 'none'}"
            )
    for pair in sorted(cbt - ours):
        cve, vendor, product, version = pair
        record = records.get(cve, {"containers": {"cna": {}}})
        cna, unaffected = _said(record, vendor, product)
        known = ranges.get((cve, vendor, product), ())
        if unaffected:
            category = "a container lists unaffected versions (Tocsin lets them win)"
        elif any(_trailing_zeros(version, bound) for row in known for bound in row[1:]):
            category = "trailing zeros: cve-bin-tool puts 3.21 before 3.21.0, Tocsin equal"
        elif any(b[:1] in "vV" and b[1:2].isdigit() for row in known for b in row):
            category = "a 'v' in a bound (v4.20-rc1): cve-bin-tool puts letters before numbers"
        elif any(c.isalpha() for c in version):
            category = "letters in the version (22.4R3-S3, 2.1.0p48): the schemes differ"
        else:
            category = "versions compared differently"
        only_cbt[category] += 1
        vendors[category][vendor] += 1
        if len(examples[category]) < 6:
            said = ", ".join(_describe_range(r) for r in known)
            examples[category].append(
                f"{cve} {vendor}/{product} {version} — cve-bin-tool rows: {said} — {cna}"
            )
    return Comparison(len(ours & cbt), only_tocsin, only_cbt, dict(examples), dict(vendors))


# --- the benchmark ------------------------------------------------------------------------------


@dataclass
class SizeResult:
    size: int
    rows: int
    cbt: list[Timed]
    cbt_startup: list[Timed]
    engine: dict[str, object]
    cli: list[Timed]
    cbt_findings: int
    tocsin_findings: int
    comparison: Comparison


def run_size(args: argparse.Namespace, cbt: Path, work: Path, size: int) -> SizeResult:
    rows = inventory_rows(args.products, size, args.seed)
    tocsin_csv = write_inventory(work / f"tocsin-{size}.csv", rows)
    cbt_csv = write_cbt_inventory(work / f"cbt-{size}.csv", rows)
    report = work / f"cbt-{size}.json"
    console = args.console
    console.print(f"[{size:,} rows] cve-bin-tool ×{args.repeat}…")
    startups = [timed([str(cbt), "--version"], cbt_env(work)) for _ in range(args.repeat)]
    cbt_runs = [run_cbt(cbt, work, cbt_csv, report) for _ in range(args.repeat)]
    found_cbt = cbt_pairs(report)
    console.print(f"[{size:,} rows] Tocsin engine ×{args.repeat}…")
    engine = run_child(tocsin_csv, args.cve5, args.repeat)
    console.print(f"[{size:,} rows] tocsin watch match ×{args.cli_repeat}…")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    env.update(TOCSIN_HOME=str(work / "home"), TERM="dumb")
    command = [tocsin_command(), "watch", "match", "--inventory", str(tocsin_csv)]
    command += ["--source", f"cve5={args.cve5}", "--format", "jsonl"]
    cli = [timed(command, env) for _ in range(args.cli_repeat)]
    by_id = {row["id"]: row for row in rows}
    comparison = compare(engine["findings"], by_id, found_cbt, args.db, args.cve5)
    return SizeResult(
        size,
        len(rows),
        cbt_runs,
        startups,
        engine,
        cli,
        len(found_cbt),
        len(engine["findings"]),
        comparison,
    )


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def render(console: Console, results: list[SizeResult], loaded: Loaded, build: float) -> None:
    table = Table(title="Tocsin and cve-bin-tool, same inventory, same CVE 5 ranges (median)")
    table.add_column("rows", justify="right")
    for column in ("what is timed", "seconds", "peak RSS", "cve-bin-tool ÷ this"):
        table.add_column(column, justify="left" if column == "what is timed" else "right")
    for r in results:
        cbt = _median([t.seconds for t in r.cbt])
        startup = _median([t.seconds for t in r.cbt_startup])
        engine = _median(r.engine["match"])
        cli = _median([t.seconds for t in r.cli])
        lines = (
            ("cve-bin-tool --offline -i (process)", cbt, _median([t.peak_rss for t in r.cbt])),
            ("cve-bin-tool minus its startup", cbt - startup, None),
            ("Tocsin: read, index, match, rank (corpus prepared)", engine, r.engine["peak_rss"]),
            ("Tocsin: prepare the corpus (once, like the database)", r.engine["prepare"], None),
            ("Tocsin: parse the 44,130 records (once)", r.engine["parse"], None),
            ("tocsin watch match (CLI, parses)", cli, _median([t.peak_rss for t in r.cli])),
        )
        for label, seconds, rss in lines:
            table.add_row(
                f"{r.size:,}",
                label,
                f"{seconds:.2f}",
                f"{rss / 2**20:,.0f} MiB" if rss else "—",
                f"{cbt / seconds:.1f}×" if "read, index" in label or "CLI" in label else "—",
            )
    console.print(table)
    found = Table(title="findings: (CVE, vendor, product, version) pairs")
    for column in ("rows", "cve-bin-tool", "Tocsin", "both", "only Tocsin", "only cve-bin-tool"):
        found.add_column(column, justify="right")
    for r in results:
        c = r.comparison
        ours = c.both + sum(c.only_tocsin.values())
        theirs = c.both + sum(c.only_cbt.values())
        found.add_row(
            f"{r.size:,}",
            f"{theirs:,}",
            f"{ours:,}",
            f"{c.both:,}",
            f"{sum(c.only_tocsin.values()):,}",
            f"{sum(c.only_cbt.values()):,}",
        )
    console.print(found)
    for r in results:
        why = Table(title=f"the differences, {r.size:,} rows")
        why.add_column("found by")
        why.add_column("why", overflow="fold")
        why.add_column("pairs", justify="right")
        why.add_column("top vendors", overflow="fold")
        for who, counts in (
            ("Tocsin only", r.comparison.only_tocsin),
            ("cve-bin-tool only", r.comparison.only_cbt),
        ):
            for category, count in counts.most_common():
                top = r.comparison.vendors[category].most_common(4)
                why.add_row(who, category, f"{count:,}", ", ".join(f"{v} {n:,}" for v, n in top))
        console.print(why)
        for category, lines in r.comparison.examples.items():
            console.print(f"[bold]{category}[/]")
            for line in lines:
                console.print(f"  {line}", overflow="fold")
    console.print(
        f"cve-bin-tool database: {loaded.cves:,} CVEs, {loaded.rows:,} cve_range rows, "
        f"built in {build:.1f} s; not loaded: "
        + ", ".join(f"{why} {n:,}" for why, n in loaded.not_loaded.most_common())
    )
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    console.print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average at the end {load}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=HOW_TO_GET,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cli-repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--quick", action="store_true", help="200 rows, one run of each")
    parser.add_argument("--child", nargs=3, metavar=("INVENTORY", "CVE5", "REPEAT"))
    args = parser.parse_args()
    if args.child:
        inventory, cve5, repeat = args.child
        print(json.dumps(child(Path(inventory), Path(cve5), int(repeat))))
        return 0
    if args.quick:
        args.sizes, args.repeat, args.cli_repeat = [200], 1, 1
    console = Console(width=max(120, Console().width))
    cbt = Path(os.environ.get(ENV, ""))
    if not os.environ.get(ENV) or not cbt.is_file():
        console.print(HOW_TO_GET)
        return 0
    args.cve5 = cve5_path(args.data)
    if not args.cve5.exists():
        console.print(f"[yellow]skipped: the shared data is absent ({args.cve5})[/]")
        return 0
    args.console = console
    with tempfile.TemporaryDirectory(prefix="tocsin-vs-cbt-") as folder:
        work = Path(folder)
        args.db = work / ".cache" / "cve-bin-tool" / "cve.db"
        console.print("building cve-bin-tool's database from the CVE 5 ADP ranges…")
        start = time.perf_counter()
        loaded = build_database(cbt, args.cve5, args.db)
        build = time.perf_counter() - start
        args.products = catalogue(args.cve5)
        results = [run_size(args, cbt, work, size) for size in args.sizes]
        render(console, results, loaded, build)
    return 0


if __name__ == "__main__":
    sys.exit(main())
