"""CVE JSON 5 records: recorded fixtures, malformed input, all shared vulnrichment records.

The fixtures in fixtures/cve5/ are real records from cisagov/vulnrichment (CC0), trimmed to
the fields the parser reads (see fixtures/cve5/README.md).
"""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import shared_data
from tocsin.errors import InputError, Location
from tocsin.model.advisory import (
    Advisory,
    AffectedProduct,
    Exploitation,
    Severity,
    VersionRange,
    VersionScheme,
)
from tocsin.watch.match.versions import in_range
from tocsin.watch.sources.base import ParseReport, Record, iter_documents, sources
from tocsin.watch.sources.cve5 import COMMIT_RANGE, UNKNOWN_STATUS, Cve5Source

FIXTURES = Path(__file__).parent / "fixtures" / "cve5"
NVD_PAGE = Path(__file__).parent / "fixtures" / "nvd" / "cves-page.json"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
G = VersionScheme.GENERIC


def parse(raw: bytes, origin: str = "record.json") -> tuple[list[Record], ParseReport]:
    report = ParseReport("cve5")
    return list(Cve5Source().parse(raw, origin, report)), report


def advisory(name: str) -> tuple[Advisory, ParseReport]:
    records, report = parse((FIXTURES / f"{name}.json").read_bytes(), name)
    assert len(records) == 1 and report.parsed == 1
    record = records[0]
    assert isinstance(record, Advisory)
    return record, report


def fixture_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def test_registered_under_its_name() -> None:
    assert sources()["cve5"] is Cve5Source


def test_linux_kernel_affected_by_default_except_fixed_series() -> None:
    adv, report = advisory("linux-kernel")
    assert adv.id == "CVE-2024-26581"
    assert adv.title == "netfilter: nft_set_rbtree: skip end interval element from gc"
    assert adv.published == datetime(2024, 2, 20, 12, 52, 57, 398000, tzinfo=UTC)
    assert adv.modified == datetime(2024, 8, 2, 0, 7, 19, 615000, tzinfo=UTC)
    assert adv.summary.startswith("In the Linux kernel, the following vulnerability")
    # The git entry (commit ranges only) gives nothing to match; the semver entry gives
    # "affected by default" and the fixed series as unaffected ranges.
    affected, unaffected = adv.affected
    assert affected == AffectedProduct(
        product="Linux",
        vendor="Linux",
        ranges=(
            VersionRange(exact="6.5", scheme=G, text="affected: version 6.5"),
            VersionRange(all_versions=True, text="defaultStatus: affected"),
        ),
        fixed_versions=("5.4.269", "5.10.210", "5.15.149", "6.1.78", "6.6.17", "6.7.5", "6.8"),
        provider="cna",
    )
    assert unaffected.affected is False and unaffected.provider == "cna"
    assert unaffected.ranges[:2] == (
        VersionRange(fixed="6.5", text="unaffected: version 0, lessThan 6.5"),
        VersionRange(
            introduced="5.4.269",
            last_affected="5.4.*",
            text="unaffected: version 5.4.269, lessThanOrEqual 5.4.*",
        ),
    )
    assert unaffected.ranges[-1] == VersionRange(
        introduced="6.8", text="unaffected: version 6.8, lessThanOrEqual *"
    )
    git = [s for s in report.skipped if s.reason == COMMIT_RANGE]
    assert len(git) == len(report.skipped) == 8
    assert git[0].location == Location(
        "linux-kernel", field="containers.cna.affected[0].versions[0]"
    )
    assert adv.exploitation == Exploitation(
        ssvc_exploitation="none", ssvc_automatable=False, ssvc_technical_impact="partial"
    )


