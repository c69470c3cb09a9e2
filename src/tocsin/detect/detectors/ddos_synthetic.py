"""Synthetic traffic of a hospital's patient portal, with floods, for tests, bench and demo.

Seeded and pure (``random.Random``): the same seed gives the same traffic. Normal days have
a diurnal and weekly shape (quiet nights, a morning rise, a lunch peak, a Monday-morning
peak, quiet weekends), day-to-day variation, over-dispersed minute counts, browsers that
send a page and its assets (several requests per view), a staff NAT gateway, a monitoring
probe, crawler bursts, and on some Tuesdays to Thursdays a newsletter surge (a legitimate
peak from thousands of new sources, up to 3.5x the usual rate). Floods of four shapes are
injected on top: one source, a botnet, a slow ramp, a short pulse.

Minutes come out as ``Counter`` of requests per source address; ``access_log_lines`` and
``fortigate_lines`` render them as real log lines so the whole path (ingest, store, SQL
features, detector) can be exercised.
"""

from __future__ import annotations

import functools
import math
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tocsin.detect.detectors.ddos import detect
from tocsin.detect.detectors.ddos_features import minute_stats
from tocsin.detect.detectors.ddos_model import DdosAlert, DdosPolicy, MinuteStats

MINUTE = timedelta(minutes=1)
# Weekday profile (fraction of ``peak_rate``) at whole hours, linearly interpolated.
_WEEKDAY = {0: 0.12, 3: 0.05, 6: 0.1, 8: 0.6, 9: 1.0, 11: 1.0, 12: 1.25, 13: 1.3, 14: 1.0}
_WEEKDAY |= {17: 0.9, 19: 0.6, 21: 0.45, 23: 0.2, 24: 0.12}
_WEEKEND = {0: 0.15, 4: 0.06, 8: 0.2, 10: 0.45, 13: 0.5, 18: 0.45, 21: 0.35, 24: 0.15}
SHAPES = ("single", "botnet", "ramp", "pulse")
# Evaluation: a flood is unmistakable (its onset) from the first minute it adds at least
# 4x the expected legitimate traffic and 5 req/s (the newsletter surge, the largest
# legitimate peak of the model, reaches 3.5x, ~4x with noise), or one of its sources sends
# 5 req/s. Before that, no detector can tell it from a legitimate peak.
ONSET_EXTRA = 4.0
ONSET_MIN = 300
ONSET_SOURCE = 300


def _interpolate(profile: dict[int, float], hour: float) -> float:
    points = sorted(profile)
    for low, high in zip(points, points[1:], strict=False):
        if low <= hour <= high:
            return profile[low] + (profile[high] - profile[low]) * (hour - low) / (high - low)
    return profile[points[-1]]


@functools.lru_cache(maxsize=1 << 18)
def ip(pool: int, index: int) -> str:
    """A stable, distinct public-looking IPv4 address for ``index`` in ``pool``."""
    value = (0x51000000 + pool * 0x00800000 + (index * 2654435761) % 0x007FFFFF) & 0xFFFFFFFF
    return ".".join(str((value >> s) & 255) for s in (24, 16, 8, 0))


def _rng(seed: int | str) -> random.Random:
    return random.Random(seed)  # noqa: S311 - synthetic traffic, not cryptography


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, prod = math.exp(-lam), 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k


@dataclass(frozen=True)
class TrafficModel:
    """Normal traffic of one web service."""

    peak_rate: float = 150.0  # requests/min at a weekday's mid-morning
    monday_boost: float = 0.5  # Monday 8-11 h: up to +50 %
    day_sigma: float = 0.1  # day-to-day lognormal variation
    dispersion: float = 20.0  # gamma shape of the minute rate (over-dispersion)
    hits_per_view: float = 6.0  # mean requests of one page view (page + assets)
    clients: int = 20_000
    nat_share: float = 0.1  # staff behind one address, office hours
    newsletter_chance: float = 0.35  # per Tuesday-Thursday
    newsletter_peak: float = 2.5  # extra traffic at its peak, times the expected rate
    crawler_bursts: int = 2  # per day, 10-20 min at 20-90 req/min from one address


