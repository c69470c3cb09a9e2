"""FortiGate key=value logs (traffic, event, utm), as sent by syslog or exported to disk.

Values may be quoted, with spaces and ``\\"`` escapes inside. ``date`` + ``time`` + ``tz``
(``+0100``; absent means UTC) give ``_time``; without them ``eventtime`` (s, ms, µs or ns
since 1970) does. Keys are kept as the log names them; ``devname`` is the host and ``msg``
the free text. A leading syslog header (``<189>`` …) before the first key is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import BinaryIO, ClassVar

from tocsin.detect.ingest.base import ReadContext
from tocsin.detect.ingest.model import Event, LineError
from tocsin.detect.ingest.stream import iter_lines
from tocsin.detect.ingest.timeparse import epoch, offset

_PAIR = re.compile(r'([A-Za-z_][\w.-]{0,63})=("(?:[^"\\]|\\.)*"|[^\s"]*)(?=\s|$)')
_START = re.compile(r"(?:^|\s)(?:date|logid|devname|itime|eventtime)=")
_UNESCAPE = re.compile(r"\\([\"\\])")
_SNIFF_KEYS = (b"logid=", b"devname=", b"devid=")


def pairs(text: str, max_fields: int) -> dict[str, str]:
    """The ``key=value`` pairs of a line, quotes removed and escapes undone."""
    start = _START.search(text)
    if start is None:
        raise LineError("no FortiGate key=value fields")
    fields: dict[str, str] = {}
    for match in _PAIR.finditer(text, start.start()):
        key, value = match.groups()
        if value.startswith('"'):
            value = _UNESCAPE.sub(r"\1", value[1:-1])
        fields[key] = value
        if len(fields) > max_fields:
            raise LineError(f"more than {max_fields} fields")
    return fields


def fortigate_time(fields: dict[str, str]) -> datetime | None:
    date, clock = fields.get("date"), fields.get("time")
    if date and clock:
        tz = offset(fields["tz"]) if "tz" in fields else UTC
        if tz is None:
            raise LineError(f"invalid time zone {fields['tz'][:20]!r}", "tz")
        try:
            local = datetime.fromisoformat(f"{date}T{clock}")
        except ValueError as exc:
            raise LineError(f"invalid date/time {date[:12]!r} {clock[:12]!r}", "date") from exc
        return local.replace(tzinfo=tz).astimezone(UTC)
    stamp = fields.get("eventtime") or fields.get("itime")
    if stamp:
        try:
            return epoch(float(stamp))
        except (ValueError, OverflowError, OSError) as exc:
            raise LineError(f"invalid eventtime {stamp[:24]!r}", "eventtime") from exc
    return None


def parse_line(text: str, record: int, max_fields: int) -> Event:
    fields = pairs(text, max_fields)
    when = fortigate_time(fields)
    return Event("fortigate", record, when, fields.get("devname"), fields.get("msg"), fields)


class FortigateFormat:
    name: ClassVar[str] = "fortigate"
    priority: ClassVar[int] = 20

    def sniff(self, head: bytes) -> bool:
        line = head.split(b"\n", 1)[0]
        return b"date=" in line and any(key in line for key in _SNIFF_KEYS)

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Event]:
        max_fields = ctx.limits.max_fields
        for number, line in iter_lines(stream, ctx.limits.max_record_bytes, ctx.oversize):
            text = line.decode("utf-8", "replace")
            if not text.strip():
                continue
            try:
                yield parse_line(text, number, max_fields)
            except LineError as exc:
                ctx.warn(number, str(exc), exc.field)


FORMATS = (FortigateFormat(),)
