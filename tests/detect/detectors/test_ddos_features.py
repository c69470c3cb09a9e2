"""Properties of the DDoS detector's building blocks: entropy, minute features, EWMA, CUSUM,
hour-of-week baselines."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.detect.detectors.ddos_features import (
    Cusum,
    Ewma,
    SlotHistory,
    entropy,
    minute_stats,
)

counts_lists = st.lists(st.integers(min_value=0, max_value=10_000), max_size=60)
reals = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(counts_lists)
def test_entropy_is_between_zero_and_log2_of_the_sources(counts: list[int]) -> None:
    positive = [c for c in counts if c > 0]
    value = entropy(counts)
    assert value >= 0
    assert value <= math.log2(len(positive)) + 1e-9 if positive else value == 0


@given(counts_lists, st.randoms())
def test_entropy_ignores_order_and_zeros(counts: list[int], rnd: object) -> None:
    shuffled = list(counts)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert entropy(shuffled + [0, 0]) == pytest.approx(entropy(counts), abs=1e-9)


@given(st.integers(min_value=1, max_value=5000), st.integers(min_value=1, max_value=50))
def test_entropy_of_equal_sources_is_log2_of_their_number(k: int, each: int) -> None:
    assert entropy([each] * k) == pytest.approx(math.log2(k), abs=1e-9)


@given(st.dictionaries(st.text(min_size=1, max_size=15), st.integers(0, 1000), max_size=40))
def test_minute_stats_are_consistent_with_the_counts(counts: dict[str, int]) -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    m = minute_stats("web", "portal", when, counts, top_k=5)
    assert m.requests == sum(counts.values())
    assert m.sources == sum(1 for n in counts.values() if n > 0)
    assert len(m.top) <= 5
    assert [n for _, n in m.top] == sorted((n for _, n in m.top), reverse=True)
    if m.top:
        assert m.top[0][1] == max(counts.values())
    assert 0 <= m.top_share <= 1
    assert m.source_entropy == pytest.approx(entropy(counts.values()))


@given(st.lists(reals, min_size=1, max_size=50), st.floats(min_value=0.01, max_value=1))
def test_ewma_stays_within_the_range_of_its_inputs(values: list[float], alpha: float) -> None:
    ewma = Ewma(alpha)
    for x in values:
        result = ewma.update(x)
    assert min(values) - 1e-6 <= result <= max(values) + 1e-6


@given(reals, st.integers(min_value=1, max_value=30))
def test_ewma_of_a_constant_is_that_constant(x: float, n: int) -> None:
    ewma = Ewma(0.3)
    for _ in range(n):
        value = ewma.update(x)
    assert value == pytest.approx(x)


@given(
    st.lists(st.floats(min_value=-10, max_value=10, allow_nan=False), max_size=60),
    st.floats(min_value=0, max_value=3),
    st.floats(min_value=0.1, max_value=5),
)
def test_cusum_follows_pages_recursion(values: list[float], k: float, h: float) -> None:
    cusum = Cusum(k, h)
    expected = 0.0
    for x in values:
        alarm = cusum.update(x)
        expected = max(0.0, expected + x - k)
        assert cusum.value == pytest.approx(expected)
        assert cusum.value >= 0
        assert alarm == (cusum.value >= h)


@given(st.lists(st.floats(min_value=-10, max_value=2, allow_nan=False), max_size=60))
def test_cusum_never_alarms_below_its_reference(values: list[float]) -> None:
    cusum = Cusum(2.0, 0.3)
    assert not any(cusum.update(x) for x in values)
    assert cusum.value == 0


@given(st.floats(min_value=0.05, max_value=5), st.floats(min_value=0.1, max_value=5))
def test_cusum_alarms_after_h_over_excess_minutes(excess: float, h: float) -> None:
    cusum = Cusum(1.0, h)
    steps = next(i for i in range(1, 10_000) if cusum.update(1.0 + excess))
    assert (steps - 1) * excess < h + 1e-9
    assert steps * excess >= h - 1e-9


def _fill(history: SlotHistory, start: datetime, minutes: int, value: float) -> None:
    for i in range(minutes):
        history.add(start + timedelta(minutes=i), value, 3.0, value / 10)


def test_baseline_falls_back_from_hour_of_week_to_hour_of_day_to_global() -> None:
    monday = datetime(2024, 1, 1)
    history = SlotHistory(weeks=4, min_values=30)
    assert history.baseline(monday) is None
    _fill(history, monday, 40, 50.0)  # Monday 00:00-00:39
    level = history.baseline(monday + timedelta(hours=1))
    assert level is not None and level.level == "global"
    tuesday = monday + timedelta(days=1)
    daily = history.baseline(tuesday)
    assert daily is not None and daily.level == "hour-of-day" and daily.requests == 50
    _fill(history, tuesday, 60, 80.0)
    weekly = history.baseline(monday + timedelta(days=7, minutes=5))
    assert weekly is not None and weekly.level == "hour-of-week" and weekly.requests == 50


@given(st.lists(st.floats(min_value=0, max_value=1e5, allow_nan=False), min_size=30, max_size=90))
def test_the_weekly_baseline_is_the_median_of_the_same_hour_last_week(
    values: list[float],
) -> None:
    monday = datetime(2024, 1, 1, 9)
    history = SlotHistory(weeks=4, min_values=30)
    for i, value in enumerate(values):
        history.add(monday + timedelta(seconds=i * 40), value, 1.0, 1.0)
    base = history.baseline(monday + timedelta(days=7))
    assert base is not None and base.level == "hour-of-week"
    ordered = sorted(values)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    assert base.requests == pytest.approx(median)
