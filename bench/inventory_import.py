"""Benchmark: importing, re-importing and listing a 10,000-asset inventory end to end.

Generates a realistic CSV (the demo hospital's assets, varied with a fixed seed), then
runs the installed ``tocsin`` command as a user would, each repeat with a fresh
TOCSIN_HOME (SQLite) or a fresh PostgreSQL schema:

- parse only: read, decode and parse the file in-process (no database);
- import: ``tocsin inventory import`` into an empty establishment;
- re-import: the same file again (idempotent: every asset unchanged);
- list: ``tocsin inventory list --format jsonl`` streamed to a pipe, with its peak RSS.

Usage: .venv/bin/python bench/inventory_import.py [--assets 10000] [--repeat 5]
       [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
Results are kept in bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tocsin.config import DEFAULT_IMPORT_MAX_BYTES
from tocsin.demo.catalogue import demo_rows
from tocsin.demo.generate import render_csv
from tocsin.inventory.service import parse_file

TARGET_SECONDS = 10.0
STARTUP = "startup (--version)"
ESTABLISHMENT = "bench"
BUILDINGS = tuple("ABCDEFG")


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    peak_rss: int  # bytes
    stdout: bytes
    lines: int


@dataclass
class Samples:
    seconds: dict[str, list[float]] = field(default_factory=dict)
    net: dict[str, list[float]] = field(default_factory=dict)  # minus the same repeat's startup
    rss: dict[str, list[int]] = field(default_factory=dict)

    def add(self, step: str, run: ChildRun | float, startup: ChildRun | None = None) -> None:
        if isinstance(run, ChildRun):
            self.seconds.setdefault(step, []).append(run.seconds)
            self.rss.setdefault(step, []).append(run.peak_rss)
            if startup is not None and step != STARTUP:
                self.net.setdefault(step, []).append(run.seconds - startup.seconds)
        else:
            self.seconds.setdefault(step, []).append(run)


def generate_csv(path: Path, count: int, seed: int) -> None:
    """``count`` assets drawn from the demo hospital's, with ids, versions and places varied."""
    rng = random.Random(seed)
    templates = demo_rows()
    rows = []
    for number in range(count):
        row = dict(rng.choice(templates))
        row["id"] = f"{row['id']}-{number:05d}"
        if row["version"] and rng.random() < 0.3:
            row["version"] = f"{row['version']}.{rng.randint(1, 40)}"
            row["cpe"] = ""  # the template's CPE names the original version
        if rng.random() < 0.5:
            building = rng.choice(BUILDINGS)
            row["location"] = f"Bâtiment {building} · Niveau {rng.randint(-1, 5)}"
        rows.append(row)
    path.write_text(render_csv(rows), encoding="utf-8", newline="")


def tocsin_command() -> str:
    beside = Path(sys.executable).with_name("tocsin")
    found = str(beside) if beside.exists() else shutil.which("tocsin")
    if found is None:
        raise SystemExit("cannot find the tocsin command; run: make install")
    return found


