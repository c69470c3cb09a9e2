"""The JSON shape of a stored alert (docs/json-shapes.md, "Detection alerts", version 1).

One function renders a :class:`~tocsin.store.alerts.StoredAlert` for every face: the CLI
(``tocsin detect alerts list/show/export``), the web API and export, and notifications.
CSV export flattens the same document (lists joined with ``;``, no events).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from tocsin.store.alerts import StoredAlert

ALERT_RECORD_VERSION = 1
CSV_COLUMNS = (
    "id", "source", "rule", "title", "level", "status", "host", "asset", "count",
    "first", "last", "window_start", "attack", "tags", "note", "created_at", "updated_at",
)  # fmt: skip


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def alert_record(stored: StoredAlert, *, events: bool = True) -> dict[str, Any]:
    """The document of one stored alert (with its sample events unless ``events`` is False)."""
    alert = stored.alert
    document: dict[str, Any] = {
        "version": ALERT_RECORD_VERSION,
        "id": stored.id,
        "source": alert.source.value,
        "rule": alert.rule,
        "title": alert.title,
        "level": alert.level,
        "status": stored.status.value,
        "note": stored.note,
        "host": alert.host,
        "asset": (
            {"id": stored.asset_id, "key": stored.asset_key, "name": stored.asset_name}
            if stored.asset_id is not None
            else None
        ),
        "count": alert.count,
        "first": _iso(alert.first),
        "last": _iso(alert.last),
        "window_start": _iso(alert.window_start),
        "attack": list(alert.attack),
        "tags": list(alert.tags),
        "details": dict(alert.details),
        "created_at": _iso(stored.created_at),
        "updated_at": _iso(stored.updated_at),
        "notified_at": _iso(stored.notified_at),
    }
    if events:
        document["events"] = [event.to_dict() for event in alert.events]
    return document


def csv_row(stored: StoredAlert) -> dict[str, str]:
    """One CSV line of the export (:data:`CSV_COLUMNS`)."""
    doc = alert_record(stored, events=False)
    asset = doc["asset"]
    values: dict[str, Any] = {
        **doc,
        "asset": asset["key"] if asset else "",
        "attack": ";".join(doc["attack"]),
        "tags": ";".join(doc["tags"]),
    }
    return {name: "" if values.get(name) is None else str(values[name]) for name in CSV_COLUMNS}


def export_lines(found: Iterable[StoredAlert], fmt: str) -> Iterator[str]:
    """The export as text chunks: ``jsonl`` (one document a line, with events) or ``csv``."""
    if fmt == "jsonl":
        for stored in found:
            yield json.dumps(alert_record(stored), ensure_ascii=False) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for stored in found:
        writer.writerow(csv_row(stored))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
