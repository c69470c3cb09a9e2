"""Each Sigma modifier and pitfall, end to end: rule → compiled SQL → DuckDB over Parquet."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from detect_engine_support import compile_yaml, runner

from tocsin.detect.engines.base import DetectionResult

Run = Callable[..., DetectionResult]


@pytest.fixture
def run_rules(tmp_path: Path) -> Run:
    return runner(tmp_path)


def rule(detection: str, logsource: str = "product: windows\n    service: security") -> str:
    return f"""
title: test
id: 11111111-1111-1111-1111-111111111111
status: test
level: high
logsource:
    {logsource}
detection:
{detection}
"""


SEC = {"Channel": "Security", "EventID": "4688"}


def matched(result: DetectionResult) -> list[int]:
    """Record numbers of the matching events."""
    return sorted(e.record or 0 for a in result.alerts for e in a.events)


def test_equality_is_case_insensitive_and_cased_is_not(run_rules: Run) -> None:
    rows = [{**SEC, "Image": "C:\\Windows\\CMD.EXE"}, {**SEC, "Image": "c:\\windows\\cmd.exe"}]
    plain = rule("    sel:\n        Image: 'C:\\Windows\\cmd.exe'\n    condition: sel")
    assert matched(run_rules(rows, plain)) == [1, 2]
    cased = rule("    sel:\n        Image|cased: 'C:\\Windows\\CMD.EXE'\n    condition: sel")
    assert matched(run_rules(rows, cased)) == [1]


def test_negation_is_true_when_the_field_is_absent(run_rules: Run) -> None:
    rows = [{**SEC, "User": "bob"}, {**SEC}, {**SEC, "User": "admin"}]
    text = rule(
        "    sel:\n        EventID: 4688\n    flt:\n        User: admin\n"
        "    condition: sel and not flt"
    )
    assert matched(run_rules(rows, text)) == [1, 2]


def test_a_field_no_event_has_is_false_not_an_error(run_rules: Run) -> None:
    rows = [{**SEC}]
    text = rule(
        "    sel:\n        NoSuchField|contains: x\n    flt:\n        Other: y\n"
        "    condition: sel or (1 of sel* and not flt)"
    )
    assert matched(run_rules(rows, text)) == []
    negated = rule("    flt:\n        NoSuchField: y\n    condition: not flt")
    assert matched(run_rules(rows, negated)) == [1]


def test_percent_underscore_and_backslash_are_literal(run_rules: Run) -> None:
    rows = [
        {**SEC, "CommandLine": "copy 100% a_b C:\\x"},
        {**SEC, "CommandLine": "copy 1000 aXb C:x"},
    ]
    text = rule(
        "    sel:\n        CommandLine|contains|all:\n            - '100%'\n"
        "            - 'a_b'\n            - 'C:\\x'\n    condition: sel"
    )
    assert matched(run_rules(rows, text)) == [1]


@pytest.mark.parametrize(
    ("modifier", "value", "expected"),
    [
        ("startswith", "powershell", [1]),
        ("endswith", ".ps1", [1, 2]),
        ("contains", "EncodedCommand", [2]),
        ("re", "'-[Ee]nc'", [2]),
        ("re|i", "'-ENC'", [2]),
        ("windash|contains", "'-nop'", [1, 2]),
        ("base64offset|contains", "'secret'", [3]),
    ],
)
def test_string_modifiers(run_rules: Run, modifier: str, value: str, expected: list[int]) -> None:
    rows = [
        {**SEC, "CommandLine": "powershell -nop x.ps1"},
        {**SEC, "CommandLine": "pwsh /nop -EncodedCommand y.ps1"},
        {**SEC, "CommandLine": "echo c2VjcmV0"},  # base64("secret")
    ]
    text = rule(f"    sel:\n        CommandLine|{modifier}: {value}\n    condition: sel")
    assert matched(run_rules(rows, text)) == expected


def test_regex_flags_multiline_and_dotall(run_rules: Run) -> None:
    rows = [{**SEC, "Payload": "first\nsecond"}]
    anchored = rule("    sel:\n        Payload|re|m: '^second$'\n    condition: sel")
    assert matched(run_rules(rows, anchored)) == [1]
    dotall = rule("    sel:\n        Payload|re|s: 'first.second'\n    condition: sel")
    assert matched(run_rules(rows, dotall)) == [1]
    neither = rule("    sel:\n        Payload|re: 'first.second'\n    condition: sel")
    assert matched(run_rules(rows, neither)) == []


def test_cidr(run_rules: Run) -> None:
    rows = [{**SEC, "IpAddress": "10.1.2.3"}, {**SEC, "IpAddress": "100.1.2.3"}]
    text = rule("    sel:\n        IpAddress|cidr: 10.0.0.0/8\n    condition: sel")
    assert matched(run_rules(rows, text)) == [1]
    narrow = rule("    sel:\n        IpAddress|cidr: 10.1.2.0/30\n    condition: sel")
    assert matched(run_rules(rows, narrow)) == [1]


def test_numeric_comparisons_cast_text(run_rules: Run) -> None:
    rows = [{**SEC, "Size": "9"}, {**SEC, "Size": "100"}, {**SEC, "Size": "n/a"}]
    text = rule("    sel:\n        Size|gt: 10\n    condition: sel")
    assert matched(run_rules(rows, text)) == [2]  # text "9" > "10" would be wrong
    lte = rule("    sel:\n        Size|lte: 9\n    condition: sel")
    assert matched(run_rules(rows, lte)) == [1]


def test_exists_and_null(run_rules: Run) -> None:
    rows = [{**SEC, "Hash": "abc"}, {**SEC}]
    exists = rule("    sel:\n        Hash|exists: true\n    condition: sel")
    assert matched(run_rules(rows, exists)) == [1]
    absent = rule("    sel:\n        Hash|exists: false\n    condition: sel")
    assert matched(run_rules(rows, absent)) == [2]
    null = rule("    sel:\n        Hash: null\n    condition: sel")
    assert matched(run_rules(rows, null)) == [2]


def test_fieldref(run_rules: Run) -> None:
    rows = [
        {**SEC, "SubjectUserName": "Bob", "TargetUserName": "bob"},
        {**SEC, "SubjectUserName": "bob", "TargetUserName": "alice"},
        {**SEC, "SubjectUserName": "bob"},
    ]
    text = rule("    sel:\n        SubjectUserName|fieldref: TargetUserName\n    condition: sel")
    assert matched(run_rules(rows, text)) == [1]
    negated = rule(
        "    sel:\n        SubjectUserName|fieldref: TargetUserName\n    condition: not sel"
    )
    assert matched(run_rules(rows, negated)) == [2, 3]


def test_keywords_search_every_field_of_windows_events(run_rules: Run) -> None:
    rows = [{**SEC, "CommandLine": "vssadmin Delete Shadows"}, {**SEC, "Image": "x"}]
    text = rule("    keywords:\n        - 'delete shadows'\n    condition: keywords")
    assert matched(run_rules(rows, text)) == [1]


def test_keywords_search_the_message_of_syslog(run_rules: Run) -> None:
    rows = [
        {"_message": "sshd[1]: Failed password for root", "app": "sshd"},
        {"_message": "cron ok", "app": "cron"},
    ]
    text = rule(
        "    keywords:\n        - 'failed password'\n    condition: keywords",
        logsource="product: linux\n    service: sshd",
    )
    assert matched(run_rules(rows, text, source="syslog")) == [1]


def test_sysmon_category_adds_event_id_and_channel(run_rules: Run) -> None:
    sysmon = "Microsoft-Windows-Sysmon/Operational"
    rows = [
        {"Channel": sysmon, "EventID": "1", "Image": "C:\\a\\evil.exe"},
        {"Channel": sysmon, "EventID": "11", "Image": "C:\\a\\evil.exe"},
        {"Channel": "Security", "EventID": "1", "Image": "C:\\a\\evil.exe"},
    ]
    text = rule(
        "    sel:\n        Image|endswith: '\\evil.exe'\n    condition: sel",
        logsource="product: windows\n    category: process_creation",
    )
    assert matched(run_rules(rows, text)) == [1]


def test_fields_resolve_across_case_and_spaces(run_rules: Run) -> None:
    rows = [{**SEC, "Threat Name": "Virus:DOS/EICAR_Test_File", "commandline": "X"}]
    text = rule(
        "    sel:\n        ThreatName|endswith: EICAR_Test_File\n        CommandLine: x\n"
        "    condition: sel"
    )
    assert matched(run_rules(rows, text)) == [1]


def test_a_long_regex_is_tested_after_the_length(run_rules: Run) -> None:
    # '.{40,}' compiles to length(...) >= 40 AND the search: the same matches, cheaper.
    rows = [{**SEC, "CommandLine": "x" * 39}, {**SEC, "CommandLine": "é" * 40}, {**SEC}]
    text = rule("    sel:\n        CommandLine|re: '.{40,}'\n    condition: sel")
    assert matched(run_rules(rows, text)) == [2]
    negated = rule("    sel:\n        CommandLine|re: '.{40,}'\n    condition: not sel")
    assert matched(run_rules(rows, negated)) == [1, 3]
    assert "length(" in compile_yaml(text).rules[0].condition
    short = rule("    sel:\n        CommandLine|re: 'a.{3}b'\n    condition: sel")
    assert "length(" not in compile_yaml(short).rules[0].condition  # not worth a test


def test_a_list_of_non_ascii_values_is_tested_for_such_a_character_first(
    run_rules: Run,
) -> None:
    # Every value holds a character outside ASCII, so the rule first looks for one: the
    # matches are those of the plain OR (case-insensitive, É lowered to é).
    rows = [
        {**SEC, "CommandLine": "powershell -enc AAAA"},
        {**SEC, "CommandLine": "cmd /c echo 🤷🏼 done"},
        {**SEC, "CommandLine": "CAFÉ.exe"},
        {**SEC, "CommandLine": "tab\there"},
        {**SEC},
    ]
    values = "".join(f"\n            - '{v}'" for v in ("🤷🏼", "🙎🏼", "café", "naïve"))
    text = rule(f"    sel:\n        CommandLine|contains:{values}\n    condition: sel")
    assert matched(run_rules(rows, text)) == [2, 3]
    negated = rule(f"    sel:\n        CommandLine|contains:{values}\n    condition: not sel")
    assert matched(run_rules(rows, negated)) == [1, 4, 5]


def test_the_non_ascii_test_is_only_added_when_every_value_needs_it() -> None:
    def condition(values: tuple[str, ...]) -> str:
        listed = "".join(f"\n            - '{v}'" for v in values)
        text = rule(f"    sel:\n        CommandLine|contains:{listed}\n    condition: sel")
        return compile_yaml(text).rules[0].condition

    assert "[^ -~]" in condition(("🤷🏼", "🙎🏼", "café", "naïve"))
    assert "[^ -~]" not in condition(("🤷🏼", "🙎🏼", "cafe", "naïve"))
    assert "[^ -~]" not in condition(("🤷🏼", "🙎🏼", "café"))  # too few to be worth it
