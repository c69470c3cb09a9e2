"""NVD API 2.0 responses: hand-written pages that follow the documented schema.

fixtures/nvd/README.md says what each page holds and where its content comes from.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tocsin.errors import InputError
from tocsin.model.advisory import (
    Advisory,
    CpeConfiguration,
    CpeMatch,
    CpeNode,
    Exploitation,
    Severity,
)
from tocsin.watch.sources.base import ParseReport, Record, sources
from tocsin.watch.sources.nvd import NvdSource, page_info

FIXTURES = Path(__file__).parent / "fixtures" / "nvd"
KEV_SAMPLE = Path(__file__).parent / "fixtures" / "kev" / "catalogue.json"
CVE5_SAMPLE = Path(__file__).parent / "fixtures" / "cve5" / "panos-kev.json"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse(raw: bytes, origin: str = "page.json") -> tuple[list[Record], ParseReport]:
    report = ParseReport("nvd")
    return list(NvdSource().parse(raw, origin, report)), report


@pytest.fixture(scope="module")
def page() -> dict[str, Advisory]:
    records, report = parse((FIXTURES / "cves-page.json").read_bytes())
    assert report.skipped == [] and report.parsed == 7
    assert all(isinstance(r, Advisory) for r in records)
    return {r.id: r for r in records if isinstance(r, Advisory)}


def test_registered_under_its_name() -> None:
    assert sources()["nvd"] is NvdSource


def test_fortios_ranges_kev_and_deduplicated_metrics(page: dict[str, Advisory]) -> None:
    adv = page["CVE-2024-21762"]
    assert adv.source == "nvd" and adv.cves == ("CVE-2024-21762",)
    assert adv.title == "Fortinet FortiOS Out-of-Bound Write Vulnerability"
    assert adv.summary.startswith("A out-of-bounds write in Fortinet FortiOS")  # English
    assert adv.published == datetime(2024, 2, 9, 9, 15, 8, 870000, tzinfo=UTC)
    assert adv.modified == datetime(2024, 2, 13, 18, 21, 14, 607000, tzinfo=UTC)
    assert adv.exploitation == Exploitation(
        kev=True, kev_date_added="2024-02-09", kev_due_date="2024-02-16"
    )
    assert adv.solution is not None and adv.solution.startswith("Apply mitigations")
    # NVD's primary and Fortinet's secondary metric are the same vector: kept once.
    assert adv.severities == (
        Severity("cvss_v3", 9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "critical"),
    )
    assert adv.cwes == ("CWE-787",)
    assert adv.references == ("https://fortiguard.com/psirt/FG-IR-24-015",)
    [config] = adv.configurations
    [node] = config.nodes
    assert (config.operator, config.negate, node.operator, node.negate) == (
        "OR",
        False,
        "OR",
        False,
    )
    fortios = "cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*"
    assert node.matches[0] == CpeMatch(
        fortios, version_start_including="6.0.0", version_end_excluding="6.2.16"
    )
    assert node.matches[4] == CpeMatch(
        fortios, version_start_including="7.4.0", version_end_excluding="7.4.3"
    )
    assert node.matches[5] == CpeMatch(
        "cpe:2.3:a:fortinet:fortiproxy:*:*:*:*:*:*:*:*",
        version_start_including="1.0.0",
        version_end_including="1.0.7",
    )


def test_log4j_exact_cpes_and_vulnerable_firmware_on_platform(page: dict[str, Advisory]) -> None:
    adv = page["CVE-2021-44228"]
    assert adv.severities == (
        Severity("cvss_v3", 10.0, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "critical"),
        Severity("cvss_v2", 9.3, "AV:N/AC:M/Au:N/C:C/I:C/A:C", "high"),  # label outside cvssData
    )
    assert adv.cwes == ("CWE-917", "CWE-20", "CWE-400", "CWE-502")
    plain, platform = adv.configurations
    assert plain.nodes[0].matches[3] == CpeMatch("cpe:2.3:a:apache:log4j:2.0:-:*:*:*:*:*:*")
    assert platform == CpeConfiguration(
        operator="AND",
        nodes=(
            CpeNode(
                matches=(CpeMatch("cpe:2.3:o:siemens:sppa-t3000_ses3000_firmware:*:*:*:*:*:*:*:*"),)
            ),
            CpeNode(
                matches=(CpeMatch("cpe:2.3:h:siemens:sppa-t3000_ses3000:-:*:*:*:*:*:*:*", False),)
            ),
        ),
    )


def test_citrix_negated_platform_node(page: dict[str, Advisory]) -> None:
    adv = page["CVE-2023-4966"]
    assert [s.score for s in adv.severities] == [7.5, 9.4]  # NVD and Citrix disagree: both kept
    ranges, negated = adv.configurations
    assert ranges.nodes[0].matches[0].version_end_excluding == "13.1-37.164"
    assert negated.operator == "AND"
    assert negated.nodes[1] == CpeNode(
        operator="OR",
        negate=True,
        matches=(CpeMatch("cpe:2.3:h:citrix:netscaler_sdx:-:*:*:*:*:*:*:*", False),),
    )


def test_windows_four_part_builds(page: dict[str, Advisory]) -> None:
    adv = page["CVE-2024-38063"]
    assert adv.title == "" and adv.exploitation == Exploitation()
    assert adv.cwes == ("CWE-191",)  # not "NVD-CWE-noinfo"
    matches = adv.configurations[0].nodes[0].matches
    assert matches[3] == CpeMatch(
        "cpe:2.3:o:microsoft:windows_server_2022:*:*:*:*:*:*:*:*",
        version_end_excluding="10.0.20348.2655",
    )
    assert matches[4] == CpeMatch("cpe:2.3:o:microsoft:windows_server_2008:r2:sp1:*:*:*:*:x64:*")


def test_spring_and_of_vulnerable_framework_and_jdk_platform(page: dict[str, Advisory]) -> None:
    [config] = page["CVE-2022-22965"].configurations
    assert config.operator == "AND"
    assert [m.vulnerable for node in config.nodes for m in node.matches] == [True, True, False]
    assert config.nodes[1].matches[0].version_start_including == "9"


def test_rejected_is_withdrawn_and_awaiting_analysis_has_no_configuration(
    page: dict[str, Advisory],
) -> None:
    rejected = page["CVE-2019-25161"]
    assert rejected.withdrawn and rejected.configurations == () and rejected.severities == ()
    ivanti = page["CVE-2025-0282"]
    assert not ivanti.withdrawn and ivanti.configurations == ()
    assert [s.kind for s in ivanti.severities] == ["cvss_v4", "cvss_v3"]
    assert ivanti.severities[0].score == 9.3 and ivanti.cwes == ("CWE-121",)


def test_malformed_records_are_skipped_alone() -> None:
    records, report = parse((FIXTURES / "malformed-page.json").read_bytes(), "bad.json")
    assert [r.id for r in records if isinstance(r, Advisory)] == [
        "CVE-2024-21762",
        "CVE-2024-38063",
    ]
    fortios = records[0]
    assert isinstance(fortios, Advisory)
    assert fortios.published is None and len(fortios.configurations) == 1
    assert len(fortios.severities) == 1
    path = "vulnerabilities[0].cve"
    assert [str(s) for s in report.skipped] == [
        f"bad.json [{path}.published]: timestamp skipped: "
        "Input should be a valid datetime or date, invalid character in year",
        f"bad.json [{path}.configurations[1].nodes[0].operator]: "
        "configuration skipped: Input should be 'AND' or 'OR'",
        f"bad.json [{path}.configurations[2].nodes[0].cpeMatch[1].vulnerable]: "
        "configuration skipped: Input should be a valid boolean",
        f"bad.json [{path}.metrics.cvssMetricV31[2].cvssData.baseScore]: "
        "CVSS metric skipped: Input should be less than or equal to 10",
        "bad.json [vulnerabilities[1].cve.id]: vulnerability skipped: Field required",
        "bad.json [vulnerabilities[3].cve.id]: vulnerability skipped: "
        "String should match pattern '^CVE-\\d{4}-\\d{4,}$'",
        "bad.json [vulnerabilities[4]]: vulnerability skipped: Input should be a valid dictionary",
    ]
    assert report.parsed == 2


def test_truncated_page_is_one_skip_with_its_position() -> None:
    raw = (FIXTURES / "truncated-page.json").read_bytes()
    records, report = parse(raw, "truncated.json")
    assert records == []
    [skip] = report.skipped
    assert skip.reason == "not JSON: EOF while parsing a value"
    assert skip.location.line == raw.count(b"\n") + 1 and skip.location.column is not None


def test_page_info_for_the_incremental_fetch() -> None:
    assert page_info((FIXTURES / "cves-page.json").read_bytes()) == (0, 7, 7)
    assert page_info((FIXTURES / "malformed-page.json").read_bytes()) == (2000, 5, 2004)
    with pytest.raises(InputError, match="not an NVD API 2.0 page"):
        page_info(b'{"vulnerabilities": []}')
    with pytest.raises(InputError, match="not an NVD API 2.0 page: Invalid JSON"):
        page_info((FIXTURES / "truncated-page.json").read_bytes())


def test_other_feeds_are_refused() -> None:
    with pytest.raises(InputError, match="CISA KEV catalogue, not an NVD API 2.0 response"):
        parse(KEV_SAMPLE.read_bytes())
    with pytest.raises(InputError, match="CVE JSON 5 record, not an NVD API 2.0 response"):
        parse(CVE5_SAMPLE.read_bytes())


def test_unknown_json_is_a_skip() -> None:
    records, report = parse(b"[1, 2, 3]")
    assert records == []
    assert report.reasons() == {"not an NVD API 2.0 response: Input should be an object": 1}


# --- properties ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=30,
)


def assert_only_records_or_skips(raw: bytes) -> None:
    report = ParseReport("nvd")
    try:
        records = list(NvdSource().parse(raw, "fuzz", report))
    except InputError:
        return
    assert all(isinstance(r, Advisory) for r in records)
    assert len(records) == report.parsed
    assert records or report.skipped or b'"vulnerabilities"' in raw


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_bytes(raw: bytes) -> None:
    assert_only_records_or_skips(raw)


def _paths(value: object, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replaced(document: Any, changes: list[tuple[tuple[Any, ...], Any]]) -> bytes:
    data = copy.deepcopy(document)
    for path, value in changes:
        node: Any = data
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this path
    return json.dumps(data).encode()


REAL = json.loads((FIXTURES / "cves-page.json").read_text())
REAL_PATHS = [p for p in _paths(REAL) if p]


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(REAL_PATHS), json_values), min_size=1, max_size=4))
def test_fuzz_real_document_with_replaced_parts(
    changes: list[tuple[tuple[Any, ...], Any]],
) -> None:
    assert_only_records_or_skips(_replaced(REAL, changes))


@FUZZ
@given(json_values)
def test_fuzz_json_values(value: object) -> None:
    assert_only_records_or_skips(json.dumps(value).encode())


@FUZZ
@given(st.lists(json_values, max_size=4))
def test_fuzz_vulnerabilities_of_a_page(items: list[object]) -> None:
    page = {"format": "NVD_CVE", "version": "2.0", "vulnerabilities": items}
    report = ParseReport("nvd")
    records = list(NvdSource().parse(json.dumps(page).encode(), "fuzz", report))
    assert len(records) + len(report.skipped) >= len(items)


versions = st.from_regex(r"[0-9]{1,2}(\.[0-9]{1,4}){0,3}", fullmatch=True)
bound = st.none() | versions
cpe_matches = st.builds(
    CpeMatch,
    criteria=st.sampled_from(
        [
            "cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*",
            "cpe:2.3:a:apache:log4j:2.0:-:*:*:*:*:*:*",
            "cpe:2.3:h:citrix:netscaler_sdx:-:*:*:*:*:*:*:*",
        ]
    ),
    vulnerable=st.booleans(),
    version_start_including=bound,
    version_start_excluding=bound,
    version_end_including=bound,
    version_end_excluding=bound,
)
nodes = st.builds(
    CpeNode,
    operator=st.sampled_from(["AND", "OR"]),
    negate=st.booleans(),
    matches=st.lists(cpe_matches, max_size=4).map(tuple),
)
configurations = st.builds(
    CpeConfiguration,
    nodes=st.lists(nodes, min_size=1, max_size=3).map(tuple),
    operator=st.sampled_from(["AND", "OR"]),
    negate=st.booleans(),
)


def _to_nvd(config: CpeConfiguration) -> dict[str, object]:
    def match(m: CpeMatch) -> dict[str, object]:
        out: dict[str, object] = {"vulnerable": m.vulnerable, "criteria": m.criteria}
        for key, value in (
            ("versionStartIncluding", m.version_start_including),
            ("versionStartExcluding", m.version_start_excluding),
            ("versionEndIncluding", m.version_end_including),
            ("versionEndExcluding", m.version_end_excluding),
        ):
            if value is not None:
                out[key] = value
        return out

    return {
        "operator": config.operator,
        "negate": config.negate,
        "nodes": [
            {"operator": n.operator, "negate": n.negate, "cpeMatch": [match(m) for m in n.matches]}
            for n in config.nodes
        ],
    }


@FUZZ
@given(st.lists(configurations, max_size=3))
def test_round_trip_configurations(configs: list[CpeConfiguration]) -> None:
    """Configurations written as NVD JSON come back the same."""
    cve = {"id": "CVE-2024-0001", "configurations": [_to_nvd(c) for c in configs]}
    page = {"format": "NVD_CVE", "vulnerabilities": [{"cve": cve}]}
    [adv], report = parse(json.dumps(page).encode())
    assert isinstance(adv, Advisory) and report.skipped == []
    assert adv.configurations == tuple(configs)
