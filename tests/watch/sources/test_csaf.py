"""CSAF 2.0 source: the product tree, advisories from real CISA documents, hostile input.

Real documents are read in place from ../shared/data/watch/csaf (see data/README.md);
fixtures/csaf/ holds hand-written documents following the CSAF 2.0 standard.
"""

from __future__ import annotations

import gzip
import json
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import shared_data
from tocsin.errors import ConfigError, InputError, Location
from tocsin.model.advisory import (
    Advisory,
    AffectedProduct,
    Severity,
    VersionRange,
    VersionScheme,
)
from tocsin.watch.sources import csaf_tree
from tocsin.watch.sources.base import ParseReport, get_source, iter_documents
from tocsin.watch.sources.csaf import CsafSource, parse_csaf
from tocsin.watch.sources.csaf_discovery import (
    CsafProvider,
    RolieEntry,
    RolieFeedRef,
    bundled_providers,
    document_urls,
    load_providers,
    parse_provider_metadata,
    parse_rolie_feed,
)
from tocsin.watch.sources.csaf_tree import parse_vers

FIXTURES = Path(__file__).parent / "fixtures" / "csaf"
ICSMA = ("watch", "csaf", "icsma", "csaf_files", "OT", "white")


def parse(raw: bytes, origin: str = "doc.json") -> tuple[list[Advisory], ParseReport]:
    report = ParseReport("csaf")
    records = list(CsafSource().parse(raw, origin, report))
    assert all(isinstance(r, Advisory) for r in records)
    return [r for r in records if isinstance(r, Advisory)], report


def one(raw: bytes) -> Advisory:
    advisories, report = parse(raw)
    assert report.skipped == []
    assert len(advisories) == 1
    return advisories[0]


def dumps(doc: object) -> bytes:
    return json.dumps(doc).encode()


def fixture_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / "exm-2024-001.json").read_bytes())
    return doc


# --- a hand-written document with every part of the standard Tocsin reads ----------------


def test_hand_written_document_gives_every_field() -> None:
    advisory = one((FIXTURES / "exm-2024-001.json").read_bytes())
    assert advisory.id == "EXM-2024-001"
    assert advisory.source == "csaf"
    assert advisory.title == "Example Medical PumpGateway and Dose Manager"
    assert advisory.summary == "An attacker on the clinical network could change infusion limits."
    assert advisory.published == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert advisory.modified == datetime(2024, 3, 15, 9, tzinfo=UTC)
    assert advisory.aliases == ("ICSMA-24-999-01", "GHSA-abcd-efgh-ijkl")
    assert advisory.cves == ("CVE-2024-0001", "CVE-2024-0002")
    assert advisory.cwes == ("CWE-787",)
    assert advisory.language == "en"
    assert advisory.severities == (
        Severity("cvss_v3", 9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "critical"),
        Severity("cvss_v2", 5.0, "AV:N/AC:L/Au:N/C:N/I:N/A:P"),
        Severity("vendor", label="Critical"),
    )
    assert advisory.exploitation.ssvc_exploitation == "active"
    assert advisory.references == (
        "https://psirt.example-medical.com/.well-known/csaf/white/2024/exm-2024-001.json",
        "https://psirt.example-medical.com/advisories/EXM-2024-001",
        "https://psirt.example-medical.com/downloads/pumpgateway-2.4.1",
        "https://nvd.nist.gov/vuln/detail/CVE-2024-0001",
    )
    assert advisory.solution == (
        "Update PumpGateway to 2.4.1.\nUpdate Dose Manager to 4.1.\n"
        "Block TCP port 4242 at the VLAN boundary."
    )


