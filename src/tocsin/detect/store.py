"""Layout of the detect event store (docs/detect-events.md), shared by ingest and engines.

``<store>/source=<source>/day=<YYYY-MM-DD>/part-<uuid4>.parquet`` (Hive partitioning).
Only path arithmetic here: no Parquet reading or writing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from tocsin.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tocsin.config import Settings

SOURCES = ("windows", "linux", "syslog", "web", "fortigate", "json")
_SOURCE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_DAY = re.compile(r"day=(\d{4}-\d{2}-\d{2})")
# Records without a time go to this day's partition (no time filter ever selects them).
NO_TIME_DAY = date(1970, 1, 1)


@dataclass(frozen=True)
class Partition:
    """One ``source=…/day=…`` folder of the store."""

    source: str
    day: date
    path: Path

    def files(self) -> list[Path]:
        """The committed Parquet files of this partition (temp files excluded)."""
        return sorted(self.path.glob("part-*.parquet"))


def default_store(settings: Settings) -> Path:
    """``$TOCSIN_HOME/detect/events``."""
    return settings.home / "detect" / "events"


def check_source(source: str) -> str:
    if not _SOURCE.fullmatch(source):
        raise UsageError(f"invalid log source name {source!r}")
    return source


def partition_dir(store: Path, source: str, day: date) -> Path:
    """The folder of ``source`` and ``day`` (not created)."""
    return store / f"source={check_source(source)}" / f"day={day.isoformat()}"


def list_partitions(
    store: Path,
    sources: Iterable[str] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[Partition]:
    """Existing partitions, sorted by source then day; ``since``/``until`` are inclusive."""
    wanted = None if sources is None else {check_source(s) for s in sources}
    found: list[Partition] = []
    if not store.is_dir():
        return found
    for source_dir in sorted(store.glob("source=*")):
        source = source_dir.name.removeprefix("source=")
        if not source_dir.is_dir() or (wanted is not None and source not in wanted):
            continue
        for day_dir in sorted(source_dir.glob("day=*")):
            match = _DAY.fullmatch(day_dir.name)
            if not match or not day_dir.is_dir():
                continue
            try:
                day = date.fromisoformat(match.group(1))
            except ValueError:
                continue
            if (since is not None and day < since) or (until is not None and day > until):
                continue
            found.append(Partition(source, day, day_dir))
    return found
