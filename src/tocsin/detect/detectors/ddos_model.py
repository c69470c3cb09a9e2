"""What the DDoS detector reads, decides with and returns (docs/detect-ddos.md).

* :class:`MinuteStats` — one minute of traffic to one target (a web virtual host, or a
  firewall ``dstip:dstport``): requests, distinct sources, entropies, heaviest sources.
* :class:`DdosPolicy` — every threshold, with the reasoning for its default.
* :class:`DdosAlert` — one flood: start, end, peak rate, baseline, top sources, shape.

Pure types only: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class MinuteStats:
    """Traffic of one minute to one target.

    ``source_entropy`` is the Shannon entropy (bits) of the requests over source addresses:
    0 when one source sends everything, ``log2(n)`` when ``n`` sources send one each.
    ``dest_entropy`` is the same over the targets of the whole log (``log``) in that minute:
    it falls when a flood concentrates the log's traffic on one target. ``top`` holds the
    heaviest sources, heaviest first, with their request counts.
    """

    log: str  # "web" or "fortigate": the store partition the minute comes from
    target: str
    minute: datetime  # UTC, floored to the minute
    requests: int
    sources: int
    source_entropy: float
    dest_entropy: float
    top: tuple[tuple[str, int], ...]

    @property
    def top_share(self) -> float:
        """Share of the requests sent by the heaviest source (0 when no request)."""
        return self.top[0][1] / self.requests if self.top and self.requests else 0.0


class Shape(StrEnum):
    SINGLE_SOURCE = "single-source"
    DISTRIBUTED = "distributed"
    RAMP = "ramp"
    PULSE = "pulse"


class Trigger(StrEnum):
    """Which test raised (or kept open) the alert."""

    VOLUME = "volume"  # CUSUM of the request ratio to the hour-of-week baseline
    SOURCE_RATE = "source-rate"  # one source above the absolute or relative limit
    CONCENTRATION = "concentration"  # source entropy fell (CUSUM) while volume rose


@dataclass(frozen=True)
class DdosPolicy:
    """Thresholds of the DDoS detector; every default is argued in docs/detect-ddos.md.

    Rates are requests (web) or sessions (firewall) per minute. Ratios compare a minute with
    the baseline of its hour of the week, both plus ``rate_floor``.
    """

    # Wall-clock zone of the hour-of-week slots: traffic follows local office hours.
    timezone: str = "UTC"
    # Weeks of history per slot: a month follows seasonal drift; the median over it
    # ignores one abnormal week.
    history_weeks: int = 4
    # Minutes seen before any volume test: without one full day there is no diurnal
    # reference, and the morning rise from the night would look like a flood.
    warmup_minutes: int = 1440
    # Values a slot (or an hour of day) needs before its median is trusted: half an hour.
    min_slot_values: int = 30
    # Added to both sides of every ratio: below ~0.5 req/s a doubling means nothing, and
    # it keeps the ratio of a quiet night from exploding on a handful of requests.
    rate_floor: float = 30.0
    # CUSUM reference: a minute counts against the target only above this many times its
    # baseline. Legitimate peaks (Monday morning ~1.5x, lunch ~1.3x, a newsletter ~3x)
    # stay under it; a flood worth the name does not.
    alert_ratio: float = 4.0
    # CUSUM decision interval, in doublings above the reference: one minute 23 % above it
    # (4.9x), two minutes at 4.5x, or a ramp that keeps climbing. Small on purpose: the
    # reference already sits above every legitimate peak, so h only absorbs the noise of
    # one minute (about 20 % at a few hundred requests per minute).
    cusum_threshold: float = 0.3
    # Entropy CUSUM reference (bits): a change of 2 bits is the traffic of 4x fewer (or
    # more) effective sources. Widened to 3 robust sigmas of the slot when noisier.
    entropy_shift_bits: float = 2.0
    entropy_threshold: float = 1.0
    # A concentration alarm (entropy down) also needs this volume ratio and this many extra
    # requests per minute: a crawler burst on a quiet night concentrates traffic too.
    concentration_ratio: float = 3.0
    concentration_excess: float = 300.0
    # One source at or above this rate is a flood whatever the history: 20 req/s for a
    # whole minute is no browser and no proxy of a hospital's staff.
    source_limit: int = 1200
    # Relative limit: at least ``source_min_rate`` (5 req/s) and ``source_rel_factor``
    # times the slot's usual heaviest source (so a known API client or NAT gateway that
    # always sends 400/min is not flagged, but a new 400/min source is).
    source_min_rate: int = 300
    source_rel_factor: float = 5.0
    # Hysteresis: an alert stays open until ``quiet_minutes`` minutes in a row are below
    # ``release_ratio`` with no source above half its limit, so one flood with gaps is one
    # alert, and its end is the last minute above those.
    release_ratio: float = 2.0
    quiet_minutes: int = 5
    # Smoothing of the request ratio shown as the alert's trend (EWMA weight of a minute).
    ewma_alpha: float = 0.3
    # Shape guess: a ramp climbs at least this long from its first elevated minute to its
    # peak; a pulse is active at most ``pulse_minutes``.
    ramp_minutes: int = 10
    pulse_minutes: int = 5
    single_source_share: float = 0.5
    # Severity by peak ratio to baseline.
    high_ratio: float = 8.0
    critical_ratio: float = 20.0
    top_sources: int = 10

    def __post_init__(self) -> None:
        if self.alert_ratio <= self.release_ratio or self.release_ratio < 1:
            raise ValueError("need 1 <= release_ratio < alert_ratio")
        if min(self.rate_floor, self.cusum_threshold, self.entropy_threshold) <= 0:
            raise ValueError("rate_floor and thresholds must be positive")
        if not 0 < self.ewma_alpha <= 1:
            raise ValueError("ewma_alpha must be in (0, 1]")


@dataclass(frozen=True)
class DdosAlert:
    """One flood on one target."""

    log: str
    target: str
    start: datetime  # first elevated minute (ratio >= release_ratio) before the alarm
    detected: datetime  # the minute whose data raised the alarm
    end: datetime  # last elevated minute
    peak_rate: int  # requests in the busiest minute
    peak_minute: datetime
    baseline: float  # the hour-of-week baseline (req/min) at the peak
    peak_sources: int  # distinct sources in the busiest minute
    requests: int  # requests from start to end
    top_sources: tuple[tuple[str, int], ...]  # summed over the alert's per-minute top lists
    shape: Shape
    severity: str  # "medium", "high" or "critical"
    triggers: tuple[Trigger, ...]
    entropy_shift: float  # source entropy at the peak minus its baseline (bits)
    ongoing: bool  # still elevated at the end of the data

    @property
    def peak_ratio(self) -> float:
        return self.peak_rate / self.baseline if self.baseline > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON shape (docs/detect-ddos.md), version 1."""
        return {
            "rule": "tocsin-ddos",
            "log": self.log,
            "target": self.target,
            "start": self.start.isoformat(),
            "detected": self.detected.isoformat(),
            "end": self.end.isoformat(),
            "peak_rate": self.peak_rate,
            "peak_minute": self.peak_minute.isoformat(),
            "baseline": round(self.baseline, 1),
            "peak_ratio": round(min(self.peak_ratio, 1e9), 1),
            "peak_sources": self.peak_sources,
            "requests": self.requests,
            "top_sources": [{"source": s, "requests": n} for s, n in self.top_sources],
            "shape": self.shape.value,
            "level": self.severity,
            "triggers": [t.value for t in self.triggers],
            "entropy_shift": round(self.entropy_shift, 2),
            "ongoing": self.ongoing,
        }