def test_hand_written_document_affected_products() -> None:
    advisory = one((FIXTURES / "exm-2024-001.json").read_bytes())
    npm = "vers:npm/>=1.0.0|<1.2.3|>=2.0.0|<2.0.5"
    lib_ranges = (
        VersionRange(introduced="1.0.0", fixed="1.2.3", scheme=VersionScheme.NPM, text=npm),
        VersionRange(introduced="2.0.0", fixed="2.0.5", scheme=VersionScheme.NPM, text=npm),
    )
    gateway = VersionRange(introduced="2.0", fixed="2.4.1", text="vers:generic/>=2.0|<2.4.1")
    assert advisory.affected == (
        AffectedProduct(  # branches: vendor → family → name → version range, with a CPE
            product="Infusion PumpGateway",
            vendor="Example Medical",
            ranges=(gateway,),
            cpes=("cpe:2.3:o:example_medical:pumpgateway:*:*:*:*:*:*:*:*",),
            fixed_versions=("2.4.1",),  # the fixed product of the same name
            text="Example Medical PumpGateway 2.0 to 2.4.0",
        ),
        AffectedProduct(  # free-text range; fixed version from the vendor_fix
            product="Dose Manager",
            vendor="Example Medical",
            ranges=(VersionRange(fixed="4.1", text="All versions prior to 4.1"),),
            fixed_versions=("4.1",),
            text="Example Medical Dose Manager: All versions prior to 4.1",
        ),
        AffectedProduct(  # a relationship: the component, named by the composite
            product="libexample",
            vendor="OpenLib",
            ranges=lib_ranges,
            purl="pkg:npm/libexample",
            text="libexample installed on PumpGateway",
        ),
        AffectedProduct(  # full_product_names: the name read as free text
            product="Example Legacy Console",
            ranges=(VersionRange(last_affected="3.2", text="<= 3.2"),),
            text="Example Legacy Console <= 3.2",
        ),
        AffectedProduct(  # last_affected counts as affected
            product="libexample",
            vendor="OpenLib",
            ranges=lib_ranges,
            purl="pkg:npm/libexample",
            text="libexample 1.x before 1.2.3, 2.x before 2.0.5",
        ),
        AffectedProduct(  # known_not_affected, kept to rule the version out
            product="Infusion PumpGateway",
            vendor="Example Medical",
            ranges=(VersionRange(exact="1.9", text="V1.9"),),
            affected=False,
            text="Example Medical PumpGateway 1.9",
        ),
    )


# --- real ICS medical advisories, read in place ---------------------------------------------


def icsma(year: str, name: str) -> bytes:
    return (shared_data(*ICSMA, year, name)).read_bytes()


def test_icsma_orthanc_exact_version() -> None:
    advisory = one(icsma("2024", "icsma-24-023-01.json"))
    assert advisory.id == "ICSMA-24-023-01"
    assert advisory.title == "Orthanc Osimis DICOM Web Viewer"
    assert advisory.published == datetime(2024, 1, 23, 7, tzinfo=UTC)
    assert advisory.cves == ("CVE-2023-7238",)
    assert advisory.cwes == ("CWE-79",)
    assert advisory.severities == (
        Severity("cvss_v3", 7.1, "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:L", "high"),
    )
    assert advisory.affected == (
        AffectedProduct(
            product="Osimis WebViewer",
            vendor="Orthanc",
            ranges=(VersionRange(exact="1.4.2.0-9d9eff4", text="1.4.2.0-9d9eff4"),),
            text="Orthanc Osimis WebViewer: 1.4.2.0-9d9eff4",
        ),
    )
    assert advisory.references[:2] == (
        "https://raw.githubusercontent.com/cisagov/CSAF/develop/csaf_files/OT/white/2024/icsma-24-023-01.json",
        "https://www.cisa.gov/news-events/ics-medical-advisories/icsma-24-023-01",
    )
    assert "https://discourse.orthanc-server.org/t/osimis-web-viewer-1-4-3/4206" in (
        advisory.references
    )
    assert advisory.solution is not None and "Orthanc version 24.1.2" in advisory.solution
    assert advisory.summary.startswith("Successful exploitation of this vulnerability")