def run_child(args: list[str], env: dict[str, str], *, keep_stdout: bool = True) -> ChildRun:
    """Run ``tocsin`` with ``args``; time it and read its peak RSS from wait4()."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - our own command, no shell
            [tocsin_command(), *args], env=env, stdout=subprocess.PIPE, stderr=errors
        )
        assert process.stdout is not None
        kept, lines = bytearray(), 0
        for chunk in iter(lambda: process.stdout.read(1 << 16), b""):  # type: ignore[union-attr]
            lines += chunk.count(b"\n")
            if keep_stdout:
                kept += chunk
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        process.stdout.close()
        if process.returncode != 0:
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace")
            raise SystemExit(f"tocsin {' '.join(args)} failed ({process.returncode}):\n{message}")
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return ChildRun(seconds, usage.ru_maxrss * scale, bytes(kept), lines)


@contextmanager
def fresh_database(base_url: str | None, home: Path) -> Iterator[str]:
    """An empty database: a SQLite file under ``home``, or a new PostgreSQL schema."""
    if base_url is None:
        yield f"sqlite:///{home / 'tocsin.db'}"
        return
    from sqlalchemy import create_engine, text

    url = base_url.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = "bench_" + uuid.uuid4().hex[:12]
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def child_env(home: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    env.update(TOCSIN_HOME=str(home), TOCSIN_DATABASE_URL=database_url, TERM="dumb")
    return env


def check_report(stdout: bytes, count: int, *, first: bool) -> None:
    import json

    report = json.loads(stdout)[0]
    expected = (count, 0, 0, 0) if first else (0, 0, 0, count)
    found = (report["added"], report["changed"], report["removed"], report["unchanged"])
    if found != expected:
        raise SystemExit(f"unexpected import report {found}, expected {expected}")


def one_repeat(csv_path: Path, work: Path, base_url: str | None, count: int) -> dict[str, ChildRun]:
    home = Path(tempfile.mkdtemp(prefix="home-", dir=work))
    runs: dict[str, ChildRun] = {}
    with fresh_database(base_url, home) as url:
        env = child_env(home, url)
        run_child(["establishment", "add", ESTABLISHMENT, "--name", "Bench"], env)
        runs[STARTUP] = run_child(["--version"], env)
        importing = ["inventory", "import", str(csv_path), "-e", ESTABLISHMENT, "-o", "json"]
        runs["import"] = run_child(importing, env)
        check_report(runs["import"].stdout, count, first=True)
        runs["re-import"] = run_child(importing, env)
        check_report(runs["re-import"].stdout, count, first=False)
        listing = ["inventory", "list", "--format", "jsonl"]
        runs["list jsonl"] = run_child(listing, env, keep_stdout=False)
        if runs["list jsonl"].lines != count:
            raise SystemExit(f"list printed {runs['list jsonl'].lines} lines")
    shutil.rmtree(home, ignore_errors=True)
    return runs


def time_parse(csv_path: Path) -> float:
    start = time.perf_counter()
    parse_file(csv_path, fmt=None, max_bytes=DEFAULT_IMPORT_MAX_BYTES)
    return time.perf_counter() - start


def render(samples: Samples, count: int, repeat: int, backend: str) -> None:
    table = Table(title=f"{count:,} assets, {repeat} repeats, {backend}")
    columns = ("step", "median", "min", "max", "target", "ratio", "- startup", "peak RSS")
    for column in columns:
        table.add_column(column, justify="left" if column == "step" else "right", no_wrap=True)
    for step, values in samples.seconds.items():
        target = TARGET_SECONDS if step in ("import", "re-import") else None
        median = statistics.median(values)
        rss = samples.rss.get(step)
        table.add_row(
            step,
            f"{median:.2f} s",
            f"{min(values):.2f} s",
            f"{max(values):.2f} s",
            f"{target:.0f} s" if target else "—",
            f"{median / target:.0%}" if target else "—",
            f"{statistics.median(net):.2f} s" if (net := samples.net.get(step)) else "—",
            f"{statistics.median(rss) / 2**20:.0f} MiB" if rss else "—",
        )
    console = Console(width=max(100, Console().width))
    console.print(table)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    console.print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average at the end {load}"
    )
    console.print(
        "end-to-end steps include the command's startup; '- startup' is the median of each "
        "step minus the same repeat's 'tocsin --version'"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20240401)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite per repeat)")
    args = parser.parse_args()
    samples = Samples()
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as folder:
        work = Path(folder)
        csv_path = work / "inventory.csv"
        generate_csv(csv_path, args.assets, args.seed)
        for _ in range(args.repeat):
            samples.add("parse only", time_parse(csv_path))
        for number in range(args.repeat):
            print(f"repeat {number + 1}/{args.repeat}…", file=sys.stderr)
            runs = one_repeat(csv_path, work, args.database_url, args.assets)
            for step, run in runs.items():
                samples.add(step, run, runs[STARTUP])
    backend = "PostgreSQL" if args.database_url else "SQLite"
    render(samples, args.assets, args.repeat, backend)
    return 0


if __name__ == "__main__":
    sys.exit(main())
