"""What every engine returns: alerts grouped per (rule, host, window), and run statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from tocsin.detect.sigma.compile import CompiledRuleSet
from tocsin.detect.sigma.compiled import RuleInfo
from tocsin.detect.sigma.loader import RuleProblem


@dataclass(frozen=True)
class EventRef:
    """Where a matching event is: enough to show it again from the store."""

    time: datetime | None
    host: str | None
    file: str | None
    record: int | None


@dataclass(frozen=True)
class Alert:
    """The matches of one rule on one host within one alert window."""

    rule: RuleInfo
    host: str | None
    window_start: datetime | None
    count: int
    first: datetime | None
    last: datetime | None
    events: tuple[EventRef, ...]  # the first ``sample_limit`` matches, in time order


@dataclass
class DetectionResult:
    alerts: list[Alert] = field(default_factory=list)
    problems: list[RuleProblem] = field(default_factory=list)  # rules that failed at run time
    events_read: int = 0
    rules_run: int = 0
    seconds: float = 0.0

    def fired(self) -> dict[str, int]:
        """Matches per rule id."""
        counts: dict[str, int] = {}
        for alert in self.alerts:
            counts[alert.rule.id] = counts.get(alert.rule.id, 0) + alert.count
        return counts


@dataclass(frozen=True)
class TimeRange:
    """Inclusive bounds on ``_time``; either may be open."""

    since: datetime | None = None
    until: datetime | None = None


class Engine(Protocol):
    def run(self, rules: CompiledRuleSet, time_range: TimeRange | None = None) -> DetectionResult:
        """Run every compiled rule over the store; never raises for one bad rule."""
        ...