def test_icsma_medtronic_pumps_all_versions_and_letters() -> None:
    advisory = one(icsma("2019", "icsma-19-178-01.json"))
    assert advisory.id == "ICSMA-19-178-01"
    assert advisory.cves == ("CVE-2019-10964",)
    by_product = {entry.product: entry for entry in advisory.affected}
    assert len(by_product) == 11
    assert all(entry.vendor == "Medtronic" for entry in advisory.affected)
    pump = by_product["MiniMed 508 pump"]
    assert pump.ranges == (VersionRange(all_versions=True, text="vers:all/*"),)
    assert pump.text == "MiniMed 508 pump: All versions"
    veo = by_product["MiniMed Paradigm Veo 554/754 pumps"]
    assert veo.ranges == (VersionRange(last_affected="2.6A", text="<= 2.6A"),)
    assert sum(1 for e in advisory.affected if e.ranges[0].all_versions) == 7


def test_icsma_sooil_insulin_pump_ranges_nine_cves() -> None:
    advisory = one(icsma("2021", "icsma-21-012-01.json"))
    assert advisory.id == "ICSMA-21-012-01"
    assert advisory.title == "SOOIL Dana Diabecare RS Products"
    assert len(advisory.cves) == 9 and advisory.cves[0] == "CVE-2020-27256"
    assert advisory.cwes[:2] == ("CWE-798", "CWE-522")
    assert [(e.product, e.ranges) for e in advisory.affected] == [
        (name, (VersionRange(fixed="3.0", text="< 3.0"),))
        for name in ("AnyDana-A", "Dana Diabecare RS", "AnyDana-i")
    ]
    assert {e.vendor for e in advisory.affected} == {"SOOIL Developments Co, Ltd."}
    assert len(advisory.severities) == 5  # nine scores, five distinct vectors


def test_icsma_siemens_imaging_only_listed_products() -> None:
    advisory = one(icsma("2017", "icsma-17-215-01.json"))
    assert advisory.cves == ("CVE-2008-4250", "CVE-2017-7269")
    # four products in the tree, but the vulnerabilities list only the first one
    assert advisory.affected == (
        AffectedProduct(
            product="Siemens SPECT Workplaces/Symbia.net Windows XP-Based",
            vendor="Siemens",
            ranges=(VersionRange(all_versions=True, text="vers:all/*"),),
            text="Siemens SPECT Workplaces/Symbia.net: All Windows XP-based versions",
        ),
    )
    assert advisory.summary.startswith("CVE-2008-4250: ")  # no document summary: per CVE


def range_kind(entry: AffectedProduct) -> str:
    if any(r.all_versions for r in entry.ranges):
        return "all versions"
    return "version range" if entry.ranges else "name only"


def test_all_shared_csaf_documents() -> None:
    """144 ICSMA files and 2,241 lines of other CISA documents: all read, 2 explained skips."""
    folder = shared_data(*ICSMA[:3])
    lines = shared_data("watch", "csaf", "cisa-other.jsonl.gz")
    report = ParseReport("csaf")
    source = CsafSource()
    started = time.perf_counter()
    advisories = [
        record
        for path in (folder, lines)
        for doc in iter_documents(path)
        for record in source.parse(doc.raw, doc.origin, report)
    ]
    elapsed = time.perf_counter() - started
    assert len(advisories) == report.parsed == 144 + 2239
    # the two other lines are CISA's ROLIE feeds (see test_real_rolie_feeds)
    assert report.reasons() == {"a ROLIE feed, not a CSAF document": 2}
    assert [s.location.file for s in report.skipped] == [f"{lines}:5", f"{lines}:2241"]
    assert all(isinstance(a, Advisory) and a.cves and a.affected for a in advisories)
    ids = [a.id for a in advisories if isinstance(a, Advisory)]
    assert len(set(ids)) == len(ids)
    assert sum(1 for i in ids if i.startswith("ICSMA-")) == 144
    kinds = Counter(
        range_kind(e) for a in advisories if isinstance(a, Advisory) for e in a.affected
    )
    # Recorded 2026-11 with the free-text reader of that day: 11,586 version ranges,
    # 4,471 all-versions, 209 name-only of 16,266 entries. Name-only are serial-number or
    # date wording ("<=the_first_5_digits_of_serial_number_22081", "<April/20/2023").
    assert sum(kinds.values()) == 16_266
    assert kinds["name only"] < 0.05 * sum(kinds.values()), kinds
    assert elapsed < 60


