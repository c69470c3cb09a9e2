"""What every engine returns: alerts grouped per (rule, host, window), and run statistics."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

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


def group_alert(
    info: Mapping[str, RuleInfo],
    group: Sequence[Any],
    window: int,
    samples: Mapping[tuple[Any, Any, Any], list[EventRef]],
    moment: Callable[[Any], datetime | None],
) -> Alert:
    """The alert of one row of ``alert_groups`` (rule, host, window number, count, first,
    last); ``moment`` reads the engine's time values, ``window`` is the window in seconds."""
    rule, host, win, count, first, last = group
    start = None if win is None else datetime.fromtimestamp(win * window, UTC)
    return Alert(
        rule=info[rule],
        host=host,
        window_start=start,
        count=int(count),
        first=moment(first),
        last=moment(last),
        events=tuple(samples.get((rule, host, win), ())),
    )


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
