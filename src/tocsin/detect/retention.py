"""Keeping the event store to a size a small server can hold: drop days past a retention.

The store is partitioned by day (docs/detect-events.md), so retention is whole folders:
``prune`` removes the ``day=`` partitions of every source older than a cut-off day (and the
source folders left empty). Alerts keep copies of their sample events, so pruning the logs
never empties an alert. Records without a time (``day=1970-01-01``) are kept unless asked.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from tocsin.detect.store import NO_TIME_DAY, Partition, list_partitions


@dataclass
class PruneReport:
    store: str
    before: date
    partitions: list[Partition] = field(default_factory=list)  # removed (or to remove)
    bytes: int = 0
    dry_run: bool = False

    def summary(self) -> dict[str, object]:
        return {
            "store": self.store,
            "before": self.before.isoformat(),
            "dry_run": self.dry_run,
            "partitions": len(self.partitions),
            "days": sorted({p.day.isoformat() for p in self.partitions}),
            "sources": sorted({p.source for p in self.partitions}),
            "bytes": self.bytes,
        }


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def prune(
    store: Path, before: date, *, untimed: bool = False, dry_run: bool = False
) -> PruneReport:
    """Remove the day partitions strictly before ``before`` (``untimed``: also 1970-01-01)."""
    report = PruneReport(str(store), before, dry_run=dry_run)
    for partition in list_partitions(store, until=before - timedelta(days=1)):
        if partition.day == NO_TIME_DAY and not untimed:
            continue
        report.partitions.append(partition)
        report.bytes += _size(partition.path)
        if not dry_run:
            shutil.rmtree(partition.path)
    if not dry_run:
        for source in {p.path.parent for p in report.partitions}:
            if source.is_dir() and not any(source.iterdir()):
                source.rmdir()
    return report