# --- guards against hostile documents -------------------------------------------------------


def test_rolie_feed_and_garbage_are_skipped_with_reasons() -> None:
    advisories, report = parse(b'{"feed": {"entry": []}}')
    assert advisories == [] and report.reasons() == {"a ROLIE feed, not a CSAF document": 1}
    for raw, reason in (
        (b"\x80abc", "not JSON: UnicodeDecodeError"),
        (b"{", "not JSON: JSONDecodeError"),
        (b"[1, 2]", "not a CSAF document"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply"),
    ):
        advisories, report = parse(raw)
        assert advisories == [] and report.reasons() == {reason: 1}


def test_missing_tracking_id_names_the_field() -> None:
    doc = fixture_doc()
    del doc["document"]["tracking"]["id"]
    advisories, report = parse(dumps(doc), "x.json")
    assert advisories == []
    [skip] = report.skipped
    assert skip.reason == "invalid CSAF document: Field required"
    assert skip.location.field == "document.tracking.id"


def test_malformed_vulnerability_is_left_out_and_the_rest_kept() -> None:
    doc = fixture_doc()
    doc["vulnerabilities"][1]["cve"] = "CVE-24-1"
    doc["vulnerabilities"][0]["product_status"]["known_affected"].append("P99")
    advisories, report = parse(dumps(doc))
    assert [a.cves for a in advisories] == [("CVE-2024-0001",)]
    assert [(s.location.field, s.reason) for s in report.skipped] == [
        (
            "vulnerabilities[1].cve",
            "vulnerability left out: String should match pattern '^CVE-\\d{4}-\\d{4,}$'",
        ),
        ("vulnerabilities[0].product_status.known_affected[3]", "unknown product id"),
    ]


def nested_branches(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {
        "category": "product_version",
        "name": "1.0",
        "product": {"product_id": "deep", "name": "deep"},
    }
    for _ in range(depth - 1):
        node = {"category": "product_name", "name": "x", "branches": [node]}
    return node


def test_branch_depth_is_bounded() -> None:
    doc = fixture_doc()
    doc["product_tree"] = {"branches": [nested_branches(64)]}
    doc["vulnerabilities"] = []
    assert one(dumps(doc)).affected == ()
    doc["product_tree"] = {"branches": [nested_branches(65)]}
    advisories, report = parse(dumps(doc))
    assert advisories == []
    assert report.reasons() == {"branches nested deeper than 64": 1}


def test_product_count_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csaf_tree, "MAX_PRODUCTS", 5)
    advisories, report = parse((FIXTURES / "exm-2024-001.json").read_bytes())
    assert advisories == []
    assert report.reasons() == {"product tree over 5 products": 1}
    assert (
        report.skipped[0].location.field
        == "product_tree.branches[1].branches[0].branches[0].product"
    )


def test_duplicate_product_id_and_bad_relationship_are_counted() -> None:
    doc = fixture_doc()
    doc["product_tree"]["full_product_names"].append({"product_id": "P1", "name": "again"})
    doc["product_tree"]["relationships"][0]["product_reference"] = "P42"
    advisories, report = parse(dumps(doc))
    assert len(advisories) == 1
    assert [(s.location.field, s.reason) for s in report.skipped] == [
        ("product_tree.full_product_names[1].product_id", "duplicate product id"),
        (
            "product_tree.relationships[0].product_reference",
            "relationship refers to an unknown product id",
        ),
        ("vulnerabilities[0].product_status.known_affected[2]", "unknown product id"),
    ]


# --- vers: ranges ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vers:all/*", [VersionRange(all_versions=True)]),
        ("vers:all/<V4.3.8", [VersionRange(fixed="4.3.8")]),
        ("vers:all/>=V7.80<V9.40", [VersionRange(introduced="7.80", fixed="9.40")]),
        ("vers:all/>=V11.5.1|<V11.6.2", [VersionRange(introduced="11.5.1", fixed="11.6.2")]),
        ("vers:generic/>1.0|<=2.0", [VersionRange("1.0", True, last_affected="2.0")]),
        ("vers:generic/1.2|1.4", [VersionRange(exact="1.2"), VersionRange(exact="1.4")]),
        ("vers:generic/>=3.0", [VersionRange(introduced="3.0")]),
        ("vers:generic/>=1.0|!=1.5|<2.0", [VersionRange(introduced="1.0", fixed="2.0")]),
        ("vers:pypi/<1.0%2Blocal", [VersionRange(fixed="1.0+local", scheme=VersionScheme.PYPI)]),
        ("vers:deb/>=1:2.0-1", [VersionRange(introduced="1:2.0-1", scheme=VersionScheme.DEB)]),
    ],
)
def test_parse_vers(text: str, expected: list[VersionRange]) -> None:
    from dataclasses import replace

    assert parse_vers(text) == tuple(replace(r, text=text) for r in expected)