def test_panos_kev_ssvc_unaffected_products_and_cisa_adp() -> None:
    adv, report = advisory("panos-kev")
    assert report.skipped == []
    assert adv.exploitation == Exploitation(
        kev=True,
        kev_date_added="2024-04-12",
        ssvc_exploitation="active",
        ssvc_automatable=True,
        ssvc_technical_impact="total",
    )
    assert adv.severities == (
        Severity("cvss_v3", 10.0, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "critical"),
    )
    assert adv.cwes == ("CWE-77", "CWE-20")
    assert adv.solution is not None and adv.solution.startswith("We strongly advise")
    panos = adv.affected[0]
    assert (panos.vendor, panos.product, panos.affected) == ("Palo Alto Networks", "PAN-OS", True)
    assert panos.ranges == (
        VersionRange(
            introduced="10.2.0",
            fixed="10.2.9-h1",
            text="affected: version 10.2.0, lessThan 10.2.9-h1",
        ),
        VersionRange(
            introduced="11.0.0",
            fixed="11.0.4-h1",
            text="affected: version 11.0.0, lessThan 11.0.4-h1",
        ),
        VersionRange(
            introduced="11.1.0",
            fixed="11.1.2-h3",
            text="affected: version 11.1.0, lessThan 11.1.2-h3",
        ),
    )
    assert panos.fixed_versions == ("10.2.9-h1", "11.0.4-h1", "11.1.2-h3")
    # Unaffected branches are listed, but a lone unaffected version is not a fix.
    branches = adv.affected[1]
    assert branches.affected is False
    assert [r.exact for r in branches.ranges] == ["9.0.0", "9.1.0", "10.0.0", "10.1.0"]
    assert branches.fixed_versions == ()
    cloud = adv.affected[2]
    assert (cloud.product, cloud.affected, cloud.ranges[0].all_versions) == (
        "Cloud NGFW",
        False,
        True,
    )
    adp = [p for p in adv.affected if p.provider == "CISA-ADP"]
    assert adp and all(p.cpes and p.cpes[0].startswith("cpe:2.3:o:paloaltonetworks") for p in adp)


def test_microsoft_upper_bound_publication_cannot_decide_a_version() -> None:
    """ "lessThan publication" is "before the update published with this CVE": no build
    number compares with it. Read as open above, every later build would be affected."""
    adv, _ = advisory("microsoft-publication")
    first = adv.affected[0]
    assert first.product == "Windows 10 Version 1703"
    assert first.cpes == ("cpe:2.3:o:microsoft:windows_10:1703:*:*:*:*:*:*:*",)
    assert first.ranges == (
        VersionRange(
            introduced="10.0.0",
            fixed="publication",
            text="affected: version 10.0.0, lessThan publication",
        ),
    )
    assert in_range("10.0.15063.2614", first.ranges[0]) is None
    assert first.fixed_versions == ()


def test_juniper_wildcard_upper_bound_is_the_whole_series() -> None:
    adv, _ = advisory("juniper-wildcard")
    ranges = adv.affected[0].ranges
    assert ranges[0] == VersionRange(
        introduced="21.2", last_affected="21.2*", text="affected: version 21.2, lessThan 21.2*"
    )
    assert ranges[2] == VersionRange(
        introduced="21.4",
        fixed="21.4R3-S3-EVO",
        text="affected: version 21.4, lessThan 21.4R3-S3-EVO",
    )
    assert adv.affected[0].fixed_versions[0] == "21.4R3-S3-EVO"


def test_rejected_record_is_withdrawn() -> None:
    adv, report = advisory("rejected")
    assert adv.withdrawn and adv.affected == () and report.skipped == []
    assert adv.summary == (
        "This CVE ID has been rejected or withdrawn by its CVE Numbering Authority."
    )


def test_mitre_placeholders_dropped_and_cisa_adp_kept() -> None:
    adv, _ = advisory("mitre-legacy")
    assert adv.published == datetime(1999, 9, 29, 4, 0, tzinfo=UTC)  # naive means UTC
    assert adv.affected == (
        AffectedProduct(
            product="qpopper",
            vendor="qualcomm",
            ranges=(VersionRange(exact="2.4", text="affected: version 2.4"),),
            cpes=("cpe:2.3:a:qualcomm:qpopper:2.4:*:*:*:*:*:*:*",),
            provider="CISA-ADP",
        ),
    )
    assert adv.severities == (
        Severity("cvss_v3", 9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "critical"),
    )
    assert adv.cwes == ("CWE-121",)
    assert adv.references == (
        "ftp://patches.sgi.com/support/free/security/advisories/19980801-01-I",
        "http://www.securityfocus.com/bid/133",
    )


