"""Property tests: text parsers never crash on arbitrary bytes and their output is bounded."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.detect.ingest.base import ReadContext, formats
from tocsin.detect.ingest.model import IngestWarning, Limits

TEXT_FORMATS = ("jsonl", "syslog", "web", "fortigate")
LIMITS = Limits(max_record_bytes=512, max_fields=50)
PIECES = st.sampled_from(
    [
        b"<34>",
        b"1 ",
        b"Oct 11 22:14:15 ",
        b"2024-01-05T10:00:00Z ",
        b"[",
        b"]",
        b'"',
        b"\\",
        b"=",
        b"date=2024-01-05 ",
        b"time=10:00:00 ",
        b"tz=+0100 ",
        b"{",
        b"}",
        b":",
        b"\n",
        b"#Fields: date time c-ip\n",
        b'"GET / HTTP/1.1" ',
        b"- - ",
        b"\xef\xbb\xbf",
        b"\xff",
    ]
)
INPUTS = st.one_of(st.binary(max_size=2000), st.lists(PIECES, max_size=80).map(b"".join))


@settings(max_examples=150, deadline=None)
@given(data=INPUTS, name=st.sampled_from(TEXT_FORMATS))
def test_text_parsers_survive_arbitrary_bytes(data: bytes, name: str) -> None:
    warnings: list[IngestWarning] = []
    ctx = ReadContext("fuzz", LIMITS, warnings.append, datetime(2024, 6, 1, tzinfo=UTC))
    events = list(formats()[name].read(io.BufferedReader(io.BytesIO(data)), ctx))
    lines = data.count(b"\n") + 1
    assert len(events) + len(warnings) <= lines
    for event in events:
        assert len(event.fields) <= LIMITS.max_fields
        assert all(isinstance(v, str) for v in event.fields.values())
        assert event.time is None or event.time.tzinfo is not None
        assert 1 <= event.record <= lines
    for warning in warnings:
        assert warning.location.file == "fuzz" and warning.location.line is not None