@pytest.mark.parametrize("text", ["< V4.1", "All versions", "vers:", "vers:generic/", "1.0"])
def test_parse_vers_leaves_other_wording(text: str) -> None:
    assert parse_vers(text) is None


# --- fuzzing: any input gives records or counted skips, never an exception -----------------

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=25,
)
words = st.sampled_from(
    ["vers:all/*", "< V4.1", "All versions", "vers:npm/>=1|<2", "2.0", "x", "", "<=", "vers:a/|"]
)
pid = st.sampled_from(["P1", "P2", "P3"])
branch = st.recursive(
    st.fixed_dictionaries(
        {
            "category": st.sampled_from(["vendor", "product_name", "product_version", "other"]),
            "name": words | json_leaf,
        },
        optional={"product": st.fixed_dictionaries({"product_id": pid | json_leaf}) | json_leaf},
    ),
    lambda inner: st.fixed_dictionaries(
        {
            "category": st.sampled_from(["vendor", "product_family", "product_version_range"]),
            "name": words,
            "branches": st.lists(inner, max_size=3) | json_leaf,
        }
    ),
    max_leaves=12,
)
csaf_shaped = st.fixed_dictionaries(
    {
        "document": st.fixed_dictionaries(
            {
                "category": st.just("csaf_security_advisory") | json_leaf,
                "csaf_version": st.sampled_from(["2.0", "1.2"]) | json_leaf,
                "tracking": st.fixed_dictionaries(
                    {
                        "id": st.text(max_size=10) | json_leaf,
                        "current_release_date": st.sampled_from(
                            ["2024-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "x"]
                        )
                        | json_leaf,
                    }
                ),
            },
            optional={"notes": json_value, "references": json_value, "lang": json_leaf},
        ),
    },
    optional={
        "product_tree": st.fixed_dictionaries(
            {},
            optional={
                "branches": st.lists(branch, max_size=3) | json_leaf,
                "full_product_names": st.lists(json_value, max_size=2),
                "relationships": st.lists(
                    st.fixed_dictionaries(
                        {"product_reference": pid, "full_product_name": json_value}
                    ),
                    max_size=2,
                ),
            },
        ),
        "vulnerabilities": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "cve": st.just("CVE-2024-12345") | json_leaf,
                    "product_status": st.dictionaries(
                        st.sampled_from(["known_affected", "fixed", "known_not_affected"]),
                        st.lists(pid | json_leaf, max_size=3),
                    ),
                    "remediations": json_value,
                    "scores": json_value,
                    "threats": json_value,
                },
            ),
            max_size=3,
        )
        | json_leaf,
    },
)

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def only_records_or_skips(raw: bytes) -> None:
    report = ParseReport("csaf")
    records = list(CsafSource().parse(raw, "fuzz", report))
    assert all(isinstance(r, Advisory) for r in records)
    assert len(records) + len(report.skipped) >= 1
    assert report.parsed == len(records)


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_bytes(raw: bytes) -> None:
    only_records_or_skips(raw)