def test_wordpress_plugin_from_the_beginning_with_semver() -> None:
    adv, _ = advisory("wordpress-plugin")
    assert adv.affected == (
        AffectedProduct(
            product="FOX",
            ranges=(
                VersionRange(
                    fixed="1.3.7",
                    scheme=VersionScheme.SEMVER,
                    text="affected: version 0, lessThan 1.3.7",
                ),
            ),
            fixed_versions=("1.3.7",),
            provider="cna",
        ),
    )


def test_red_hat_rpm_packages_affected_unless_fixed() -> None:
    adv, _ = advisory("redhat-rpm")
    assert adv.severities[0] == Severity("vendor", label="moderate")
    # "Red Hat Single Sign-On 7": unaffected by default, no versions: nothing to match.
    assert [p.product for p in adv.affected][:2] == ["Red Hat Single Sign-On 7.6 for RHEL 7"] * 2
    affected, fixed = adv.affected[:2]
    assert affected.purl == "pkg:rpm/redhat/rh-sso7-keycloak"
    assert affected.ranges == (VersionRange(all_versions=True, text="defaultStatus: affected"),)
    assert affected.fixed_versions == ("0:18.0.6-1.redhat_00001.1.el7sso",)
    assert affected.cpes == ("cpe:/a:redhat:red_hat_single_sign_on:7.6::el7",)
    assert fixed.affected is False
    assert fixed.ranges == (
        VersionRange(
            introduced="0:18.0.6-1.redhat_00001.1.el7sso",
            scheme=VersionScheme.RPM,
            text="unaffected: version 0:18.0.6-1.redhat_00001.1.el7sso, lessThan *",
        ),
    )


def test_maven_package_gets_a_purl() -> None:
    adv, _ = advisory("maven-package")
    cna, adp = adv.affected
    assert cna.purl == "pkg:maven/org.apache.zeppelin/sap"
    assert cna.ranges[0].scheme is VersionScheme.SEMVER  # versionType wins over the collection
    assert adp.provider == "CISA-ADP" and adp.purl is None
    assert Severity("vendor", label="moderate") in adv.severities


def test_ssvc_words_are_normalised() -> None:
    adv, _ = advisory("ssvc-capitalised")
    assert adv.exploitation == Exploitation(
        kev=True,
        kev_date_added="2024-03-25",
        ssvc_exploitation="active",
        ssvc_automatable=True,
        ssvc_technical_impact="total",
    )


def test_the_default_scheme_comes_from_the_package_collection() -> None:
    data = fixture_json("maven-package")
    del data["containers"]["cna"]["affected"][0]["versions"][0]["versionType"]
    adv = parse(json.dumps(data).encode())[0][0]
    assert isinstance(adv, Advisory)
    assert adv.affected[0].ranges[0].scheme is VersionScheme.MAVEN


def test_changes_cut_the_range_at_each_change() -> None:
    data = fixture_json("wordpress-plugin")
    data["containers"]["cna"]["affected"][0]["versions"] = [
        {
            "version": "7.0.0",
            "lessThan": "7.4.3",
            "status": "affected",
            "changes": [{"at": "7.2.7", "status": "unaffected"}],
        }
    ]
    adv = parse(json.dumps(data).encode())[0][0]
    assert isinstance(adv, Advisory)
    affected, unaffected = adv.affected[0], adv.affected[1]
    assert [(r.introduced, r.fixed) for r in affected.ranges] == [("7.0.0", "7.2.7")]
    assert [(r.introduced, r.fixed) for r in unaffected.ranges] == [("7.2.7", "7.4.3")]
    # 7.4.3 is where the entry stops speaking, not a fix.
    assert affected.fixed_versions == ("7.2.7",)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        # Chrome and HackerOne write "X less than X" for "before X".
        (
            {"version": "73.0.3683.75", "lessThan": "73.0.3683.75", "status": "affected"},
            VersionRange(
                fixed="73.0.3683.75",
                text="affected: version 73.0.3683.75, lessThan 73.0.3683.75",
            ),
        ),
        (
            {"version": "*", "lessThanOrEqual": "2.4.1", "status": "affected"},
            VersionRange(last_affected="2.4.1", text="affected: version *, lessThanOrEqual 2.4.1"),
        ),
        (
            {"version": "B.11.31.20", "lessThan": "< B.11.31.24", "status": "affected"},
            VersionRange(
                introduced="B.11.31.20",
                fixed="B.11.31.24",
                text="affected: version B.11.31.20, lessThan < B.11.31.24",
            ),
        ),
        (
            {"version": "0", "lessThan": "*", "status": "affected"},
            VersionRange(all_versions=True, text="affected: version 0, lessThan *"),
        ),
        # A firmware build, not a commit id.
        (
            {"version": "b20210419", "status": "affected"},
            VersionRange(exact="b20210419", text="affected: version b20210419"),
        ),
        # Says the product is affected without a version: matched by name only.
        ({"version": "various", "status": "affected"}, None),
    ],
)
def test_version_entries(entry: dict[str, str], expected: VersionRange | None) -> None:
    data = fixture_json("wordpress-plugin")
    data["containers"]["cna"]["affected"][0]["versions"] = [entry]
    [adv], report = parse(json.dumps(data).encode())
    assert isinstance(adv, Advisory) and report.skipped == []
    assert adv.affected[0].ranges == (() if expected is None else (expected,))


