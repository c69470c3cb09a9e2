"""DDoS detection on per-minute web and firewall traffic (docs/detect-ddos.md).

``detect(minutes, policy)`` takes :class:`MinuteStats` (from the event store through
``ddos_store.read_minutes``, or from the synthetic generator) and returns one
:class:`DdosAlert` per flood. Per target, minute by minute, in time order:

1. the baseline of the minute's hour of the week (``SlotHistory``);
2. ``y = log2((x + c) / (b + c))``, the request ratio to the baseline in doublings, feeds a
   one-sided CUSUM with reference ``log2(alert_ratio)`` (trigger ``volume``);
3. each heavy source is checked against the absolute and relative limits (``source-rate``);
4. the source entropy's deviation from its baseline feeds two CUSUMs (up and down); a fall
   with enough extra volume is a flood from a few sources (``concentration``);
5. an alert opens at the first trigger and closes after ``quiet_minutes`` quiet minutes
   (hysteresis); minutes inside an alert never enter the baseline.

Pure: no I/O.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tocsin.detect.detectors.ddos_features import (
    MAD_TO_SIGMA,
    Baseline,
    Cusum,
    Ewma,
    SlotHistory,
)
from tocsin.detect.detectors.ddos_model import (
    DdosAlert,
    DdosPolicy,
    MinuteStats,
    Shape,
    Trigger,
)

MINUTE = timedelta(minutes=1)
_LOOKBACK = 60  # minutes kept to find where an alert's excursion began


@dataclass
class _Open:
    """An alert being built."""

    start: datetime
    detected: datetime
    end: datetime
    peak: MinuteStats
    peak_baseline: float
    peak_entropy_shift: float
    requests: int = 0
    triggers: set[Trigger] = field(default_factory=set)
    sources: Counter[str] = field(default_factory=Counter)
    pending: list[MinuteStats] = field(default_factory=list)  # quiet minutes not yet counted
    rates: list[tuple[datetime, int]] = field(default_factory=list)  # requests per minute

    def absorb(self, m: MinuteStats, baseline: float, shift: float) -> None:
        for item in [*self.pending, m]:
            self.requests += item.requests
            self.sources.update(dict(item.top))
            self.rates.append((item.minute, item.requests))
        self.pending.clear()
        self.end = m.minute
        if m.requests > self.peak.requests:
            self.peak, self.peak_baseline, self.peak_entropy_shift = m, baseline, shift


class _TargetDetector:
    """The state of one target: baselines, CUSUMs and the open alert."""

    def __init__(self, policy: DdosPolicy, zone: ZoneInfo) -> None:
        self.p = policy
        self.zone = zone
        self.history = SlotHistory(policy.history_weeks, policy.min_slot_values)
        self.volume = Cusum(math.log2(policy.alert_ratio), policy.cusum_threshold)
        self.entropy_up = Cusum(policy.entropy_shift_bits, policy.entropy_threshold)
        self.entropy_down = Cusum(policy.entropy_shift_bits, policy.entropy_threshold)
        self.trend = Ewma(policy.ewma_alpha)
        self.recent: deque[tuple[MinuteStats, float]] = deque(maxlen=_LOOKBACK)
        self.open: _Open | None = None
        self.quiet = 0
        self.alerts: list[DdosAlert] = []

    def step(self, m: MinuteStats) -> None:
        local = m.minute.astimezone(self.zone)
        base = self.history.baseline(local) if self.history.seen >= self.p.warmup_minutes else None
        c = self.p.rate_floor
        expected = base.requests if base else 0.0
        y = math.log2((m.requests + c) / (expected + c))
        ratio = 2**y if base else 1.0  # no level to compare with during the warm-up
        shift = m.source_entropy - base.entropy if base and math.isfinite(base.entropy_mad) else 0.0
        triggers = self._triggers(m, base, y, ratio, shift)
        self.trend.update(y)
        elevated = ratio >= self.p.release_ratio or self._heavy(m, base, release=True)
        if self.open is None:
            if triggers:
                self._start(m, expected, shift, triggers)
            else:
                self.history.add(local, m.requests, m.source_entropy, m.top[0][1] if m.top else 0)
        elif elevated:  # the CUSUMs remember the flood: only this minute's level counts
            self.quiet = 0
            self.open.triggers |= triggers
            self.open.absorb(m, expected, shift)
        else:
            self.open.pending.append(m)
            if (self.trend.value or 0.0) < math.log2(self.p.release_ratio):
                self.quiet += 1  # the smoothed ratio too must have come down
            if self.quiet >= self.p.quiet_minutes:
                self._close(ongoing=False)
        self.recent.append((m, ratio))

    def finish(self) -> None:
        if self.open is not None:
            self._close(ongoing=self.quiet == 0)

    # --- tests -----------------------------------------------------------------------------
    def _triggers(
        self, m: MinuteStats, base: Baseline | None, y: float, ratio: float, shift: float
    ) -> set[Trigger]:
        found: set[Trigger] = set()
        if self._heavy(m, base, release=False):
            found.add(Trigger.SOURCE_RATE)
        if base is None:
            return found
        if self.volume.update(y):
            found.add(Trigger.VOLUME)
        k = max(self.p.entropy_shift_bits, 3 * MAD_TO_SIGMA * base.entropy_mad)
        if math.isfinite(k):
            self.entropy_up.update(shift, k)
            down = self.entropy_down.update(-shift, k)
            excess = m.requests - base.requests
            if (
                down
                and ratio >= self.p.concentration_ratio
                and excess >= self.p.concentration_excess
            ):
                found.add(Trigger.CONCENTRATION)
        return found

    def _heavy(self, m: MinuteStats, base: Baseline | None, *, release: bool) -> bool:
        """Is a source above the absolute limit, or the relative one (both halved to stay)?"""
        if not m.top:
            return False
        scale = 0.5 if release else 1.0
        count = m.top[0][1]
        if count >= self.p.source_limit * scale:
            return True
        if base is None:
            return False
        relative = max(self.p.source_min_rate, self.p.source_rel_factor * base.top)
        return count >= relative * scale

    # --- alert lifecycle -------------------------------------------------------------------
    def _start(self, m: MinuteStats, expected: float, shift: float, trig: set[Trigger]) -> None:
        start = m.minute
        for previous, ratio in reversed(self.recent):  # walk back over the run-up
            if ratio < self.p.release_ratio or previous.minute != start - MINUTE:
                break
            start = previous.minute
        self.open = _Open(start, m.minute, m.minute, m, expected, shift)
        for previous, _ in self.recent:
            if previous.minute >= start:
                self.open.requests += previous.requests
                self.open.sources.update(dict(previous.top))
                self.open.rates.append((previous.minute, previous.requests))
        self.open.triggers |= trig
        self.open.absorb(m, expected, shift)
        self.quiet = 0

    def _close(self, *, ongoing: bool) -> None:
        o = self.open
        assert o is not None  # noqa: S101 - only called with an open alert
        p = self.p
        peak = o.peak
        top = tuple(sorted(o.sources.items(), key=lambda s: (-s[1], s[0]))[: p.top_sources])
        ratio = (peak.requests + p.rate_floor) / (o.peak_baseline + p.rate_floor)
        severity = "medium"
        if ratio >= p.high_ratio:
            severity = "critical" if ratio >= p.critical_ratio else "high"
        self.alerts.append(
            DdosAlert(
                log=peak.log,
                target=peak.target,
                start=o.start,
                detected=o.detected,
                end=o.end,
                peak_rate=peak.requests,
                peak_minute=peak.minute,
                baseline=o.peak_baseline,
                peak_sources=peak.sources,
                requests=o.requests,
                top_sources=top,
                shape=_shape(o, p),
                severity=severity,
                triggers=tuple(sorted(o.triggers)),
                entropy_shift=o.peak_entropy_shift,
                ongoing=ongoing,
            )
        )
        self.open = None
        self.quiet = 0
        for cusum in (self.volume, self.entropy_up, self.entropy_down):
            cusum.reset()


def _shape(o: _Open, p: DdosPolicy) -> Shape:
    """Single source, ramp, pulse or distributed, from the alert's own minutes."""
    total = max(o.requests, 1)
    heaviest = max(o.sources.values(), default=0)
    if heaviest / total >= p.single_source_share or o.peak.top_share >= p.single_source_share:
        return Shape.SINGLE_SOURCE
    rise = (o.peak.minute - o.start) / MINUTE
    half = next(t for t, n in o.rates if 2 * n >= o.peak.requests)
    if rise >= p.ramp_minutes and (half - o.start) / MINUTE >= p.ramp_minutes / 2:
        return Shape.RAMP  # a slow climb: half the peak only after ramp_minutes / 2
    if (o.end - o.start) / MINUTE < p.pulse_minutes:
        return Shape.PULSE
    return Shape.DISTRIBUTED