@FUZZ
@given(json_value)
def test_fuzz_json(value: object) -> None:
    only_records_or_skips(dumps(value))


@FUZZ
@given(csaf_shaped)
def test_fuzz_csaf_shaped_documents(doc: dict[str, Any]) -> None:
    only_records_or_skips(dumps(doc))


# --- round trip: products written as CSAF come back as the same affected entries -----------

version = st.lists(st.integers(0, 99), min_size=1, max_size=4).map(
    lambda parts: ".".join(map(str, parts))
)
name = st.text(
    st.characters(whitelist_categories=("Lu", "Ll", "Nd"), max_codepoint=0x24F),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(name, name, version, version, st.booleans()),
        min_size=1,
        max_size=5,
        unique_by=lambda t: (t[0], t[1]),
    ),
    st.lists(st.integers(1, 99_999), min_size=1, max_size=3, unique=True),
)
def test_round_trip(products: list[tuple[str, str, str, str, bool]], numbers: list[int]) -> None:
    cves = [f"CVE-2024-{n:05d}" for n in numbers]
    branches, expected = [], []
    for index, (vendor, product, low, high, exact) in enumerate(products):
        pid = f"CSAFPID-{index}"
        if exact:
            leaf = {"category": "product_version", "name": low}
            rng = VersionRange(exact=low, text=low)
        else:
            text = f"vers:generic/>={low}|<{high}"
            leaf = {"category": "product_version_range", "name": text}
            rng = VersionRange(introduced=low, fixed=high, text=text)
        leaf["product"] = {"product_id": pid, "name": f"{vendor} {product}"}
        branches.append(
            {
                "category": "vendor",
                "name": vendor,
                "branches": [{"category": "product_name", "name": product, "branches": [leaf]}],
            }
        )
        expected.append(AffectedProduct(product, vendor, (rng,), text=f"{vendor} {product}"))
    pids = [f"CSAFPID-{i}" for i in range(len(products))]
    doc = {
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "title": "Round trip",
            "tracking": {"id": "RT-1", "initial_release_date": "2024-05-01T00:00:00Z"},
        },
        "product_tree": {"branches": branches},
        "vulnerabilities": [
            {"cve": cve, "product_status": {"known_affected": pids}} for cve in cves
        ],
    }
    advisory = one(dumps(doc))
    assert advisory.id == "RT-1"
    assert advisory.cves == tuple(cves)
    assert advisory.affected == tuple(expected)


def test_parse_csaf_is_the_source_parse() -> None:
    raw = (FIXTURES / "exm-2024-001.json").read_bytes()
    assert parse_csaf(raw, "x", ParseReport("csaf")) == one(raw)


def test_gzip_jsonl_lines_are_documents(tmp_path: Path) -> None:
    raw = (FIXTURES / "exm-2024-001.json").read_bytes()
    path = tmp_path / "docs.jsonl.gz"
    compact = json.dumps(json.loads(raw)).encode()
    path.write_bytes(gzip.compress(compact + b"\n\n" + compact + b"\n"))
    docs = list(iter_documents(path))
    assert [d.origin for d in docs] == [f"{path}:1", f"{path}:3"]
    assert [one(d.raw).id for d in docs] == ["EXM-2024-001"] * 2


# --- discovery: providers as data, provider-metadata.json, ROLIE feeds ---------------------