# --- malformed input -------------------------------------------------------------------------


def test_not_json_is_one_skip_with_line_and_column() -> None:
    records, report = parse(b'{"dataType": "CVE_RECORD",\n "cveMetadata": {', "broken.json")
    assert records == []
    [skip] = report.skipped
    assert skip.location.file == "broken.json" and skip.location.line == 2
    assert skip.location.column is not None
    assert skip.reason.startswith("not JSON: EOF")


def test_record_without_id_is_skipped_with_its_field() -> None:
    data = fixture_json("panos-kev")
    del data["cveMetadata"]["cveId"]
    records, report = parse(json.dumps(data).encode())
    assert records == []
    assert [str(s) for s in report.skipped] == [
        "record.json [cveMetadata.cveId]: not a CVE JSON 5 record: Field required"
    ]


def test_bad_parts_are_skipped_alone() -> None:
    data = fixture_json("panos-kev")
    cna = data["containers"]["cna"]
    cna["affected"][1]["product"] = 42
    cna["affected"][0]["versions"][0] = {"version": "9.0.0"}
    cna["affected"][0]["versions"][1]["status"] = "unknown"
    data["cveMetadata"]["datePublished"] = "last Tuesday"
    adp = data["containers"]["adp"][-1]
    for metric in adp["metrics"]:
        if "other" in metric and metric["other"]["type"] == "ssvc":
            metric["other"]["content"]["options"][0] = {"Exploitation": "rumoured"}
    records, report = parse(json.dumps(data).encode())
    [adv] = records
    assert isinstance(adv, Advisory)
    assert adv.published is None
    assert adv.exploitation.ssvc_exploitation is None and adv.exploitation.kev
    assert "Cloud NGFW" not in [p.product for p in adv.affected]
    assert sorted(str(s) for s in report.skipped) == sorted(
        [
            "record.json [containers.cna.affected[0].versions[0].status]: "
            "version entry skipped: Field required",
            f"record.json [containers.cna.affected[0].versions[1]]: {UNKNOWN_STATUS}",
            "record.json [containers.cna.affected[1].product]: "
            "affected entry skipped: Input should be a valid string",
            "record.json [cveMetadata.datePublished]: "
            "timestamp skipped: Input should be a valid datetime or date, "
            "invalid character in year",
            "record.json [containers.adp[1].metrics[0].other.content.options]: "
            "SSVC exploitation skipped: value not understood",
        ]
    )


def test_another_feed_is_refused() -> None:
    with pytest.raises(InputError, match="NVD API 2.0 response, not a CVE JSON 5 record"):
        parse(NVD_PAGE.read_bytes())
    kev = b'{"catalogVersion": "2025.08.25", "count": 0, "vulnerabilities": []}'
    with pytest.raises(InputError, match="CISA KEV catalogue"):
        parse(kev)


def test_unknown_json_is_a_skip() -> None:
    records, report = parse(b'{"hello": "world"}')
    assert records == [] and report.reasons() == {"not a CVE JSON 5 record: Field required": 1}


