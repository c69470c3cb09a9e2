"""What a log reader yields: normalised events and located warnings (pure data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tocsin.errors import Location


@dataclass(slots=True)
class Event:
    """One normalised record; ``fields`` are Sigma field names with text values."""

    source: str
    record: int
    time: datetime | None = None
    host: str | None = None
    message: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestWarning:
    """A record that was skipped (or a field dropped), with where and why."""

    location: Location
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"

    def document(self) -> dict[str, str | int | None]:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "field": self.location.field,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Limits:
    """Bounds that keep a hostile input from exhausting memory."""

    max_record_bytes: int = 1024 * 1024
    max_decompressed_bytes: int = 20 * 1024 * 1024 * 1024
    max_fields: int = 1000


class LineError(ValueError):
    """A record a parser cannot use, and the field at fault (None: the record as a whole)."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.field = field