def test_provider_metadata_lists_feeds_and_directories() -> None:
    raw = (FIXTURES / "provider-metadata.json").read_bytes()
    meta = parse_provider_metadata(raw, "provider-metadata.json")
    base = "https://psirt.example-medical.com/.well-known/csaf"
    assert meta.canonical_url == f"{base}/provider-metadata.json"
    assert meta.publisher == "Example Medical PSIRT"
    assert meta.role == "csaf_trusted_provider"
    assert meta.last_updated == datetime(2024, 10, 24, 19, 23, 12, tzinfo=UTC)
    assert meta.feeds == (
        RolieFeedRef(
            f"{base}/feed-tlp-white.json", "WHITE", "Example Medical advisories (TLP:WHITE)"
        ),
        RolieFeedRef(
            f"{base}/feed-tlp-green.json",
            "GREEN",
            "Example Medical advisories for customers (TLP:GREEN)",
        ),
    )
    assert meta.directories == (f"{base}/white/",)
    assert meta.feed_urls() == (f"{base}/feed-tlp-white.json",)  # CLEAR and WHITE only
    assert meta.feed_urls(["white", "green"]) == (
        f"{base}/feed-tlp-white.json",
        f"{base}/feed-tlp-green.json",
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("role"), "role"),
        (
            lambda d: d["distributions"][0]["rolie"]["feeds"][0].update(url="file:///etc/passwd"),
            "distributions[0].rolie.feeds[0].url",
        ),
        (lambda d: d.update(metadata_version="1.0"), "metadata_version"),
    ],
)
def test_provider_metadata_errors_name_the_field(change: Any, field: str) -> None:
    doc = json.loads((FIXTURES / "provider-metadata.json").read_bytes())
    change(doc)
    with pytest.raises(InputError) as caught:
        parse_provider_metadata(dumps(doc), "pm.json")
    assert caught.value.location == Location("pm.json", field=field)


def test_rolie_feed_gives_document_urls() -> None:
    report = ParseReport("csaf")
    raw = (FIXTURES / "feed-tlp-white.json").read_bytes()
    entries = parse_rolie_feed(raw, "feed.json", report)
    base = "https://psirt.example-medical.com/.well-known/csaf/white"
    assert entries == (
        RolieEntry(
            id="EXM-2024-001",
            url=f"{base}/2024/exm-2024-001.json",
            title="Example Medical PumpGateway and Dose Manager",
            published=datetime(2024, 3, 1, 10, tzinfo=UTC),
            updated=datetime(2024, 3, 15, 9, tzinfo=UTC),
            hash_url=f"{base}/2024/exm-2024-001.json.sha512",
            signature_url=f"{base}/2024/exm-2024-001.json.asc",
        ),
        RolieEntry(
            id="EXM-2023-017",
            url=f"{base}/2023/exm-2023-017.json",
            title="Example Medical Legacy Console",
            published=datetime(2023, 11, 20, 8, tzinfo=UTC),
            updated=datetime(2023, 11, 20, 8, tzinfo=UTC),
        ),
    )
    assert document_urls(entries) == (
        f"{base}/2024/exm-2024-001.json",
        f"{base}/2023/exm-2023-017.json",
    )
    assert [(s.location.field, s.reason) for s in report.skipped] == [
        ("feed.entry[2]", "entry without an https document URL"),
        ("feed.entry[3].id", "malformed feed entry: Field required"),
    ]


def test_rolie_feed_refuses_what_is_not_a_feed() -> None:
    for raw in (b"[]", b'{"feed": []}', b"not json"):
        with pytest.raises(InputError):
            parse_rolie_feed(raw, "f.json", ParseReport("csaf"))


