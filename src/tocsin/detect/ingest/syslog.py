"""Syslog, RFC 3164 (BSD) and RFC 5424, with the variants found in real files.

3164: PRI optional, ``Mmm dd hh:mm:ss`` (year inferred from the file's date, time taken as
UTC) or an ISO 8601 timestamp (rsyslog's high-precision format), host optional when the next
token is clearly a tag. 5424: NILVALUE ``-`` anywhere, structured data with ``\\"``, ``\\\\``
and ``\\]`` escapes (fields ``sd.<id>.<param>``), a UTF-8 BOM before MSG removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO, ClassVar

from tocsin.detect.ingest.base import ReadContext
from tocsin.detect.ingest.model import Event, LineError
from tocsin.detect.ingest.stream import iter_lines
from tocsin.detect.ingest.timeparse import infer_year, iso, month

FACILITIES = (
    *("kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron"),
    *("authpriv", "ftp", "ntp", "security", "console", "solaris-cron"),
    *(f"local{i}" for i in range(8)),
)
SEVERITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")

_PRI = re.compile(r"<(\d{1,3})>")
_5424 = re.compile(r"(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) ?")
_BSD_TIME = re.compile(r"([A-Za-z]{3}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d+)? ")
_ISO_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?) "
)
_TAG = re.compile(r"([^\s:\[\]]{1,128})(?:\[([^\]\s]{0,32})\])?: ?")
_SD_ELEMENT = re.compile(
    r"\[([^\s=\]\"]{1,64})((?:\s+[^\s=\]\"]{1,64}=\"(?:[^\"\\]|\\.)*\")*)\s*\]"
)
_SD_PARAM = re.compile(r"([^\s=\]\"]{1,64})=\"((?:[^\"\\]|\\.)*)\"")
_SD_UNESCAPE = re.compile(r"\\([\"\\\]])")


def _nil(value: str) -> str | None:
    return None if value == "-" else value


def _pri(fields: dict[str, str], value: int) -> None:
    if value > 191:
        raise LineError(f"PRI {value} is over 191", "pri")
    fields["facility"] = FACILITIES[value >> 3]
    fields["severity"] = SEVERITIES[value & 7]


def structured_data(text: str, fields: dict[str, str]) -> str:
    """Parse SD elements at the start of ``text`` into ``fields``; return what follows."""
    if text.startswith("-"):
        return text[1:]
    position = 0
    while position < len(text) and text[position] == "[":
        match = _SD_ELEMENT.match(text, position)
        if not match:
            raise LineError("malformed structured data", "structured-data")
        sd_id = match.group(1)
        for param in _SD_PARAM.finditer(match.group(2)):
            fields[f"sd.{sd_id}.{param.group(1)}"] = _SD_UNESCAPE.sub(r"\1", param.group(2))
        position = match.end()
    if position == 0:
        raise LineError("structured data must be '-' or '[…]'", "structured-data")
    return text[position:]


def _rfc5424(match: re.Match[str], rest: str, fields: dict[str, str]) -> datetime | None:
    _version, stamp, host, app, pid, msgid = match.groups()
    when = None
    if stamp != "-":
        try:
            when = iso(stamp)
        except ValueError as exc:
            raise LineError(f"invalid timestamp {stamp[:40]!r}", "timestamp") from exc
    for key, value in (("hostname", host), ("app", app), ("pid", pid), ("msgid", msgid)):
        if (shown := _nil(value)) is not None:
            fields[key] = shown
    message = structured_data(rest, fields).removeprefix(" ").removeprefix("\ufeff")
    fields["message"] = message
    return when


def _rfc3164(text: str, fields: dict[str, str], reference: datetime) -> datetime:
    bsd = _BSD_TIME.match(text)
    if bsd:
        name, day, hour, minute, second = bsd.groups()
        try:
            when = infer_year(
                month(name), int(day), (int(hour), int(minute), int(second)), reference
            )
        except ValueError as exc:
            raise LineError(str(exc), "timestamp") from exc
        rest = text[bsd.end() :]
    else:
        stamp = _ISO_TIME.match(text)
        if not stamp:
            raise LineError("no RFC 3164 or ISO 8601 timestamp", "timestamp")
        try:
            when = iso(stamp.group(1))
        except ValueError as exc:
            raise LineError(f"invalid timestamp: {exc}", "timestamp") from exc
        rest = text[stamp.end() :]
    first, _, after = rest.partition(" ")
    if first and not _TAG.fullmatch(first + " ") and not first.endswith(":"):
        fields["hostname"] = first
        rest = after
    tag = _TAG.match(rest)
    if tag:
        fields["app"] = tag.group(1)
        if tag.group(2):
            fields["pid"] = tag.group(2)
        rest = rest[tag.end() :]
    fields["message"] = rest
    return when


def parse_line(text: str, record: int, reference: datetime) -> Event:
    """One syslog line as an :class:`Event`; raises :class:`LineError`."""
    fields: dict[str, str] = {}
    rest = text
    pri = _PRI.match(text)
    if pri:
        _pri(fields, int(pri.group(1)))
        rest = text[pri.end() :]
    version = _5424.match(rest) if pri else None
    if version and version.group(1) != "0" and not _BSD_TIME.match(rest):
        when = _rfc5424(version, rest[version.end() :], fields)
    else:
        when = _rfc3164(rest.lstrip(), fields, reference)
    message = fields.get("message")
    return Event("syslog", record, when, fields.get("hostname"), message, fields)


class SyslogFormat:
    name: ClassVar[str] = "syslog"
    priority: ClassVar[int] = 50

    def sniff(self, head: bytes) -> bool:
        line = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
        rest = line
        pri = _PRI.match(line)
        if pri:
            rest = line[pri.end() :]
            if _5424.match(rest):
                return True
        return bool(_BSD_TIME.match(rest) or _ISO_TIME.match(rest))

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Event]:
        for number, line in iter_lines(stream, ctx.limits.max_record_bytes, ctx.oversize):
            text = line.decode("utf-8", "replace")
            if not text.strip():
                continue
            try:
                yield parse_line(text, number, ctx.reference)
            except LineError as exc:
                ctx.warn(number, str(exc), exc.field)


FORMATS = (SyslogFormat(),)