@dataclass(frozen=True)
class Flood:
    shape: str
    start: datetime  # may fall inside a minute
    minutes: float  # duration
    peak_rate: float  # requests/min at full strength
    sources: int
    rise: float = 0.0  # minutes to reach full strength (ramp)

    def rate(self, t: datetime) -> float:
        elapsed = (t - self.start) / MINUTE
        if elapsed < 0 or elapsed >= self.minutes:
            return 0.0
        return self.peak_rate * (min(1.0, elapsed / self.rise) if self.rise else 1.0)


@dataclass
class Traffic:
    """Minutes of one target: requests per source, and the expected legitimate rate."""

    start: datetime
    minutes: list[Counter[str]] = field(default_factory=list)
    expected: list[float] = field(default_factory=list)

    def at(self, index: int) -> datetime:
        return self.start + index * MINUTE


def expected_rate(model: TrafficModel, t: datetime, day_factor: float = 1.0) -> float:
    hour = t.hour + t.minute / 60
    if t.weekday() >= 5:
        return model.peak_rate * _interpolate(_WEEKEND, hour) * day_factor
    rate = _interpolate(_WEEKDAY, hour)
    if t.weekday() == 0 and 8 <= hour < 11:
        rate *= 1 + model.monday_boost * (1 - abs(hour - 9.5) / 1.5)
    return model.peak_rate * rate * day_factor


def _views(
    rng: random.Random, counts: Counter[str], n: int, pool: int, size: int, mean: float
) -> None:
    """Add ``n`` requests as page views of ``mean`` hits from clients of ``pool``."""
    while n > 0:
        hits = min(n, 1 + int(rng.expovariate(1 / max(mean - 1, 0.01))))
        counts[ip(pool, int(size * rng.random() ** 2))] += hits  # some clients more active
        n -= hits


def normal_traffic(seed: int, start: datetime, days: int, model: TrafficModel) -> Traffic:
    """``days`` normal days from ``start`` (midnight UTC)."""
    rng = _rng(seed)
    traffic = Traffic(start)
    for day in range(days):
        day_start = start + timedelta(days=day)
        factor = math.exp(rng.gauss(0, model.day_sigma))
        news = None
        if day_start.weekday() in (1, 2, 3) and rng.random() < model.newsletter_chance:
            news = day_start + timedelta(minutes=rng.uniform(9 * 60, 16 * 60))
        crawls = [
            (rng.uniform(0, 1420), rng.uniform(10, 20), rng.uniform(20, 90))
            for _ in range(model.crawler_bursts)
        ]
        for minute in range(1440):
            t = day_start + minute * MINUTE
            expected = expected_rate(model, t, factor)
            counts: Counter[str] = Counter()
            n = poisson(rng, rng.gammavariate(model.dispersion, expected / model.dispersion))
            office = t.weekday() < 5 and 8 <= t.hour < 18
            nat = poisson(rng, n * model.nat_share) if office else 0
            if nat:
                counts[ip(1, 0)] += nat
            counts[ip(2, 0)] += 1  # monitoring probe
            _views(rng, counts, n - nat, 0, model.clients, model.hits_per_view)
            if news is not None and t >= news:
                since = (t - news) / MINUTE
                strength = min(1.0, since / 5) * math.exp(-max(0.0, since - 5) / 25)
                extra = poisson(rng, model.newsletter_peak * expected * strength)
                _views(rng, counts, extra, 3, 100_000, 3.0)
            for at, length, rate in crawls:
                if at <= minute < at + length:
                    counts[ip(4, 0)] += poisson(rng, rate)
            traffic.minutes.append(counts)
            traffic.expected.append(expected)
    return traffic