def test_real_rolie_feeds() -> None:
    """CISA's IT and OT feeds, recorded among the CSAF lines of the shared data."""
    path = shared_data("watch", "csaf", "cisa-other.jsonl.gz")
    feeds = [d for d in iter_documents(path) if d.raw.startswith(b'{"feed"')]
    assert [d.origin.rsplit(":", 1)[1] for d in feeds] == ["5", "2241"]
    report = ParseReport("csaf")
    it, ot = (parse_rolie_feed(d.raw, d.origin, report) for d in feeds)
    assert report.skipped == []
    assert [e.id for e in it] == ["VA-24-254-02", "VA-24-262-01", "VA-24-201-01", "VA-24-254-01"]
    assert it[0].hash_url is not None and it[0].hash_url.endswith(".json.sha512")  # "ref"
    assert len(ot) == 2379
    assert ot[0] == RolieEntry(
        id="ICSA-24-298-03",
        url="https://raw.githubusercontent.com/cisagov/CSAF/develop/csaf_files/OT/white/2024/icsa-24-298-03.json",
        title="Deep Sea Electronics DSE855",
        published=datetime(2024, 10, 24, 6, tzinfo=UTC),
        updated=datetime(2024, 10, 24, 6, tzinfo=UTC),
        hash_url="https://raw.githubusercontent.com/cisagov/CSAF/develop/csaf_files/OT/white/2024/icsa-24-298-03.json.sha512",
        signature_url="https://raw.githubusercontent.com/cisagov/CSAF/develop/csaf_files/OT/white/2024/icsa-24-298-03.json.asc",
    )
    urls = document_urls(ot)
    assert all(u.startswith("https://") and u.endswith(".json") for u in urls)
    assert sum(1 for u in urls if "/icsma-" in u) >= 144


def test_bundled_providers() -> None:
    providers = {p.name: p for p in bundled_providers()}
    assert set(providers) == {"cisa", "siemens"}
    assert providers["cisa"].metadata_url == (
        "https://www.cisa.gov/sites/default/files/csaf/provider-metadata.json"
    )
    assert providers["siemens"].metadata_url == (
        "https://cert-portal.siemens.com/productcert/csaf/provider-metadata.json"
    )
    assert all(p.enabled and p.tlp == ("CLEAR", "WHITE") for p in providers.values())


def test_added_provider_and_config_errors() -> None:
    block = (
        '[[provider]]\nname = "example"\ntitle = "Example"\n'
        'metadata_url = "https://psirt.example.com/.well-known/csaf/provider-metadata.json"\n'
    )
    [provider] = load_providers(block + 'tlp = ["white", "green"]\n', "p.toml")
    assert provider == CsafProvider(
        "example",
        "Example",
        "https://psirt.example.com/.well-known/csaf/provider-metadata.json",
        ("WHITE", "GREEN"),
    )
    for text, field in (
        (block + 'tpl = ["WHITE"]\n', "provider[0].tpl"),  # a typo is refused, not ignored
        (block.replace("https://", "http://"), "provider[0].metadata_url"),
        (block + block, None),
        ("[[provider]\n", None),
    ):
        with pytest.raises(ConfigError) as caught:
            load_providers(text, "p.toml")
        assert caught.value.location is not None
        assert caught.value.location.field == field


def test_fixed_versions_cannot_grow_quadratically() -> None:
    """2,000 affected and 2,000 fixed products of one name: the fixed versions kept are bounded."""
    leaves = [
        {"category": "product_version", "name": f"1.{i}", "product": {"product_id": f"F{i}"}}
        for i in range(2000)
    ] + [
        {"category": "product_version_range", "name": "<9", "product": {"product_id": f"A{i}"}}
        for i in range(2000)
    ]
    doc = {
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "tracking": {"id": "BIG-1"},
        },
        "product_tree": {
            "branches": [
                {
                    "category": "vendor",
                    "name": "V",
                    "branches": [{"category": "product_name", "name": "P", "branches": leaves}],
                }
            ]
        },
        "vulnerabilities": [
            {
                "cve": "CVE-2024-0001",
                "product_status": {
                    "known_affected": [f"A{i}" for i in range(2000)],
                    "fixed": [f"F{i}" for i in range(2000)],
                },
                "remediations": [
                    {
                        "category": "vendor_fix",
                        "product_ids": [f"A{i}" for i in range(2000)]
                        + [f"F{i}" for i in range(2000)],
                    }
                ],
            }
        ],
    }
    started = time.perf_counter()
    advisory = one(dumps(doc))
    assert time.perf_counter() - started < 5
    [entry] = advisory.affected  # 2,000 identical entries, folded into one
    assert entry.fixed_versions == tuple(f"1.{i}" for i in range(32))


def test_registered_under_its_name() -> None:
    source = get_source("csaf")
    assert isinstance(source, CsafSource)
    assert source.description
