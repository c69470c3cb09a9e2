"""The Spark engine gives the DuckDB engine's alerts: crafted modifier and correlation cases.

Each case writes a small store, compiles the rules once and runs both engines; alerts must
be equal field by field (rule, host, window, count, first, last, sample events, in order).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from detect_engine_support import T0, compile_yaml, write_events
from spark_support import spark  # noqa: F401 - the session fixture
from test_duckdb_correlations import BASE, SUCCESS, correlation, logon

from tocsin.detect.engines.base import DetectionResult, TimeRange
from tocsin.detect.engines.duckdb import DuckDBEngine
from tocsin.detect.engines.spark import SparkEngine, spark_literals
from tocsin.detect.sigma.compile import CompiledRuleSet

pytestmark = pytest.mark.spark

SEC = {"Channel": "Security", "EventID": "4688"}
SYSMON = "Microsoft-Windows-Sysmon/Operational"


def rule(number: int, detection: str, logsource: str = "") -> str:
    logsource = logsource or "product: windows\n    service: security"
    return f"""
title: rule {number}
id: 11111111-1111-1111-1111-{number:012d}
status: test
level: high
tags:
    - attack.t1490
logsource:
    {logsource}
detection:
{detection}
"""


def both(
    store: Path, compiled: CompiledRuleSet, spark_session: object, **kwargs: object
) -> tuple[DetectionResult, DetectionResult]:
    time_range = kwargs.pop("time_range", None)
    assert isinstance(time_range, TimeRange | None)
    duck = DuckDBEngine(store, threads=1).run(compiled, time_range)
    sparked = SparkEngine(store, spark=spark_session).run(compiled, time_range)  # type: ignore[arg-type]
    return duck, sparked


def assert_same(duck: DetectionResult, sparked: DetectionResult) -> None:
    assert not duck.problems, duck.problems
    assert not sparked.problems, sparked.problems
    assert sparked.events_read == duck.events_read
    assert sparked.alerts == duck.alerts


def test_spark_literals_respell_backslashes_and_quotes() -> None:
    sql = "lower(`it's`) LIKE '%c:\\\\x''s%' ESCAPE '\\' AND `a``b` = 'x'"
    assert spark_literals(sql) == (
        "lower(`it's`) LIKE '%c:\\\\\\\\x\\'s%' ESCAPE '\\\\' AND `a``b` = 'x'"
    )


MODIFIER_RULES = [
    "    sel:\n        Image: 'C:\\Windows\\cmd.exe'\n    condition: sel",
    "    sel:\n        Image|cased: 'C:\\Windows\\CMD.EXE'\n    condition: sel",
    "    sel:\n        EventID: 4688\n    flt:\n        User: admin\n"
    "    condition: sel and not flt",
    "    sel:\n        NoSuchField|contains: x\n    condition: sel",
    "    flt:\n        NoSuchField: y\n    condition: not flt",
    "    sel:\n        CommandLine|contains|all:\n            - '100%'\n            - 'a_b'\n"
    "            - 'C:\\x'\n    condition: sel",
    "    sel:\n        CommandLine|startswith: powershell\n    condition: sel",
    "    sel:\n        CommandLine|endswith: .ps1\n    condition: sel",
    "    sel:\n        CommandLine|re: '-[Ee]nc'\n    condition: sel",
    "    sel:\n        CommandLine|re|i: '-ENC'\n    condition: sel",
    "    sel:\n        CommandLine|re: '\\d{3}%'\n    condition: sel",
    "    sel:\n        CommandLine|windash|contains: '-nop'\n    condition: sel",
    "    sel:\n        CommandLine|base64offset|contains: 'secret'\n    condition: sel",
    "    sel:\n        Payload|re|m: '^second$'\n    condition: sel",
    "    sel:\n        Payload|re|s: 'first.second'\n    condition: sel",
    "    sel:\n        Payload|re: 'first.second'\n    condition: sel",
    "    sel:\n        Payload|contains: 'first'\n    condition: sel",
    "    sel:\n        IpAddress|cidr: 10.0.0.0/8\n    condition: sel",
    "    sel:\n        Size|gt: 10\n    condition: sel",
    "    sel:\n        Size|lte: 9\n    condition: sel",
    "    sel:\n        Hash|exists: false\n    condition: sel",
    "    sel:\n        Hash: null\n    condition: sel",
    "    sel:\n        SubjectUserName|fieldref: TargetUserName\n    condition: not sel",
    "    keywords:\n        - 'delete shadows'\n    condition: keywords",
    "    sel:\n        ThreatName|endswith: EICAR_Test_File\n        commandline: x\n"
    "    condition: sel",
    '    sel:\n        CommandLine|contains: "it\'s"\n    condition: sel',
]


def test_modifiers_give_the_same_alerts(tmp_path: Path, spark: object) -> None:  # noqa: F811
    rows = [
        {**SEC, "Image": "C:\\Windows\\CMD.EXE", "User": "bob", "Size": "9"},
        {**SEC, "Image": "c:\\windows\\cmd.exe", "User": "admin", "Size": "100"},
        {**SEC, "CommandLine": "copy 100% a_b C:\\x it's", "Size": "n/a", "Hash": "abc"},
        {**SEC, "CommandLine": "copy 1000 aXb C:x"},
        {**SEC, "CommandLine": "powershell -nop x.ps1", "IpAddress": "10.1.2.3"},
        {**SEC, "CommandLine": "pwsh /nop -EncodedCommand y.ps1", "IpAddress": "100.1.2.3"},
        {**SEC, "CommandLine": "echo c2VjcmV0", "SubjectUserName": "Bob"},
        {**SEC, "Payload": "first\nsecond", "SubjectUserName": "bob", "TargetUserName": "BOB"},
        {**SEC, "CommandLine": "vssadmin Delete Shadows", "TargetUserName": "alice"},
    ]
    store = tmp_path / "store"
    write_events(
        store,
        "windows",
        [
            {"_time": T0 + timedelta(minutes=i), "_host": f"pc{i % 3}", **r}
            for i, r in enumerate(rows)
        ],
    )
    # A second file with other columns, one spelt in another case: the engines must merge
    # schemas by name, without regard to case.
    other = {"Threat Name": "Virus:DOS/EICAR_Test_File", "commandline": "X", "EXTRA": "1"}
    write_events(store, "windows", [{"_time": T0, "_host": "pc9", **SEC, **other}], "b.log")
    compiled = compile_yaml(*(rule(n, d) for n, d in enumerate(MODIFIER_RULES, 1)))
    assert not compiled.problems, compiled.problems
    duck, sparked = both(store, compiled, spark)
    assert_same(duck, sparked)
    assert len(duck.fired()) >= 20  # the cases really match something


def test_correlations_give_the_same_alerts(tmp_path: Path, spark: object) -> None:  # noqa: F811
    # Over midnight: windows must cross the day partitions.
    late = T0.replace(hour=23, minute=58)
    rows = [
        *(logon(m, ip="10.0.0.1") for m in (0, 4, 9, 13, 18)),  # spread: no event_count
        *(logon(m, ip="10.0.0.2") for m in (0, 1, 2, 30)),  # burst
        *(logon(m, ip="10.0.0.3", user=u) for m, u in ((0, "a"), (1, "b"), (2, "c"))),
        logon(0, ip="10.0.0.4"),
        logon(2, ip="10.0.0.4", eid="4624"),
    ]
    store = tmp_path / "store"
    write_events(store, "windows", rows)
    night = [{**logon(0, ip="10.0.0.5"), "_time": late + timedelta(minutes=m)} for m in (0, 1, 3)]
    write_events(store, "windows", night[:2], "day1.log")
    write_events(store, "windows", night[2:], "day2.log")
    burst = correlation("event_count", "        gte: 3", rules="        - failed_logon")
    values = correlation(
        "value_count",
        "        gte: 3\n        field: TargetUserName",
        rules="        - failed_logon",
    ).replace("33333333-3333-3333-3333-333333333333", "55555555-5555-5555-5555-555555555555")
    temporal = correlation(
        "temporal",
        "        gte: 2",
        rules="        - failed_logon\n        - logon",
        extra="    generate: true",
    ).replace("33333333-3333-3333-3333-333333333333", "66666666-6666-6666-6666-666666666666")
    compiled = compile_yaml(BASE, SUCCESS, burst, values, temporal)
    assert not compiled.problems, compiled.problems
    duck, sparked = both(store, compiled, spark)
    assert_same(duck, sparked)
    fired = duck.fired()
    assert set(fired) >= {
        "33333333-3333-3333-3333-333333333333",
        "55555555-5555-5555-5555-555555555555",
        "66666666-6666-6666-6666-666666666666",
    }
    hosts = {a.rule.id: a.events[0].time for a in duck.alerts}
    assert hosts


def test_time_range_and_syslog_keywords(tmp_path: Path, spark: object) -> None:  # noqa: F811
    rows = [
        {"_time": T0 + timedelta(hours=h), "_host": "srv", "_message": msg, "app": "sshd"}
        for h, msg in ((0, "Failed password for root"), (5, "failed password for bob"), (6, "ok"))
    ]
    store = tmp_path / "store"
    write_events(store, "syslog", rows)
    text = rule(
        1,
        "    keywords:\n        - 'failed password'\n    condition: keywords",
        logsource="product: linux\n    service: sshd",
    )
    compiled = compile_yaml(text)
    for time_range in (None, TimeRange(since=T0 + timedelta(hours=1))):
        duck, sparked = both(store, compiled, spark, time_range=time_range)
        assert_same(duck, sparked)
    assert duck.fired() == {"11111111-1111-1111-1111-000000000001": 1}


def test_a_rule_spark_cannot_run_is_reported_and_the_others_still_run(
    tmp_path: Path,
    spark: object,  # noqa: F811
) -> None:
    # Python-style named groups are RE2 syntax that Java's regex engine refuses.
    store = tmp_path / "store"
    write_events(store, "windows", [{"_time": T0, "_host": "pc1", **SEC, "CommandLine": "vss"}])
    good = rule(1, "    sel:\n        CommandLine: vss\n    condition: sel")
    bad = rule(2, "    sel:\n        CommandLine|re: '(?P<name>vss)'\n    condition: sel")
    compiled = compile_yaml(good, bad)
    result = SparkEngine(store, spark=spark).run(compiled)  # type: ignore[arg-type]
    assert result.fired() == {"11111111-1111-1111-1111-000000000001": 1}
    [problem] = result.problems
    assert problem.rule_id == "11111111-1111-1111-1111-000000000002"
    assert problem.reason.startswith("failed at run time")