def random_flood(shape: str, rng: random.Random, day_start: datetime) -> Flood:
    """A flood of ``shape`` starting at a random time of the day (never at a minute edge)."""
    start = day_start + timedelta(seconds=rng.uniform(30 * 60, 22 * 3600))
    if shape == "single":
        return Flood(shape, start, rng.uniform(15, 40), rng.uniform(400, 3000), 1)
    if shape == "botnet":
        return Flood(
            shape, start, rng.uniform(10, 40), rng.uniform(3000, 20000), rng.randint(1000, 5000)
        )
    if shape == "ramp":
        return Flood(shape, start, 40, rng.uniform(3000, 12000), rng.randint(200, 1000), rise=30)
    if shape == "pulse":
        return Flood(
            shape, start, rng.uniform(2, 3), rng.uniform(3000, 15000), rng.randint(500, 3000)
        )
    raise ValueError(f"unknown flood shape {shape!r}")


def flood_counts(flood: Flood, minute: datetime, rng: random.Random) -> Counter[str]:
    """Requests per source the flood adds in ``minute`` (integrated over 6 s steps)."""
    lam = sum(flood.rate(minute + timedelta(seconds=s + 3)) for s in range(0, 60, 6)) / 10
    n = poisson(rng, lam)
    counts: Counter[str] = Counter()
    if flood.sources == 1:
        counts[ip(9, 7)] = n
    else:
        pool = 10 + SHAPES.index(flood.shape)
        bots = Counter(rng.choices(range(flood.sources), k=n))
        counts.update({ip(pool, bot): hits for bot, hits in bots.items()})
    return +counts


def inject(traffic: Traffic, flood: Flood, seed: int) -> Traffic:
    """A copy of ``traffic`` with ``flood`` added (only the touched minutes are copied)."""
    rng = _rng(seed)
    out = Traffic(traffic.start, list(traffic.minutes), traffic.expected)
    first = int((flood.start - traffic.start) / MINUTE)
    for index in range(first, min(len(out.minutes), first + math.ceil(flood.minutes) + 2)):
        extra = flood_counts(flood, traffic.at(index), rng)
        if extra:
            out.minutes[index] = out.minutes[index] + extra
    return out


def onset(traffic: Traffic, flood: Flood, seed: int) -> datetime | None:
    """The first minute the flood is unmistakable (``ONSET_EXTRA``, ``ONSET_SOURCE``)."""
    rng = _rng(seed)
    first = int((flood.start - traffic.start) / MINUTE)
    for index in range(first, min(len(traffic.minutes), first + math.ceil(flood.minutes) + 2)):
        extra = flood_counts(flood, traffic.at(index), rng)
        total = sum(extra.values())
        volume = total >= max(ONSET_EXTRA * traffic.expected[index], ONSET_MIN)
        if volume or max(extra.values(), default=0) >= ONSET_SOURCE:
            return traffic.at(index)
    return None


# --- log lines ---------------------------------------------------------------------------
_PATHS = ("/", "/rdv", "/rdv/creneaux", "/static/app.js", "/static/app.css", "/login", "/api/slots")


def _spread(
    rng: random.Random, minute: datetime, counts: Counter[str]
) -> list[tuple[datetime, str]]:
    hits = [
        (minute + timedelta(seconds=rng.random() * 59.999), source)
        for source, n in counts.items()
        for _ in range(n)
    ]
    hits.sort()
    return hits


def access_log_lines(traffic: Traffic, host: str, seed: int) -> Iterator[str]:
    """Apache ``vhost_combined`` lines (combined format with the virtual host first)."""
    rng = _rng(seed)
    for index, counts in enumerate(traffic.minutes):
        for when, source in _spread(rng, traffic.at(index), counts):
            stamp = when.astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
            path = _PATHS[int(len(_PATHS) * rng.random() ** 2)]
            yield (
                f'{host}:443 {source} - - [{stamp}] "GET {path} HTTP/1.1" 200 '
                f'{rng.randint(200, 30000)} "-" "Mozilla/5.0 (X11; Linux x86_64)"'
            )


