"""The DDoS detector: the done-when of issue 4 on fixed seeds, and its behaviour on small
hand-made series (hysteresis, per-source limits, warm-up, shapes, JSON shape)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.detect.detectors.ddos import detect
from tocsin.detect.detectors.ddos_features import minute_stats
from tocsin.detect.detectors.ddos_model import DdosPolicy, MinuteStats, Shape, Trigger
from tocsin.detect.detectors.ddos_synthetic import SHAPES, evaluate_seed

T0 = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday
MIN = timedelta(minutes=1)


@pytest.mark.parametrize("seed", [0, 1])
def test_every_flood_within_two_minutes_and_no_false_alarm(seed: int) -> None:
    """Done-when of issue 4, on 14 normal days and one flood of each shape."""
    outcome = evaluate_seed(seed, normal_days=14)
    assert outcome.false_alarms == ()
    assert [f.shape for f in outcome.floods] == list(SHAPES)
    for flood in outcome.floods:
        assert flood.detected is not None, flood
        assert flood.delay_onset is not None and flood.delay_onset <= 2, flood
        assert flood.other_alerts == 0, flood


Extra = Callable[[int], dict[str, int]]


def _series(days: float, extra: Extra | None = None) -> list[MinuteStats]:
    """100 req/min from 50 clients, plus ``extra(minute_index)`` requests per source."""
    out = []
    for i in range(int(days * 1440)):
        counts = Counter({f"198.51.100.{k}": 2 for k in range(50)})
        if extra is not None:
            counts.update(extra(i))
        out.append(minute_stats("web", "portal", T0 + i * MIN, counts))
    return out


def _botnet(start: int, minutes: int, rate: int, bots: int = 1000) -> Extra:
    def extra(i: int) -> dict[str, int]:
        if not start <= i < start + minutes:
            return {}
        return {f"10.{b // 250}.{b % 250}.1": rate // bots for b in range(bots)}

    return extra


def test_steady_traffic_raises_nothing() -> None:
    assert detect(_series(3)) == []


def test_one_flood_with_a_dip_is_one_alert_with_start_end_and_peak() -> None:
    first, second = _botnet(2000, 10, 5000), _botnet(2012, 5, 8000)
    alerts = detect(_series(2, lambda i: first(i) | second(i)))
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.start == T0 + 2000 * MIN
    assert alert.detected == alert.start
    assert alert.end == T0 + 2016 * MIN
    assert alert.peak_rate == 100 + 8000
    assert alert.baseline == 100
    assert alert.shape is Shape.DISTRIBUTED
    assert alert.severity == "critical"
    assert Trigger.VOLUME in alert.triggers
    assert not alert.ongoing
    assert alert.top_sources[0][1] == 10 * 5 + 5 * 8  # a bot: 5/min, then 8/min


def test_a_single_source_is_caught_by_its_rate_and_named_first() -> None:
    def extra(i: int) -> dict[str, int]:
        return {"203.0.113.66": 700} if 2000 <= i < 2030 else {}

    alerts = detect(_series(2, extra))
    assert len(alerts) == 1
    assert alerts[0].shape is Shape.SINGLE_SOURCE
    assert alerts[0].top_sources[0] == ("203.0.113.66", 700 * 30)
    assert Trigger.SOURCE_RATE in alerts[0].triggers


def test_a_known_heavy_client_may_grow_but_a_new_heavy_source_is_a_flood() -> None:
    def extra(i: int) -> dict[str, int]:
        counts = {"192.0.2.1": 450 if 2000 <= i < 2010 else 100}  # an integration
        if 2100 <= i < 2110:
            counts["203.0.113.9"] = 600
        return counts

    alerts = detect(_series(2, extra))
    assert [a.start for a in alerts] == [T0 + 2100 * MIN]
    assert alerts[0].top_sources[0] == ("203.0.113.9", 6000)


def test_no_volume_alert_during_warm_up_but_the_absolute_source_limit_holds() -> None:
    botnet = _botnet(300, 10, 8000)

    def extra(i: int) -> dict[str, int]:
        return botnet(i) | ({"203.0.113.7": 1500} if 600 <= i < 605 else {})

    alerts = detect(_series(1.5, extra))
    assert [(a.start, a.shape) for a in alerts] == [(T0 + 600 * MIN, Shape.SINGLE_SOURCE)]


def test_a_slow_ramp_is_called_a_ramp_and_a_short_burst_a_pulse() -> None:
    def ramp(i: int) -> dict[str, int]:
        if not 2000 <= i < 2040:
            return {}
        rate = 300 * min(30, i - 2000 + 1)
        return {f"10.9.{b}.1": rate // 200 for b in range(200)}

    pulse = _botnet(3000, 2, 6000)
    alerts = detect(_series(2.5, lambda i: ramp(i) | pulse(i)))
    assert [a.shape for a in alerts] == [Shape.RAMP, Shape.PULSE]
    assert alerts[0].peak_rate == 100 + 9000


def test_an_alert_still_running_at_the_end_is_ongoing() -> None:
    alerts = detect(_series(2, _botnet(2870, 100, 5000)))
    assert len(alerts) == 1 and alerts[0].ongoing
    assert alerts[0].end == T0 + (2 * 1440 - 1) * MIN


def test_alert_json_shape() -> None:
    alert = detect(_series(2, _botnet(2000, 5, 5000)))[0]
    data = alert.to_dict()
    assert set(data) == {
        "rule",
        "log",
        "target",
        "start",
        "detected",
        "end",
        "peak_rate",
        "peak_minute",
        "baseline",
        "peak_ratio",
        "peak_sources",
        "requests",
        "top_sources",
        "shape",
        "level",
        "triggers",
        "entropy_shift",
        "ongoing",
    }
    assert data["rule"] == "tocsin-ddos" and data["triggers"] == ["volume"]
    assert data["entropy_shift"] > 2  # a thousand new sources


def test_policy_refuses_inverted_bounds() -> None:
    with pytest.raises(ValueError, match="release_ratio"):
        DdosPolicy(alert_ratio=2, release_ratio=3)
