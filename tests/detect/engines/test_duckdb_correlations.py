"""Correlation rules: windowed counts honouring the timespan, not whole-file counts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from detect_engine_support import T0, compile_yaml, write_events

from tocsin.detect.engines.duckdb import DuckDBEngine

BASE = """
title: failed logon
id: 22222222-2222-2222-2222-222222222222
name: failed_logon
status: test
level: low
logsource:
    product: windows
    service: security
detection:
    sel:
        EventID: 4625
    condition: sel
"""
SUCCESS = """
title: logon
id: 44444444-4444-4444-4444-444444444444
name: logon
status: test
level: low
logsource:
    product: windows
    service: security
detection:
    sel:
        EventID: 4624
    condition: sel
"""


def correlation(kind: str, condition: str, extra: str = "", rules: str = "failed_logon") -> str:
    return f"""
title: brute force
id: 33333333-3333-3333-3333-333333333333
status: test
level: high
correlation:
    type: {kind}
    rules:
{rules}
    group-by:
        - IpAddress
    timespan: 5m
{extra}
    condition:
{condition}
"""


def logon(minutes: float, ip: str = "10.0.0.1", user: str = "bob", eid: str = "4625") -> dict:
    return {
        "_time": T0 + timedelta(minutes=minutes),
        "_host": "dc1",
        "Channel": "Security",
        "EventID": eid,
        "IpAddress": ip,
        "TargetUserName": user,
    }


def run(tmp_path: Path, rows: list[dict], *docs: str) -> dict[str, int]:
    write_events(tmp_path / "store", "windows", rows)
    compiled = compile_yaml(*docs)
    assert not compiled.problems, compiled.problems
    result = DuckDBEngine(tmp_path / "store", threads=1).run(compiled)
    assert not result.problems, result.problems
    return result.fired()


def test_event_count_counts_within_the_timespan_only(tmp_path: Path) -> None:
    # Five failures, but never three within five minutes of each other.
    spread = [logon(m) for m in (0, 4, 9, 13, 18)]
    rule = correlation("event_count", "        gte: 3", rules="        - failed_logon")
    fired = run(tmp_path / "a", spread, BASE, rule)
    assert "33333333-3333-3333-3333-333333333333" not in fired
    # The base rule feeds the correlation only (generate: false): no alert of its own.
    assert "22222222-2222-2222-2222-222222222222" not in fired
    burst = [logon(m) for m in (0, 1, 2, 30)]
    fired = run(tmp_path / "b", burst, BASE, rule)
    assert fired == {"33333333-3333-3333-3333-333333333333": 1}


def test_event_count_groups_by_field(tmp_path: Path) -> None:
    rows = [logon(0, "10.0.0.1"), logon(1, "10.0.0.2"), logon(2, "10.0.0.3")]
    rule = correlation("event_count", "        gte: 3", rules="        - failed_logon")
    assert run(tmp_path, rows, BASE, rule) == {}


def test_value_count_counts_distinct_values(tmp_path: Path) -> None:
    rows = [logon(0, user="a"), logon(1, user="b"), logon(2, user="b"), logon(3, user="c")]
    rule = correlation(
        "value_count",
        "        gte: 3\n        field: TargetUserName",
        rules="        - failed_logon",
    )
    assert run(tmp_path, rows, BASE, rule) == {"33333333-3333-3333-3333-333333333333": 1}
    few = correlation(
        "value_count",
        "        gte: 4\n        field: TargetUserName",
        rules="        - failed_logon",
    )
    assert run(tmp_path / "few", rows, BASE, few) == {}


def test_temporal_needs_every_rule_within_the_timespan(tmp_path: Path) -> None:
    rules = "        - failed_logon\n        - logon"
    rule = correlation("temporal", "        gte: 2", rules=rules, extra="    generate: true")
    close = [logon(0), logon(2, eid="4624")]
    fired = run(tmp_path / "a", close, BASE, SUCCESS, rule)
    assert fired["33333333-3333-3333-3333-333333333333"] == 1
    assert fired["22222222-2222-2222-2222-222222222222"] == 1  # generate: true
    far = [logon(0), logon(20, eid="4624")]
    fired = run(tmp_path / "b", far, BASE, SUCCESS, rule)
    assert "33333333-3333-3333-3333-333333333333" not in fired
