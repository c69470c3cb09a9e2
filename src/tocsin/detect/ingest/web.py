"""Web server access logs: NCSA common/combined (and Apache vhost_combined), IIS W3C.

Fields follow Sigma's webserver taxonomy (``c-ip``, ``cs-method``, ``cs-uri-stem``…). W3C
files declare their columns in ``#Fields:`` directives, which may change mid-file; a data
line before any directive is skipped with a warning. ``-`` means absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import BinaryIO, ClassVar

from tocsin.detect.ingest.base import ReadContext
from tocsin.detect.ingest.model import Event, LineError
from tocsin.detect.ingest.stream import iter_lines
from tocsin.detect.ingest.timeparse import iso, month, offset


def _quoted(name: str) -> str:
    return rf'"(?P<{name}>(?:[^"\\]|\\.)*)"'


NCSA = re.compile(
    r"(?:(?P<vhost>[^\s:]+)(?::(?P<port>\d{1,5}))? )?"
    r"(?P<ip>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]{1,64})\] "
    rf"{_quoted('request')} (?P<status>\d{{3}}|-) (?P<bytes>\d+|-)"
    rf"(?: {_quoted('referer')} {_quoted('agent')})?(?P<rest>.*)"
)
_NCSA_TIME = re.compile(r"(\d{2})/([A-Za-z]{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})")
_W3C_RENAMES = {
    "cs(user-agent)": "cs-user-agent",
    "cs(referer)": "cs-referer",
    "cs(cookie)": "cs-cookie",
    "cs(host)": "cs-host",
}
_W3C_HEAD = (b"#Software:", b"#Version:", b"#Fields:", b"#Date:", b"#Remark:")


def ncsa_time(text: str) -> datetime:
    match = _NCSA_TIME.fullmatch(text)
    if not match:
        raise LineError(f"invalid time {text[:40]!r}", "time")
    day, name, year, hour, minute, second, zone = match.groups()
    tz = offset(zone)
    try:
        if tz is None:
            raise ValueError(f"invalid time zone {zone!r}")
        local = datetime(int(year), month(name), int(day), int(hour), int(minute), int(second))
        return local.replace(tzinfo=tz).astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise LineError(f"invalid time {text[:40]!r}: {exc}", "time") from exc


def split_request(request: str, fields: dict[str, str]) -> None:
    """``GET /a?b HTTP/1.1`` into method, stem, query, version; junk stays in the stem."""
    parts = request.split(" ")
    if len(parts) == 3 and parts[2].startswith("HTTP/"):
        method, target, version = parts
        fields["cs-method"] = method
        fields["cs-version"] = version
    elif len(parts) == 2 and parts[0].isalpha() and parts[0].isupper():
        method, target = parts
        fields["cs-method"] = method
    else:
        if request and request != "-":
            fields["cs-uri-stem"] = request
        return
    stem, sep, query = target.partition("?")
    fields["cs-uri-stem"] = stem
    if sep:
        fields["cs-uri-query"] = query


def parse_ncsa(text: str, record: int) -> Event:
    match = NCSA.fullmatch(text)
    if not match:
        raise LineError("not a common/combined log line")
    g = match.group
    fields: dict[str, str] = {}
    for key, value in (
        ("cs-host", g("vhost")),
        ("s-port", g("port")),
        ("c-ip", g("ip")),
        ("cs-username", g("user")),
        ("sc-status", g("status")),
        ("sc-bytes", g("bytes")),
        ("cs-referer", g("referer")),
        ("cs-user-agent", g("agent")),
    ):
        if value is not None and value != "-":
            fields[key] = value.replace('\\"', '"') if key.startswith("cs-") else value
    split_request(g("request").replace('\\"', '"'), fields)
    when = ncsa_time(g("time"))
    return Event("web", record, when, g("vhost"), text, fields)


class W3cState:
    """The columns of the current ``#Fields:`` directive (None before the first)."""

    def __init__(self) -> None:
        self.columns: list[str] | None = None

    def directive(self, text: str) -> None:
        if text.startswith("#Fields:"):
            names = text[len("#Fields:") :].split()
            self.columns = [_W3C_RENAMES.get(n.lower(), n) for n in names]

    def parse(self, text: str, record: int) -> Event:
        if self.columns is None:
            raise LineError("data line before any #Fields directive")
        values = text.split(" ")
        if len(values) != len(self.columns):
            raise LineError(f"{len(values)} values for {len(self.columns)} #Fields columns")
        fields = {k: v for k, v in zip(self.columns, values, strict=True) if v != "-"}
        when = None
        try:
            if "date" in fields and "time" in fields:
                when = iso(f"{fields['date']}T{fields['time']}")
            elif "time" in fields and len(fields["time"]) > 8:
                when = iso(fields["time"])
        except ValueError as exc:
            raise LineError(f"invalid date/time: {exc}", "time") from exc
        host = fields.get("s-computername") or fields.get("cs-host") or fields.get("s-ip")
        return Event("web", record, when, host, text, fields)


class WebFormat:
    name: ClassVar[str] = "web"
    priority: ClassVar[int] = 30

    def sniff(self, head: bytes) -> bool:
        if head.startswith(_W3C_HEAD):
            return True
        line = head.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
        return NCSA.fullmatch(line) is not None

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Event]:
        w3c = W3cState()
        for number, line in iter_lines(stream, ctx.limits.max_record_bytes, ctx.oversize):
            text = line.decode("utf-8", "replace")
            if not text.strip():
                continue
            if text.startswith("#"):
                w3c.directive(text)
                continue
            try:
                yield w3c.parse(text, number) if w3c.columns else parse_ncsa(text, number)
            except LineError as exc:
                ctx.warn(number, str(exc), exc.field)


FORMATS = (WebFormat(),)