def fortigate_lines(traffic: Traffic, dstip: str, dstport: int, seed: int) -> Iterator[str]:
    """FortiGate traffic log lines, one per session."""
    rng = _rng(seed)
    for index, counts in enumerate(traffic.minutes):
        for when, source in _spread(rng, traffic.at(index), counts):
            yield (
                f'date={when:%Y-%m-%d} time={when:%H:%M:%S} devname="FGT-HOSP" '
                f'devid="FG100E0000000001" logid="0000000013" type="traffic" subtype="forward" '
                f'level="notice" srcip={source} srcport={rng.randint(1024, 65535)} '
                f'dstip={dstip} dstport={dstport} proto=6 action="accept" '
                f'service="HTTPS" duration=1 sentbyte={rng.randint(200, 3000)}'
            )


# --- evaluation --------------------------------------------------------------------------
@dataclass(frozen=True)
class FloodOutcome:
    shape: str
    start: datetime
    onset: datetime | None
    detected: datetime | None  # the minute whose data raised the first overlapping alert
    delay_onset: int | None  # minutes from the onset minute's start to that alarm
    delay_start: int | None  # minutes from the flood's first minute to that alarm
    peak_rate: int  # peak of the alert (requests/min)
    guessed: str | None  # the alert's shape guess
    other_alerts: int  # alerts of the flooded run that do not overlap the flood


@dataclass(frozen=True)
class SeedOutcome:
    seed: int
    normal_days: int
    false_alarms: tuple[DdosAlert, ...]  # alerts over the normal days (no flood injected)
    floods: tuple[FloodOutcome, ...]


def _stats(traffic: Traffic, index: int) -> MinuteStats:
    return minute_stats("web", "portal", traffic.at(index), traffic.minutes[index])


def evaluate_seed(
    seed: int,
    normal_days: int = 14,
    shapes: tuple[str, ...] = SHAPES,
    model: TrafficModel | None = None,
    policy: DdosPolicy | None = None,
) -> SeedOutcome:
    """``normal_days`` days then a test day; the test day once clean, once per flood shape.

    The first day starts on a Monday shifted by the seed, so the test day's weekday varies.
    """
    start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=seed % 7)
    traffic = normal_traffic(seed, start, normal_days + 1, model or TrafficModel())
    clean = [_stats(traffic, i) for i in range(len(traffic.minutes))]
    false_alarms = tuple(detect(clean, policy))
    test_day = start + timedelta(days=normal_days)
    outcomes = []
    for shape in shapes:
        flood = random_flood(shape, _rng(f"{seed}-{shape}"), test_day)
        flooded = inject(traffic, flood, seed)
        stats = list(clean)
        for i, counts in enumerate(flooded.minutes):
            if counts is not traffic.minutes[i]:
                stats[i] = _stats(flooded, i)
        alerts = detect(stats, policy)
        first = flood.start.replace(second=0, microsecond=0)
        last = flood.start + flood.minutes * MINUTE
        hits = [a for a in alerts if a.end >= first and a.start <= last]
        when = onset(traffic, flood, seed)
        hit = hits[0] if hits else None
        outcomes.append(
            FloodOutcome(
                shape=shape,
                start=flood.start,
                onset=when,
                detected=hit.detected if hit else None,
                delay_onset=int((hit.detected - when) / MINUTE) + 1 if hit and when else None,
                delay_start=int((hit.detected - first) / MINUTE) + 1 if hit else None,
                peak_rate=hit.peak_rate if hit else 0,
                guessed=hit.shape.value if hit else None,
                other_alerts=len(alerts) - len(hits) - len(false_alarms),
            )
        )
    return SeedOutcome(seed, normal_days, false_alarms, tuple(outcomes))
