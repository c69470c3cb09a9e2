"""Detection alerts as the rest of Tocsin sees them, whatever raised them.

A Sigma rule (``sigma``), the DDoS detector (``ddos``), a canary check (``canary``) or the
file-share watcher (``watcher``) each produce :class:`DetectedAlert` values: the matches of
one rule on one host within one window, with a few of the matching events copied in so the
alert can be shown after the logs are gone. The store groups them by :attr:`group_key`, so
running the same detection again updates an alert rather than adding a second one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypeAlias

# JSON values kept in an alert's details (DDoS peak rate, top sources, rule file…).
JsonScalar: TypeAlias = str | int | float | bool | None
JsonValue: TypeAlias = JsonScalar | list["JsonValue"] | dict[str, "JsonValue"]

LEVELS = ("informational", "low", "medium", "high", "critical")
NOTIFY_LEVELS = frozenset({"high", "critical"})


class AlertSource(StrEnum):
    SIGMA = "sigma"
    DDOS = "ddos"
    CANARY = "canary"
    WATCHER = "watcher"


class AlertStatus(StrEnum):
    """Where the analyst is with an alert."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"  # handled (an incident was opened, or it was benign and explained)
    FALSE_POSITIVE = "false_positive"


def level_rank(level: str) -> int:
    """Position of ``level`` in :data:`LEVELS` (-1 for an unknown level)."""
    return LEVELS.index(level) if level in LEVELS else -1


@dataclass(frozen=True)
class AlertEvent:
    """One matching event copied into the alert: where it is, and its non-empty fields."""

    time: datetime | None
    host: str | None
    file: str | None
    record: int | None
    fields: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, JsonValue]:
        return {
            "time": self.time.isoformat() if self.time else None,
            "host": self.host,
            "file": self.file,
            "record": self.record,
            "fields": dict(self.fields),
        }


@dataclass(frozen=True)
class DetectedAlert:
    """The matches of one rule (or detector) on one host within one window."""

    source: AlertSource
    rule: str  # Sigma rule id, or the detector's name (``tocsin-ddos``)
    title: str
    level: str  # one of LEVELS
    host: str | None  # the host or, for DDoS, the target under attack
    window_start: datetime | None
    first: datetime | None
    last: datetime | None
    count: int  # matching events (DDoS: requests during the flood)
    attack: tuple[str, ...] = ()  # ATT&CK technique ids (T1490…)
    tags: tuple[str, ...] = ()
    details: dict[str, JsonValue] = field(default_factory=dict)
    events: tuple[AlertEvent, ...] = ()

    @property
    def group_key(self) -> str:
        """Same rule, host and window: the same alert (a hex SHA-256)."""
        window = self.window_start.isoformat() if self.window_start else "-"
        host = (self.host or "-").lower()
        text = "\x1f".join((self.source.value, self.rule, host, window))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
