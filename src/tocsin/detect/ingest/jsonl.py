"""JSON lines: Winlogbeat/ECS (Windows → ``windows``), Sysmon for Linux, generic JSON.

A line that holds an evtx-style document (``{"Event": {"System": …}}``) is normalised as
EVTX is; its source is ``linux`` when the channel or provider is Linux-Sysmon. ECS records
with ``winlog`` go to ``windows`` with the contract's renames; ECS records of auditd or
Sysmon for Linux go to ``linux``; everything else to ``json``, nested keys flattened with dots.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, BinaryIO, ClassVar

from tocsin.detect.ingest import evtx
from tocsin.detect.ingest.base import ReadContext
from tocsin.detect.ingest.flatten import TooManyFieldsError, flatten, scalar_text
from tocsin.detect.ingest.model import Event
from tocsin.detect.ingest.stream import iter_lines
from tocsin.detect.ingest.timeparse import epoch, iso

BOM = b"\xef\xbb\xbf"
_TIME_KEYS = ("@timestamp", "timestamp", "time", "ts", "eventTime", "date", "datetime")
_HOST_KEYS = ("host.name", "host.hostname", "hostname", "host", "Computer", "computer")
_WINLOG_RENAMES = {
    "winlog.event_id": "EventID",
    "winlog.channel": "Channel",
    "winlog.provider_name": "Provider_Name",
    "winlog.computer_name": "Computer",
    "winlog.record_id": "EventRecordID",
    "winlog.task": "Task",
    "winlog.keywords": "Keywords",
    "winlog.process.pid": "ProcessID",
    "winlog.user.identifier": "UserID",
}
_BARE_PREFIXES = ("winlog.event_data.", "winlog.user_data.")
_LINUX_MODULES = ("auditd", "sysmon_linux", "sysmon-linux")


def _time(fields: dict[str, str]) -> datetime | None:
    for key in _TIME_KEYS:
        value = fields.get(key)
        if value is None:
            continue
        try:
            return epoch(float(value)) if value.replace(".", "", 1).isdigit() else iso(value)
        except (ValueError, OverflowError, OSError):
            continue
    return None


def _windows(flat: dict[str, str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for key, value in flat.items():
        if key.startswith(_BARE_PREFIXES):
            fields[key.split(".", 2)[2]] = value
        elif key in _WINLOG_RENAMES:
            fields[_WINLOG_RENAMES[key]] = value
        else:
            fields[key] = value
    if "Computer" not in fields and "host.name" in flat:
        fields["Computer"] = flat["host.name"]
    return fields


def normalise(document: dict[str, Any], record: int, max_fields: int) -> Event:
    """One JSON object as an :class:`Event`; raises ValueError when it cannot be."""
    if isinstance(document.get("Event"), dict) and "System" in document["Event"]:
        event = evtx.normalise(document, record)
        marker = event.fields.get("Channel", "") + event.fields.get("Provider_Name", "")
        if "linux" in marker.lower():
            event.source = "linux"
        return event
    flat = flatten(document, {}, max_fields)
    when = _time(flat)
    if isinstance(document.get("winlog"), dict):
        fields = _windows(flat)
        return Event("windows", record, when, fields.get("Computer"), None, fields)
    host = next((flat[k] for k in _HOST_KEYS if k in flat), None)
    module = flat.get("event.module", "").lower()
    source = "linux" if module in _LINUX_MODULES or "auditd" in document else "json"
    return Event(source, record, when, host, None, flat)


class JsonLinesFormat:
    name: ClassVar[str] = "jsonl"
    priority: ClassVar[int] = 10

    def sniff(self, head: bytes) -> bool:
        return head.removeprefix(BOM).lstrip()[:1] == b"{"

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Event]:
        limits = ctx.limits
        for number, line in iter_lines(stream, limits.max_record_bytes, ctx.oversize):
            if number == 1:
                line = line.removeprefix(BOM)
            if not line.strip():
                continue
            try:
                document = json.loads(line)
            except (ValueError, RecursionError) as exc:
                ctx.warn(number, f"invalid JSON: {str(exc)[:120]}")
                continue
            if not isinstance(document, dict):
                ctx.warn(number, f"a JSON {type(document).__name__}, not an object")
                continue
            try:
                yield normalise(document, number, limits.max_fields)
            except TooManyFieldsError as exc:
                ctx.warn(number, str(exc))
            except (ValueError, TypeError, RecursionError) as exc:
                ctx.warn(number, f"unusable record: {str(exc)[:120]}")


__all__ = ["FORMATS", "JsonLinesFormat", "normalise", "scalar_text"]
FORMATS = (JsonLinesFormat(),)
