"""The feed-source extension point.

A source is one module under ``watch/sources/`` named after what it reads. It exposes
``parse(raw, origin, report)`` — pure, tested on recorded files — which yields
:class:`~tocsin.model.advisory.Advisory` records (or :class:`Enrichment` for feeds that
only add exploitation signals to CVEs, such as KEV and EPSS). A record it cannot read is
counted in the :class:`ParseReport` with its location and reason, and parsing goes on.
Fetching (HTTP with conditional requests, retries, size limits) is separate, so that the
same ``parse`` serves live updates, mirrors for air-gapped sites and ``watch match``.

Sources register in one name → class registry that refuses duplicates; third parties
plug in through the ``tocsin.watch_sources`` entry-point group.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import ClassVar, Protocol

from tocsin.errors import InputError, Location, UsageError
from tocsin.model.advisory import Advisory, Exploitation

# Hostile-input limits: one document, and the whole of a decompressed stream.
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
MAX_DECOMPRESSED_BYTES = 4 * 1024 * 1024 * 1024
MAX_LINE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Enrichment:
    """Exploitation signals for one CVE, from a feed that is not an advisory (KEV, EPSS)."""

    cve: str
    exploitation: Exploitation
    source: str


Record = Advisory | Enrichment


@dataclass(frozen=True)
class Skip:
    """A record that could not be read: where, and why."""

    location: Location
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


@dataclass
class ParseReport:
    """What a parse read and what it skipped (partial failure is data)."""

    source: str
    parsed: int = 0
    skipped: list[Skip] = field(default_factory=list)

    def skip(self, location: Location, reason: str) -> None:
        self.skipped.append(Skip(location, reason))

    def reasons(self) -> dict[str, int]:
        """Skips counted by reason, for summaries."""
        counts: dict[str, int] = {}
        for skip in self.skipped:
            counts[skip.reason] = counts.get(skip.reason, 0) + 1
        return counts


class Source(Protocol):
    name: ClassVar[str]
    description: ClassVar[str]

    def parse(self, raw: bytes, origin: str, report: ParseReport) -> Iterator[Record]:
        """Parse one document (a file, an HTTP body, one JSON line) into records."""
        ...


_REGISTRY: dict[str, type[Source]] = {}
_ENTRY_POINTS_LOADED = False


def register(cls: type[Source]) -> type[Source]:
    """Class decorator adding a source to the registry; duplicate names are refused."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise UsageError(f"watch source {cls.name!r} is already registered")
    _REGISTRY[cls.name] = cls
    return cls


def sources() -> dict[str, type[Source]]:
    import tocsin.watch.sources  # noqa: F401 - registers the bundled sources

    global _ENTRY_POINTS_LOADED
    if not _ENTRY_POINTS_LOADED:
        _ENTRY_POINTS_LOADED = True
        for entry in entry_points(group="tocsin.watch_sources"):
            register(entry.load())
    return dict(_REGISTRY)


def get_source(name: str) -> Source:
    available = sources()
    if name not in available:
        known = ", ".join(sorted(available))
        raise UsageError(f"unknown source kind {name!r}; known: {known}")
    return available[name]()


# -- reading recorded files: a file, a folder, a .gz, JSON lines ----------------------
@dataclass(frozen=True)
class Document:
    """One unit handed to ``parse``: its bytes and where they came from."""

    origin: str
    raw: bytes


def _read_bounded(stream: io.BufferedIOBase | gzip.GzipFile, origin: str, limit: int) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"document over the limit of {limit:,} bytes", Location(origin))
    return data


def _jsonl_documents(stream: io.BufferedIOBase | gzip.GzipFile, origin: str) -> Iterator[Document]:
    total = 0
    for number, line in enumerate(stream, start=1):
        total += len(line)
        if total > MAX_DECOMPRESSED_BYTES:
            raise InputError("decompressed data over the limit", Location(origin, number))
        if len(line) > MAX_LINE_BYTES:
            raise InputError("line over the size limit", Location(origin, number))
        if line.strip():
            yield Document(f"{origin}:{number}", line)


def iter_documents(path: Path) -> Iterator[Document]:
    """Documents under ``path``: a file, a folder (recursively, sorted), ``.gz`` files.

    ``.jsonl`` and ``.jsonl.gz`` files give one document per line; other files are one
    document each. Sizes are bounded so that a hostile file cannot exhaust memory.
    """
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            if not child.name.startswith("."):
                yield from iter_documents(child)
        return
    if not path.exists():
        raise InputError("no such file or folder", Location(str(path)))
    origin = str(path)
    name = path.name.lower()
    if name.endswith(".gz"):
        with gzip.open(path, "rb") as stream:
            if name.endswith(".jsonl.gz") or name.endswith(".ndjson.gz"):
                yield from _jsonl_documents(stream, origin)
            else:
                yield Document(origin, _read_bounded(stream, origin, MAX_DOCUMENT_BYTES))
        return
    with path.open("rb") as handle:
        if name.endswith((".jsonl", ".ndjson")):
            yield from _jsonl_documents(handle, origin)
        else:
            yield Document(origin, _read_bounded(handle, origin, MAX_DOCUMENT_BYTES))