def _filled(minutes: list[MinuteStats]) -> Iterable[MinuteStats]:
    """The minutes of one target in order, with the silent minutes between them as zeros."""
    previous: MinuteStats | None = None
    for m in minutes:
        if previous is not None:
            gap = previous.minute + MINUTE
            while gap < m.minute:
                yield MinuteStats(m.log, m.target, gap, 0, 0, 0.0, 0.0, ())
                gap += MINUTE
        yield m
        previous = m


def detect(minutes: Iterable[MinuteStats], policy: DdosPolicy | None = None) -> list[DdosAlert]:
    """Every flood in ``minutes`` (any order, any mix of targets), sorted by start."""
    policy = policy or DdosPolicy()
    zone = ZoneInfo(policy.timezone)
    by_target: dict[tuple[str, str], dict[datetime, MinuteStats]] = {}
    for m in minutes:
        by_target.setdefault((m.log, m.target), {})[m.minute] = m
    alerts: list[DdosAlert] = []
    for key in sorted(by_target):
        series = by_target[key]
        detector = _TargetDetector(policy, zone)
        for m in _filled([series[t] for t in sorted(series)]):
            detector.step(m)
        detector.finish()
        alerts.extend(detector.alerts)
    return sorted(alerts, key=lambda a: (a.start, a.log, a.target))
