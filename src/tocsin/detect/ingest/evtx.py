"""Windows EVTX files through the Rust-backed ``evtx`` package (PyEvtxParser).

Fields: the System values of the contract, then every EventData ``Data Name=`` and every
UserData leaf under its own name; unnamed EventData values become ``Data1``, ``Data2``…
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, BinaryIO, ClassVar

from evtx import PyEvtxParser

from tocsin.detect.ingest.base import ReadContext
from tocsin.detect.ingest.model import Event
from tocsin.errors import InputError, Location

MAGIC = b"ElfFile\x00"
MAX_CONSECUTIVE_FAILURES = 1000
_SYSTEM_TEXT = ("EventID", "Channel", "Computer", "EventRecordID", "Level", "Task", "Keywords")


def text(value: object) -> str | None:
    """A JSON scalar as the text Sigma compares against (``True`` → ``"true"``)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        parts = [text(v) for v in value]
        return "\n".join(p for p in parts if p is not None)
    if isinstance(value, dict):
        return text(value.get("#text"))
    return str(value)


def _attr(node: object, name: str) -> object:
    if isinstance(node, dict):
        attributes = node.get("#attributes")
        if isinstance(attributes, dict):
            return attributes.get(name)
    return None


def _system(system: dict[str, Any], fields: dict[str, str]) -> None:
    for key in _SYSTEM_TEXT:
        value = text(system.get(key))
        if value is not None:
            fields[key] = value
    for key, node, attribute in (
        ("Provider_Name", system.get("Provider"), "Name"),
        ("ProcessID", system.get("Execution"), "ProcessID"),
        ("UserID", system.get("Security"), "UserID"),
    ):
        value = text(_attr(node, attribute))
        if value is not None:
            fields[key] = value


def _event_data(data: object, fields: dict[str, str]) -> None:
    if not isinstance(data, dict):
        return
    unnamed = 0
    for key, value in data.items():
        if key == "#attributes":
            continue
        if key in ("Data", "#text"):
            values = value.get("#text") if isinstance(value, dict) else value
            for item in values if isinstance(values, list) else [values]:
                unnamed += 1
                shown = text(item)
                if shown is not None:
                    fields[f"Data{unnamed}"] = shown
            continue
        if type(value) is str:  # the common case, without a call
            fields[key] = value
        elif (shown := text(value)) is not None:
            fields[key] = shown


def _user_data(node: object, fields: dict[str, str], depth: int = 0) -> None:
    if not isinstance(node, dict) or depth > 16:
        return
    for key, value in node.items():
        if key == "#attributes":
            continue
        if isinstance(value, dict) and "#text" not in value:
            _user_data(value, fields, depth + 1)
        else:
            shown = text(value)
            if shown is not None:
                fields[key] = shown


def normalise(document: dict[str, Any], record: int) -> Event:
    """One evtx JSON document (``{"Event": {...}}``) as an :class:`Event` of ``windows``."""
    root = document.get("Event")
    if not isinstance(root, dict):
        raise ValueError("no Event element")
    fields: dict[str, str] = {}
    system = root.get("System")
    when: datetime | None = None
    if isinstance(system, dict):
        _system(system, fields)
        stamp = _attr(system.get("TimeCreated"), "SystemTime")
        if isinstance(stamp, str):
            when = datetime.fromisoformat(stamp)
    _event_data(root.get("EventData"), fields)
    _user_data(root.get("UserData"), fields)
    if "ProcessId" in fields:
        # Sysmon's and Security's EventData ProcessId is what rules mean; System's
        # Execution ProcessID would clash with it in case-insensitive readers.
        fields.pop("ProcessID", None)
    return Event("windows", record, when, fields.get("Computer"), None, fields)


class EvtxFormat:
    name: ClassVar[str] = "evtx"
    priority: ClassVar[int] = 0

    def sniff(self, head: bytes) -> bool:
        return head.startswith(MAGIC)

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Event]:
        try:
            parser = PyEvtxParser(stream, 1, indent=False)
            records = parser.records_json()
        except (OSError, RuntimeError, ValueError) as exc:
            raise InputError(f"not a readable EVTX file: {exc}", Location(ctx.file)) from exc
        position = failures = 0
        while True:
            try:
                item = next(records)
            except StopIteration:
                return
            except (RuntimeError, OSError, ValueError) as exc:
                position += 1
                failures += 1
                if failures > MAX_CONSECUTIVE_FAILURES:
                    raise InputError(
                        f"{failures} unreadable EVTX records in a row: {exc}", Location(ctx.file)
                    ) from exc
                ctx.warn(position, f"unreadable EVTX record: {exc}")
                continue
            failures = 0
            position += 1
            if item is None:
                continue
            number = int(item.get("event_record_id") or position)
            data = item.get("data") or ""
            if len(data) > ctx.limits.max_record_bytes:
                ctx.oversize(number, len(data))
                continue
            try:
                yield normalise(json.loads(data), number)
            except (ValueError, TypeError) as exc:
                ctx.warn(number, f"malformed EVTX record: {exc}")


FORMATS = (EvtxFormat(),)
