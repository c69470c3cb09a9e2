"""FIRST EPSS daily scores (``epss_scores-YYYY-MM-DD.csv``, plain or gzip-compressed).

The file starts with a comment line such as
``#model_version:v2025.03.14,score_date:2025-08-25T00:00:00+0000``, then the header
``cve,epss,percentile``, then one row per CVE. Each row gives an :class:`Enrichment` with
``epss`` (the probability of exploitation in the next 30 days) and ``epss_percentile``.

Rows are checked by hand rather than by a pydantic model: three columns, a CVE id, two
finite numbers in [0, 1]; at a quarter of a million rows a day this is several times
faster. A bad row is a counted skip with its line number; so is a second row for a CVE.
A document without the header is one skip; a JSON document of another feed raises
:class:`InputError`. Gzip input is decompressed up to the document size limit.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from tocsin.errors import InputError, Location
from tocsin.model.advisory import Exploitation
from tocsin.watch.sources.base import MAX_DOCUMENT_BYTES, Enrichment, ParseReport, Record, register
from tocsin.watch.sources.nvd import KIND_LABELS, document_kind

HEADER = ("cve", "epss", "percentile")
_CVE = re.compile(r"^CVE-\d{4}-\d{4,19}$")
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class ScoreFile:
    """What the comment line says about the scores (empty when there is none)."""

    model_version: str | None = None
    score_date: str | None = None


def score_file(raw: bytes) -> ScoreFile:
    """The model version and score date from the comment line, for the service to record."""
    if raw.startswith(_GZIP_MAGIC):
        raw = _gunzip(raw, "EPSS file")
    first = raw.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace")
    if not first.startswith("#"):
        return ScoreFile()
    fields: dict[str, str] = {}
    for part in first.lstrip("#").split(","):
        key, sep, value = part.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return ScoreFile(fields.get("model_version"), fields.get("score_date"))


@dataclass(frozen=True)
class _Columns:
    cve: int
    epss: int
    percentile: int
    width: int


def _gunzip(raw: bytes, origin: str) -> bytes:
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    try:
        data = inflater.decompress(raw, MAX_DOCUMENT_BYTES + 1)
    except zlib.error as exc:
        raise InputError(f"damaged gzip data: {exc}", Location(origin)) from None
    if len(data) > MAX_DOCUMENT_BYTES or inflater.unconsumed_tail:
        raise InputError("decompressed EPSS file over the size limit", Location(origin))
    return data


@register
class EpssSource:
    name: ClassVar[str] = "epss"
    description: ClassVar[str] = "FIRST EPSS daily exploitation probabilities"

    def parse(self, raw: bytes, origin: str, report: ParseReport) -> Iterator[Record]:
        if raw.startswith(_GZIP_MAGIC):
            raw = _gunzip(raw, origin)
        if raw.lstrip()[:1] in (b"{", b"["):
            kind = document_kind(raw)
            if kind is not None:
                raise InputError(f"this is {KIND_LABELS[kind]}, not an EPSS CSV", Location(origin))
        lines = raw.removeprefix(b"\xef\xbb\xbf").splitlines()
        columns: _Columns | None = None
        seen: set[str] = set()
        for number, line in enumerate(lines, start=1):
            text = line.decode("utf-8", errors="replace").strip()
            if not text or text.startswith("#"):
                continue
            if columns is None:
                columns = _header(text)
                if columns is None:
                    report.skip(
                        Location(origin, number),
                        "not an EPSS CSV: no cve,epss,percentile header",
                    )
                    return
                continue
            record = _row(text, columns, seen)
            if isinstance(record, str):
                report.skip(Location(origin, number), f"row skipped: {record}")
                continue
            report.parsed += 1
            yield record


def _header(text: str) -> _Columns | None:
    names = [name.strip().lower() for name in text.split(",")]
    if not set(HEADER) <= set(names):
        return None
    cve, epss, percentile = (names.index(name) for name in HEADER)
    return _Columns(cve, epss, percentile, len(names))


def _row(text: str, columns: _Columns, seen: set[str]) -> Enrichment | str:
    """The row's enrichment, or why it cannot be read."""
    cells = text.split(",")
    if len(cells) != columns.width:
        return f"expected {columns.width} columns, found {len(cells)}"
    cve = cells[columns.cve].strip().upper()
    if not _CVE.match(cve):
        return "not a CVE id"
    scores: list[float] = []
    for name, index in (("epss", columns.epss), ("percentile", columns.percentile)):
        try:
            value = float(cells[index])
        except ValueError:
            return f"{name} is not a number"
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            return f"{name} is not between 0 and 1"
        scores.append(value)
    if cve in seen:
        return "a second row for the same CVE"
    seen.add(cve)
    exploitation = Exploitation(epss=scores[0], epss_percentile=scores[1])
    return Enrichment(cve, exploitation, EpssSource.name)
