"""The demo hospital's logs: three days of Windows events and patient-portal access logs.

Usage, from a source checkout::

    .venv/bin/python -m tocsin.demo.logs src/tocsin/data/demo/logs   # the bundled set
    .venv/bin/python -m tocsin.demo.logs OUT_DIR [--end 2026-11-05T00:00:00Z] [--seed 2026]

Deterministic: the same end and seed give byte-identical files (gzip without name or
time). The bundled set (``tocsin/data/demo/logs``, README there) is generated with the
defaults and committed; ``tocsin demo`` ingests it as it is. In it:

* ``winlogbeat-<day>.ndjson.gz`` (one file per UTC day): Winlogbeat JSON of the Windows
  hosts (:mod:`.logs_windows`), with a ransomware intrusion on ``srv-fic-01`` during the
  last night (:mod:`.logs_chain`);
* ``portail-patient-access-<day>.log.gz`` (one file per Paris day): the patient portal's
  Apache access log (:mod:`.logs_web`), with a DDoS in the afternoon of the last day.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tocsin.data import data_path
from tocsin.demo.logs_chain import ChainTimes, ransomware_chain
from tocsin.demo.logs_web import Flood, Hit, flood_traffic, normal_traffic
from tocsin.demo.logs_windows import PARIS, WinEvent, background

DEFAULT_END = datetime(2026, 11, 5, tzinfo=UTC)  # Thursday 00:00 UTC: Monday to Wednesday
DEFAULT_SEED = 2026
DAYS = 3
LOGS_DIR = ("demo", "logs")
WINDOWS_PREFIX = "winlogbeat-"
WEB_PREFIX = "portail-patient-access-"


@dataclass(frozen=True)
class Scenario:
    """The period the logs cover and when the two incidents happen in it (UTC)."""

    start: datetime
    end: datetime
    chain: ChainTimes
    flood: Flood

    @classmethod
    def ending(cls, end: datetime) -> Scenario:
        """The demo's timeline for logs ending at ``end`` (a whole hour, UTC)."""
        if end.tzinfo is None or end.minute or end.second or end.microsecond:
            raise ValueError("the end must be a whole hour with a time zone")
        end = end.astimezone(UTC)
        last_day = end - timedelta(days=1)
        return cls(
            start=end - timedelta(days=DAYS),
            end=end,
            chain=ChainTimes.at(last_day + timedelta(hours=1, minutes=47, seconds=12)),
            flood=Flood(last_day + timedelta(hours=13, minutes=6, seconds=40), 20, 1100, 250),
        )


def windows_events(scenario: Scenario, seed: int) -> list[WinEvent]:
    """Background and intrusion events, in time order."""
    events = background(random.Random(f"{seed}:windows"), scenario.start, scenario.end)  # noqa: S311
    events += ransomware_chain(random.Random(f"{seed}:chain"), scenario.chain)  # noqa: S311
    return sorted(events, key=lambda e: e.time)  # stable: ties keep generation order


def web_hits(scenario: Scenario, seed: int) -> list[Hit]:
    """Normal portal traffic and the flood, in time order."""
    hits = normal_traffic(random.Random(f"{seed}:web"), scenario.start, scenario.end)  # noqa: S311
    hits += flood_traffic(random.Random(f"{seed}:flood"), scenario.flood)  # noqa: S311
    return sorted(hits, key=lambda h: h.time)


def windows_lines(events: Iterable[WinEvent]) -> Iterable[tuple[str, str]]:
    """(UTC day, JSON line) of each event, record ids counted per host and channel."""
    records: Counter[tuple[str, str]] = Counter()
    for event in events:
        key = (event.host, event.channel[0])
        records[key] += 1
        text = json.dumps(event.document(records[key]), ensure_ascii=False, separators=(",", ":"))
        yield event.time.date().isoformat(), text


def web_lines(hits: Iterable[Hit]) -> Iterable[tuple[str, str]]:
    """(Paris day, access-log line) of each request."""
    for hit in hits:
        yield hit.time.astimezone(PARIS).date().isoformat(), hit.line()


def write_gzip(path: Path, lines: Iterable[str]) -> None:
    """Lines to a gzip file with no name or time in its header (reproducible bytes)."""
    temporary = path.with_name(path.name + ".part")
    with temporary.open("wb") as raw, gzip.GzipFile("", "wb", 9, raw, mtime=0) as out:
        for line in lines:
            out.write(line.encode("utf-8") + b"\n")
    temporary.replace(path)


def _write_days(
    out_dir: Path, prefix: str, suffix: str, rows: Iterable[tuple[str, str]]
) -> list[Path]:
    by_day: dict[str, list[str]] = {}
    for day, line in rows:
        by_day.setdefault(day, []).append(line)
    paths = []
    for day in sorted(by_day):
        path = out_dir / f"{prefix}{day}{suffix}"
        write_gzip(path, by_day[day])
        paths.append(path)
    return paths


def write_demo_logs(
    out_dir: Path, end: datetime = DEFAULT_END, seed: int = DEFAULT_SEED
) -> list[Path]:
    """Generate the demo logs into ``out_dir`` (created if needed); the files written."""
    scenario = Scenario.ending(end)
    out_dir.mkdir(parents=True, exist_ok=True)
    windows = windows_lines(windows_events(scenario, seed))
    web = web_lines(web_hits(scenario, seed))
    return _write_days(out_dir, WINDOWS_PREFIX, ".ndjson.gz", windows) + _write_days(
        out_dir, WEB_PREFIX, ".log.gz", web
    )


def bundled_logs_dir() -> Path:
    """The folder of the bundled demo logs (inside the installed package)."""
    return Path(str(data_path(*LOGS_DIR)))


def demo_log_files(directory: Path | None = None) -> list[Path]:
    """The log files of ``directory`` (default: the bundled set), README left out."""
    folder = directory or bundled_logs_dir()
    return sorted(p for p in folder.iterdir() if p.name.endswith(".gz"))


def _end(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the demo hospital's logs.")
    parser.add_argument("out_dir", type=Path, help="folder to write the .gz files to")
    parser.add_argument("--end", type=_end, default=DEFAULT_END, help="end, ISO 8601 (UTC)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args(argv)
    try:
        paths = write_demo_logs(args.out_dir, args.end, args.seed)
    except ValueError as exc:
        parser.error(str(exc))
    sys.stdout.write("".join(f"{p}\n" for p in paths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