def test_json_lines_through_iter_documents(tmp_path: Path) -> None:
    lines = [json.dumps(fixture_json(p.stem)) for p in sorted(FIXTURES.glob("*.json"))]
    lines.insert(3, "this line is not JSON")
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(lines) + "\n\n")
    report = ParseReport("cve5")
    records = [
        r for doc in iter_documents(path) for r in Cve5Source().parse(doc.raw, doc.origin, report)
    ]
    assert len(records) == report.parsed == 10
    bad = [s for s in report.skipped if s.reason.startswith("not JSON")]
    assert [s.location.file for s in bad] == [f"{path}:4"]


# --- properties ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=30,
)


def assert_only_records_or_skips(raw: bytes) -> None:
    report = ParseReport("cve5")
    try:
        records = list(Cve5Source().parse(raw, "fuzz", report))
    except InputError:
        return  # a document of another feed: documented
    assert all(isinstance(r, Advisory) for r in records)
    assert len(records) == report.parsed <= 1
    assert records or report.skipped


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_bytes(raw: bytes) -> None:
    assert_only_records_or_skips(raw)


@FUZZ
@given(json_values)
def test_fuzz_json_values(value: object) -> None:
    assert_only_records_or_skips(json.dumps(value).encode())


def _paths(value: object, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


PANOS = fixture_json("panos-kev")
PANOS_PATHS = [p for p in _paths(PANOS) if p]


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(PANOS_PATHS), json_values), min_size=1, max_size=4))
def test_fuzz_real_record_with_replaced_parts(changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    data = copy.deepcopy(PANOS)
    for path, value in changes:
        node: Any = data
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this path
    assert_only_records_or_skips(json.dumps(data).encode())


versions = st.from_regex(r"[1-9][0-9]?(\.[0-9]{1,3}){0,3}", fullmatch=True)


@FUZZ
@given(st.lists(st.tuples(versions, versions, st.booleans()), min_size=1, max_size=6))
def test_round_trip_version_ranges(bounds: list[tuple[str, str, bool]]) -> None:
    """Ranges written as CVE 5 version entries come back as the same bounds."""
    entries = [
        {"version": low, "status": "affected", ("lessThanOrEqual" if inc else "lessThan"): high}
        for low, high, inc in bounds
    ]
    data = fixture_json("wordpress-plugin")
    data["containers"]["cna"]["affected"][0]["versions"] = entries
    del data["containers"]["cna"]["affected"][0]["collectionURL"]
    [adv], report = parse(json.dumps(data).encode())
    assert isinstance(adv, Advisory) and report.skipped == []
    got = {
        (r.introduced, r.last_affected or r.fixed, r.last_affected is not None)
        for r in adv.affected[0].ranges
    }
    # "from 1, less than 1" holds no version: read as "before 1", as Chrome means it
    assert got == {(low if inc or low != high else None, high, inc) for low, high, inc in bounds}


# --- the shared real data --------------------------------------------------------------------


def test_all_shared_vulnrichment_records() -> None:
    """44,130 records: every one read; the only skips are commit ranges and unknown status."""
    path = shared_data("watch", "vulnrichment", "cve5-records.jsonl.gz")
    report = ParseReport("cve5")
    source = Cve5Source()
    start = time.perf_counter()
    withdrawn = kev = with_products = 0
    for doc in iter_documents(path):
        for adv in source.parse(doc.raw, doc.origin, report):
            assert isinstance(adv, Advisory)
            withdrawn += adv.withdrawn
            kev += adv.exploitation.kev
            with_products += bool(adv.affected)
    elapsed = time.perf_counter() - start
    assert report.parsed == 44_130
    assert withdrawn == 104
    assert kev == 224
    # Of the 44,026 published records, 3,327 name no product at all (vendor "n/a",
    # product "n/a" and no CISA ADP entry) and 166 state only commit ranges, unknown
    # statuses or unaffected versions.
    assert with_products == 40_533
    assert report.reasons() == {COMMIT_RANGE: 18_680, UNKNOWN_STATUS: 151}
    assert elapsed < 60, f"{elapsed:.1f} s for 44,130 records"
