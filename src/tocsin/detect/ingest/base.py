"""The one interface of a log format, its registry, and what a reader is given."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import entry_points
from typing import BinaryIO, ClassVar, Protocol

from tocsin.detect.ingest.model import Event, IngestWarning, Limits
from tocsin.errors import Location, UsageError

ENTRY_POINT_GROUP = "tocsin.detect.ingest"


@dataclass
class ReadContext:
    """What a reader gets besides the stream: the file's name, limits, a warning sink."""

    file: str
    limits: Limits = field(default_factory=Limits)
    sink: Callable[[IngestWarning], None] = lambda warning: None
    # When the file was written: the year of RFC 3164 timestamps is inferred from it.
    reference: datetime = field(default_factory=lambda: datetime.now(UTC))

    def warn(self, record: int | None, reason: str, field_name: str | None = None) -> None:
        self.sink(IngestWarning(Location(self.file, record, field=field_name), reason))

    def oversize(self, record: int, size: int) -> None:
        self.warn(record, f"record of {size:,} bytes exceeds {self.limits.max_record_bytes:,}")


class LogFormat(Protocol):
    """A log format: recognise it from the first bytes, then stream normalised events.

    ``read`` never raises for one bad record: it reports it through ``ctx.warn`` and goes
    on. It raises :class:`~tocsin.errors.InputError` only when the file as a whole cannot
    be read.
    """

    name: ClassVar[str]
    # Lower sniffs first; a cheap, specific test (magic bytes) gets a low number.
    priority: ClassVar[int]

    def sniff(self, head: bytes) -> bool: ...

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Event]: ...


_REGISTRY: dict[str, LogFormat] = {}


def register(fmt: LogFormat) -> LogFormat:
    """Add a format under its name; a second format with the same name is refused."""
    if fmt.name in _REGISTRY:
        raise UsageError(f"log format {fmt.name!r} is already registered")
    _REGISTRY[fmt.name] = fmt
    return fmt


def formats() -> dict[str, LogFormat]:
    """Every registered format, built-in ones and entry-point plug-ins."""
    _load_builtins()
    return dict(_REGISTRY)


def get_format(name: str) -> LogFormat:
    known = formats()
    if name not in known:
        raise UsageError(f"unknown log format {name!r}; known: {', '.join(sorted(known))}")
    return known[name]


def detect_format(head: bytes) -> LogFormat | None:
    """The first format, by priority, that recognises ``head``."""
    for fmt in sorted(formats().values(), key=lambda f: (f.priority, f.name)):
        if fmt.sniff(head):
            return fmt
    return None


_loaded = False


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from tocsin.detect.ingest import evtx, fortigate, jsonl, syslog, web

    for module in (evtx, jsonl, syslog, web, fortigate):
        for fmt in module.FORMATS:
            register(fmt)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        register(entry.load()())
