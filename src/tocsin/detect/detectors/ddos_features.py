"""Building blocks of the DDoS detector: entropy, EWMA, CUSUM, hour-of-week baselines.

All pure and small enough to property-test one by one (tests/detect/detectors/).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from tocsin.detect.detectors.ddos_model import MinuteStats

MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation


def entropy(counts: Iterable[int]) -> float:
    """Shannon entropy in bits of the distribution given by ``counts`` (zeros ignored)."""
    values = [c for c in counts if c > 0]
    total = sum(values)
    if total == 0:
        return 0.0
    result = math.log2(total) - sum(c * math.log2(c) for c in values) / total
    return max(0.0, result)


def minute_stats(
    log: str,
    target: str,
    minute: datetime,
    counts: Mapping[str, int],
    dest_entropy: float = 0.0,
    top_k: int = 10,
) -> MinuteStats:
    """The features of one minute from requests per source (what the SQL also computes)."""
    heavy = sorted(((s, n) for s, n in counts.items() if n > 0), key=lambda p: (-p[1], p[0]))
    return MinuteStats(
        log=log,
        target=target,
        minute=minute,
        requests=sum(n for _, n in heavy),
        sources=len(heavy),
        source_entropy=entropy(n for _, n in heavy),
        dest_entropy=dest_entropy,
        top=tuple(heavy[:top_k]),
    )


class Ewma:
    """Exponentially weighted moving average; the first value initialises it."""

    def __init__(self, alpha: float) -> None:
        if not 0 < alpha <= 1:
            raise ValueError("alpha must be in (0, 1]")
        self.alpha = alpha
        self.value: float | None = None

    def update(self, x: float) -> float:
        self.value = x if self.value is None else self.value + self.alpha * (x - self.value)
        return self.value

    def reset(self) -> None:
        self.value = None


class Cusum:
    """One-sided (upper) CUSUM: ``S = max(0, S + x - k)``, alarm when ``S >= h``.

    Page's test: it sums only the part of each observation above the reference ``k``, so a
    sustained small excess adds up while values under ``k`` pull the sum back to zero.
    """

    def __init__(self, k: float, h: float) -> None:
        if h <= 0:
            raise ValueError("h must be positive")
        self.k = k
        self.h = h
        self.value = 0.0

    def update(self, x: float, k: float | None = None) -> bool:
        self.value = max(0.0, self.value + x - (self.k if k is None else k))
        return self.value >= self.h

    def reset(self) -> None:
        self.value = 0.0


@dataclass(frozen=True)
class Baseline:
    """What a minute of one hour of the week usually looks like for one target."""

    requests: float  # median requests per minute
    requests_mad: float
    entropy: float  # median source entropy (bits)
    entropy_mad: float
    top: float  # median requests of the heaviest source
    level: str  # "hour-of-week", "hour-of-day" or "global": which history it came from


@dataclass(frozen=True)
class _Point:
    requests: float
    entropy: float
    top: float


def _robust(values: list[float]) -> tuple[float, float]:
    mid = median(values)
    return mid, median(abs(v - mid) for v in values)


def _baseline(points: Iterable[_Point], level: str) -> Baseline:
    items = list(points)
    req, req_mad = _robust([p.requests for p in items])
    ent, ent_mad = _robust([p.entropy for p in items])
    top, _ = _robust([p.top for p in items])
    return Baseline(req, req_mad, ent, ent_mad, top, level)


class SlotHistory:
    """Minutes seen for one target, per hour of the week, per hour of the day and overall.

    ``baseline(t)`` uses, in order: the same hour of the week in earlier weeks (at most
    ``weeks``), the same hour of the day over the last 7 days, then a conservative global
    level (the 90th percentile of the last day). It is computed once per hour and only from
    minutes added before that hour began. Callers add only minutes outside alerts, so a
    flood never becomes the norm.
    """

    def __init__(self, weeks: int, min_values: int) -> None:
        self.weeks = weeks
        self.min_values = min_values
        self._week: dict[int, deque[tuple[int, _Point]]] = {}
        self._day: dict[int, deque[tuple[int, _Point]]] = {}
        self._all: deque[float] = deque(maxlen=1440)
        self.seen = 0
        self._cache: tuple[datetime, Baseline | None] | None = None

    @staticmethod
    def _keys(local: datetime) -> tuple[int, int, int, int]:
        """(hour of week, hour of day, week number, day number) of a local time."""
        days = local.toordinal()
        return local.weekday() * 24 + local.hour, local.hour, (days - 1) // 7, days

    def add(self, local: datetime, requests: float, source_entropy: float, top: float) -> None:
        slot, hour, week, day = self._keys(local)
        point = _Point(requests, source_entropy, top)
        self._week.setdefault(slot, deque(maxlen=60 * self.weeks)).append((week, point))
        self._day.setdefault(hour, deque(maxlen=60 * 7)).append((day, point))
        self._all.append(requests)
        self.seen += 1

    def baseline(self, local: datetime) -> Baseline | None:
        hour_start = local.replace(minute=0, second=0, microsecond=0)
        if self._cache is not None and self._cache[0] == hour_start:
            return self._cache[1]
        result = self._compute(local)
        self._cache = (hour_start, result)
        return result

    def _compute(self, local: datetime) -> Baseline | None:
        slot, hour, week, day = self._keys(local)
        weekly = [p for w, p in self._week.get(slot, ()) if w < week]
        if len(weekly) >= self.min_values:
            return _baseline(weekly, "hour-of-week")
        daily = [p for d, p in self._day.get(hour, ()) if day - 7 <= d < day]
        if len(daily) >= self.min_values:
            return _baseline(daily, "hour-of-day")
        if len(self._all) >= self.min_values:
            ordered = sorted(self._all)
            level = ordered[int(0.9 * (len(ordered) - 1))]
            return Baseline(level, 0.0, 0.0, math.inf, 0.0, "global")
        return None
