"""Sigma rules over EVTX: Tocsin (`tocsin detect run`) side by side with Zircolite.

Usage:
  TOCSIN_BENCH_ZIRCOLITE=/tmp/zircolite/zircolite.py \\
  TOCSIN_BENCH_ZIRCOLITE_PYTHON=/tmp/zirc-venv/bin/python \\
  .venv/bin/python bench/detect_vs_zircolite.py [--events 1000000] [--runs 3]
      [--zircolite-runs 1] [--scaling [--scaling-runs 1]] [--work /tmp/tocsin-bench]
      [--skip-zircolite]

Rules: the SigmaHQ Windows rules of ../shared/data/detect/sigma (rules/windows and
rules-threat-hunting/windows), YAML for Tocsin; for Zircolite the same folders converted
once by Zircolite itself (pySigma SQLite backend, pipelines ``sysmon`` and
``windows-logsources``, as its docs build its Sysmon ruleset), cached in --work.
Logs: the 277 EVTX attack samples copied into --work until >= --events events.
Each tool is a child process; wall time, CPU time (user + sys of the child and its
waited-for children) and peak RSS (ru_maxrss of os.wait4: the largest single process)
are measured; the median of the runs is reported. Also: which rules fire on the samples
(once, un-replicated) in each tool; Tocsin's ingest alone; with --scaling, Tocsin's time
for a quarter, half… of the events and of the rules.

Getting Zircolite (nothing of it is committed):
  git clone https://github.com/wagga40/Zircolite /tmp/zircolite
  python3.11 -m venv /tmp/zirc-venv
  /tmp/zirc-venv/bin/pip install -r /tmp/zircolite/requirements.txt
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from detect_ingest import SAMPLES, events_per_copy, replicate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SIGMA = ROOT.parent / "shared" / "data" / "detect" / "sigma"
RULE_DIRS = (SIGMA / "rules" / "windows", SIGMA / "rules-threat-hunting" / "windows")
TOCSIN = ROOT / ".venv" / "bin" / "tocsin"


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mib: float


def timed(command: list[str], out: Path, cwd: Path | None = None) -> Run:
    """Run ``command`` (stdout to ``out``, stderr beside it) and measure it with wait4."""
    started = time.perf_counter()
    with out.open("wb") as stdout, out.with_suffix(".err").open("wb") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, cwd=cwd)  # noqa: S603
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit(f"failed ({status}): {' '.join(command)}; see {out.with_suffix('.err')}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def median(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.wall for r in runs),
        statistics.median(r.cpu for r in runs),
        statistics.median(r.rss_mib for r in runs),
    )


def tocsin_command(logs: Path, rule_dirs: tuple[Path, ...] = RULE_DIRS) -> list[str]:
    rules = [a for d in rule_dirs for a in ("--rules", str(d))]
    return [str(TOCSIN), "detect", "run", *rules, "--logs", str(logs), "-f", "jsonl", "--stats"]


# --- Zircolite ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Zircolite:
    python: str
    script: Path

    @classmethod
    def find(cls) -> Zircolite | None:
        script = os.environ.get("TOCSIN_BENCH_ZIRCOLITE")
        if not script or not Path(script).is_file():
            return None
        return cls(os.environ.get("TOCSIN_BENCH_ZIRCOLITE_PYTHON", sys.executable), Path(script))

    @property
    def config(self) -> Path:
        return self.script.parent / "config" / "config.yaml"

    def rulesets(self, work: Path) -> list[Path]:
        """The rule folders converted by Zircolite (``-sr``), once, cached in ``work``."""
        folder = work / "zircolite-rules"
        found = sorted(folder.glob("ruleset-*.json"))
        if found:
            return found
        folder.mkdir(parents=True, exist_ok=True)
        sample = next(iter(sorted(SAMPLES.rglob("*.evtx"))))
        command = [*self._base(sample, folder / "convert.json"), "-r", *map(str, RULE_DIRS)]
        timed(
            [*command, "-p", "sysmon", "windows-logsources", "-sr"], folder / "convert.out", folder
        )
        return sorted(folder.glob("ruleset-*.json"))

    def command(self, logs: Path, rulesets: list[Path], output: Path) -> list[str]:
        return [*self._base(logs, output), "-r", *map(str, rulesets)]

    def _base(self, logs: Path, output: Path) -> list[str]:
        log = output.with_suffix(".log")
        return [self.python, str(self.script), "-e", str(logs), "-c", str(self.config), "-q"] + [
            "-o",
            str(output),
            "-l",
            str(log),
        ]


# --- detections ----------------------------------------------------------------------------
def tocsin_fired(path: Path) -> dict[str, tuple[str, int]]:
    fired: dict[str, tuple[str, int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        alert = json.loads(line)
        title, count = fired.get(alert["rule"], (alert["title"], 0))
        fired[alert["rule"]] = (title, count + alert["count"])
    return fired


def zircolite_fired(path: Path) -> dict[str, tuple[str, int]]:
    results = json.loads(path.read_text(encoding="utf-8")) if path.stat().st_size else []
    return {r["id"]: (r["title"], int(r["count"])) for r in results}


def compare(work: Path, zircolite: Zircolite | None) -> None:
    """Which rules fire on the un-replicated samples in each tool."""
    ours = work / "detections-tocsin.jsonl"
    timed(tocsin_command(SAMPLES), ours)
    mine = tocsin_fired(ours)
    print(f"\nDetections on the {len(list(SAMPLES.rglob('*.evtx')))} samples (un-replicated)")
    print(f"Tocsin: {len(mine)} rules fired, {sum(c for _, c in mine.values()):,} matches")
    if zircolite is None:
        return
    theirs_path = work / "detections-zircolite.json"
    timed(zircolite.command(SAMPLES, zircolite.rulesets(work), theirs_path), work / "z.out")
    theirs = zircolite_fired(theirs_path)
    print(f"Zircolite: {len(theirs)} rules fired, {sum(c for _, c in theirs.values()):,} matches")
    both = mine.keys() & theirs.keys()
    print(
        f"both: {len(both)}; only Tocsin: {len(mine.keys() - both)}; "
        f"only Zircolite: {len(theirs.keys() - both)}"
    )
    for label, side, other in (("only Tocsin", mine, theirs), ("only Zircolite", theirs, mine)):
        for rule in sorted(side.keys() - other.keys(), key=lambda r: side[r][0]):
            print(f"  {label}: {side[rule][0]} ({rule}, {side[rule][1]} matches)")
    differ = [r for r in both if mine[r][1] != theirs[r][1]]
    print(f"rules fired by both with different match counts: {len(differ)}")
    for rule in sorted(differ, key=lambda r: mine[r][0]):
        print(f"  {mine[rule][0]}: Tocsin {mine[rule][1]}, Zircolite {theirs[rule][1]}")


# --- timing ------------------------------------------------------------------------------
def side_by_side(
    args: argparse.Namespace, logs: Path, events: int, zircolite: Zircolite | None
) -> None:
    rows: list[tuple[str, Run, int]] = []
    runs = [timed(tocsin_command(logs), args.work / "tocsin.jsonl") for _ in range(args.runs)]
    rows.append(("Tocsin (DuckDB)", median(runs), len(runs)))
    if zircolite is not None and args.zircolite_runs:
        rulesets = zircolite.rulesets(args.work)
        command = zircolite.command(logs, rulesets, args.work / "zircolite.json")
        zruns = [timed(command, args.work / "zircolite.out") for _ in range(args.zircolite_runs)]
        rows.append(("Zircolite", median(zruns), len(zruns)))
    print(f"\n{events:,} events, {', '.join(str(d) for d in RULE_DIRS)}")
    print(
        f"{'tool':<16} {'runs':>4} {'wall s':>8} {'events/s':>9} {'CPU s':>8} "
        f"{'events/CPU-s':>12} {'peak RSS MiB':>12}"
    )
    for name, run, count in rows:
        print(
            f"{name:<16} {count:>4} {run.wall:>8.1f} {events / run.wall:>9,.0f} {run.cpu:>8.1f} "
            f"{events / run.cpu:>12,.0f} {run.rss_mib:>12,.0f}"
        )
    if len(rows) == 2:
        ours, theirs = rows[0][1], rows[1][1]
        print(
            f"ratio Tocsin/Zircolite: events/s x{theirs.wall / ours.wall:.1f}, "
            f"events per CPU-s x{theirs.cpu / ours.cpu:.1f}"
        )


def ingest_alone(args: argparse.Namespace, logs: Path, events: int) -> None:
    runs = []
    for _ in range(args.runs):
        store = args.work / "ingest-store"
        shutil.rmtree(store, ignore_errors=True)
        command = [str(TOCSIN), "detect", "ingest", str(logs), "--store", str(store), "-f", "json"]
        runs.append(timed(command, args.work / "ingest.json"))
        shutil.rmtree(store, ignore_errors=True)
    run = median(runs)
    print(
        f"\nIngest alone: {events:,} events, median of {len(runs)}: {run.wall:.1f} s wall, "
        f"{events / run.wall:,.0f} events/s, {run.cpu:.1f} CPU s, peak RSS {run.rss_mib:,.0f} MiB"
    )


def scaling(args: argparse.Namespace, per_copy: int, copies: int) -> None:
    """Tocsin's wall time for fractions of the events (all rules) and of the rules."""
    print("\nScaling (Tocsin, median of runs): events")
    for part in (8, 4, 2, 1):
        n = max(copies // part, 1)
        logs = replicate(args.work / f"logs-{n}", n)
        runs = [
            timed(tocsin_command(logs), args.work / "s.jsonl") for _ in range(args.scaling_runs)
        ]
        run = median(runs)
        print(
            f"  {n * per_copy:>10,} events: {run.wall:>7.1f} s, {n * per_copy / run.wall:>8,.0f} "
            f"events/s, {run.cpu:.1f} CPU s"
        )
    rules = sorted(p for d in RULE_DIRS for p in d.rglob("*.yml"))
    logs = replicate(args.work / f"logs-{copies}", copies)
    print(f"Scaling (Tocsin): rules, {copies * per_copy:,} events")
    for count in (250, 500, 1000, len(rules)):
        folder = args.work / f"rules-{count}"
        if not folder.is_dir():
            folder.mkdir(parents=True)
            for number, rule in enumerate(rules[:count]):
                shutil.copy(rule, folder / f"{number:05d}-{rule.name}")
        command = tocsin_command(logs, (folder,))
        run = median([timed(command, args.work / "s.jsonl") for _ in range(args.scaling_runs)])
        print(f"  {count:>5} rule files: {run.wall:>7.1f} s, {run.cpu:.1f} CPU s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--zircolite-runs", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tocsin-bench")
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument("--scaling-runs", type=int, default=1)
    parser.add_argument("--skip-zircolite", action="store_true")
    args = parser.parse_args()
    if not SAMPLES.is_dir() or not RULE_DIRS[0].is_dir():
        sys.exit(f"shared data missing: {SAMPLES} or {RULE_DIRS[0]}")
    zircolite = None if args.skip_zircolite else Zircolite.find()
    if zircolite is None and not args.skip_zircolite:
        print(__doc__.split("Getting Zircolite")[1], file=sys.stderr)
        sys.exit("TOCSIN_BENCH_ZIRCOLITE is not set to zircolite.py (or --skip-zircolite)")
    per_copy = events_per_copy()
    copies = -(-args.events // per_copy)
    logs = replicate(args.work / f"logs-{copies}", copies)
    print(f"load: {os.getloadavg()}, {os.cpu_count()} cores")
    compare(args.work, zircolite)
    side_by_side(args, logs, copies * per_copy, zircolite)
    ingest_alone(args, logs, copies * per_copy)
    if args.scaling:
        scaling(args, per_copy, copies)
    print(f"load: {os.getloadavg()}")


if __name__ == "__main__":
    main()
