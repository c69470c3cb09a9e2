"""OSV advisories: hand-written documents in the OSV schema (fixtures/osv/README.md)."""

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
from tocsin.model.advisory import Advisory, AffectedProduct, Severity, VersionRange, VersionScheme
from tocsin.watch.sources.base import ParseReport, Record, sources
from tocsin.watch.sources.osv import GIT_RANGE, OsvSource

FIXTURES = Path(__file__).parent / "fixtures" / "osv"
KEV_SAMPLE = Path(__file__).parent / "fixtures" / "kev" / "catalogue.json"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse(raw: bytes, origin: str = "osv.json") -> tuple[list[Record], ParseReport]:
    report = ParseReport("osv")
    return list(OsvSource().parse(raw, origin, report)), report


def advisories(name: str) -> tuple[list[Advisory], ParseReport]:
    records, report = parse((FIXTURES / name).read_bytes(), name)
    assert all(isinstance(r, Advisory) for r in records)
    return [r for r in records if isinstance(r, Advisory)], report


def fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_registered_under_its_name() -> None:
    assert sources()["osv"] is OsvSource


def test_pypi_advisory() -> None:
    [adv], report = advisories("pypi-jinja2.json")
    assert report.skipped == [] and report.parsed == 1
    assert adv.id == "GHSA-h5c8-rqwp-cp95" and adv.source == "osv"
    assert adv.aliases == ("CVE-2024-22195",) and adv.cves == ("CVE-2024-22195",)
    assert adv.title.startswith("Jinja vulnerable to HTML attribute injection")
    assert adv.summary.startswith("The `xmlattr` filter in affected versions of Jinja")
    assert adv.published == datetime(2024, 1, 11, 15, 20, 48, tzinfo=UTC)
    assert adv.modified == datetime(2024, 1, 26, 18, 53, 34, tzinfo=UTC)
    assert adv.severities == (
        Severity("cvss_v3", vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N"),
        Severity("vendor", label="moderate"),
    )
    assert adv.cwes == ("CWE-79",)
    # The versions list is the expansion of the range: the range is kept, not the list.
    assert adv.affected == (
        AffectedProduct(
            product="jinja2",
            ranges=(
                VersionRange(
                    fixed="3.1.3", scheme=VersionScheme.PYPI, text="introduced 0, fixed 3.1.3"
                ),
            ),
            purl="pkg:pypi/jinja2",
            fixed_versions=("3.1.3",),
            text="PyPI: jinja2",
        ),
    )
    assert len(adv.references) == 3 and not adv.withdrawn


def test_npm_semver_and_last_affected() -> None:
    [adv], _ = advisories("npm-micromatch.json")
    micromatch, angular = adv.affected
    assert micromatch.purl == "pkg:npm/micromatch"
    assert micromatch.ranges == (
        VersionRange(fixed="4.0.8", scheme=VersionScheme.NPM, text="introduced 0, fixed 4.0.8"),
    )
    assert angular.purl == "pkg:npm/%40angular/core"
    assert angular.ranges == (
        VersionRange(
            introduced="17.0.0",
            last_affected="17.3.11",
            scheme=VersionScheme.NPM,
            text="introduced 17.0.0, last_affected 17.3.11",
        ),
    )
    assert angular.fixed_versions == ()


def test_maven_several_ranges_in_one_event_list() -> None:
    [adv], _ = advisories("maven-log4j.json")
    core, pax = adv.affected
    assert core.purl == "pkg:maven/org.apache.logging.log4j/log4j-core"
    assert [(r.introduced, r.fixed) for r in core.ranges] == [
        ("2.13.0", "2.15.0"),
        ("2.0-beta9", "2.3.1"),
        ("2.4", "2.12.2"),
    ]
    assert all(r.scheme is VersionScheme.MAVEN for r in core.ranges)
    assert [(r.introduced, r.fixed) for r in pax.ranges] == [
        ("1.8.0", "1.9.2"),
        ("1.10.0", "1.10.8"),
        ("1.11.0", "1.11.10"),
    ]
    assert Severity("vendor", label="critical") in adv.severities
    assert adv.cwes == ("CWE-20", "CWE-400", "CWE-502", "CWE-917")


def test_debian_advisory_with_upstream_cve() -> None:
    [adv], _ = advisories("debian-dsa.json")
    assert adv.id == "DSA-5022-1" and adv.aliases == () and adv.cves == ("CVE-2021-44228",)
    [package] = adv.affected
    assert package.purl == "pkg:deb/debian/apache-log4j2?arch=source"
    assert package.ranges == (
        VersionRange(
            fixed="2.15.0-1~deb11u1",
            scheme=VersionScheme.DEB,
            text="introduced 0, fixed 2.15.0-1~deb11u1",
        ),
    )


def test_git_ranges_are_counted_and_release_tags_used() -> None:
    [adv], report = advisories("git-only.json")
    assert [str(s) for s in report.skipped] == [
        f"git-only.json [affected[0].ranges[0]]: {GIT_RANGE}",
        f"git-only.json [affected[1].ranges[0]]: {GIT_RANGE}",
    ]
    [libxml2] = adv.affected  # the second entry names no package: commits only
    assert libxml2.ranges == (
        VersionRange(exact="v2.9.13", text="version v2.9.13"),
        VersionRange(exact="v2.9.14", text="version v2.9.14"),
    )
    assert libxml2.purl == "pkg:generic/libxml2" and libxml2.fixed_versions == ()


def test_a_list_of_advisories_and_a_withdrawn_one() -> None:
    (go, withdrawn), report = advisories("go-and-withdrawn-list.json")
    assert report.parsed == 2 and report.skipped == []
    assert go.aliases == ("CVE-2023-39325", "GHSA-4374-p667-p6c8")
    assert go.cves == ("CVE-2023-39325",)  # "related" is another flaw
    stdlib, net = go.affected
    assert [(r.introduced, r.fixed, r.scheme) for r in stdlib.ranges] == [
        (None, "1.20.10", VersionScheme.SEMVER),
        ("1.21.0-0", "1.21.3", VersionScheme.SEMVER),
    ]
    assert net.purl == "pkg:golang/golang.org/x/net"
    assert withdrawn.withdrawn
    assert withdrawn.affected[0].ranges == (
        VersionRange(all_versions=True, scheme=VersionScheme.SEMVER, text="introduced 0"),
    )


def test_malformed_parts_are_skipped_alone() -> None:
    data = fixture_json("maven-log4j.json")
    data["affected"][0]["ranges"][1]["type"] = "CALVER"
    data["affected"][1]["package"] = {"ecosystem": "Maven"}
    data["published"] = "soon"
    data["database_specific"] = {"severity": ["HIGH"]}
    [adv], report = parse(json.dumps(data).encode())
    assert isinstance(adv, Advisory)
    assert adv.published is None and len(adv.affected) == 1
    assert [(r.introduced, r.fixed) for r in adv.affected[0].ranges] == [
        ("2.13.0", "2.15.0"),
        ("2.4", "2.12.2"),
    ]
    assert [str(s) for s in report.skipped] == [
        "osv.json [database_specific.severity]: database_specific skipped: "
        "Input should be a valid string",
        "osv.json [affected[0].ranges[1].type]: range skipped: "
        "Input should be 'SEMVER', 'ECOSYSTEM' or 'GIT'",
        "osv.json [affected[1].package.name]: affected entry skipped: Field required",
        "osv.json [published]: timestamp skipped: "
        "Input should be a valid datetime or date, input is too short",
    ]


def test_record_without_id_and_not_json() -> None:
    data = fixture_json("pypi-jinja2.json")
    del data["id"]
    records, report = parse(json.dumps(data).encode())
    assert records == [] and report.reasons() == {"not an OSV advisory: Field required": 1}
    records, report = parse(b'{"id": "GHSA-1",', "cut.json")
    assert records == [] and report.skipped[0].location.line == 1
    records, report = parse(b'[{"id": "GHSA-1"}, 3]', "list.json")
    assert records == []
    assert [str(s) for s in report.skipped] == [
        "list.json [[0].modified]: advisory skipped: Field required",
        "list.json [[1]]: advisory skipped: Input should be a valid dictionary",
    ]


def test_other_feeds_are_refused() -> None:
    with pytest.raises(InputError, match="CISA KEV catalogue, not an OSV advisory"):
        parse(KEV_SAMPLE.read_bytes())


# --- properties ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=30,
)


def assert_only_records_or_skips(raw: bytes) -> None:
    report = ParseReport("osv")
    try:
        records = list(OsvSource().parse(raw, "fuzz", report))
    except InputError:
        return
    assert all(isinstance(r, Advisory) for r in records)
    assert len(records) == report.parsed


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


REAL = fixture_json("maven-log4j.json")
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
@given(st.lists(json_values, max_size=4), st.lists(json_values, max_size=4))
def test_fuzz_affected_and_ranges(affected: list[object], ranges: list[object]) -> None:
    data = fixture_json("maven-log4j.json")
    data["affected"] = [
        *affected,
        {"package": {"ecosystem": "PyPI", "name": "x"}, "ranges": ranges},
    ]
    assert_only_records_or_skips(json.dumps(data).encode())


versions = st.from_regex(r"[1-9][0-9]?(\.[0-9]{1,3}){0,2}", fullmatch=True)
spans = st.tuples(versions | st.just("0"), versions, st.sampled_from(["fixed", "last_affected"]))


@FUZZ
@given(st.lists(spans, min_size=1, max_size=5))
def test_round_trip_events(generated: list[tuple[str, str, str]]) -> None:
    """Ranges written as OSV events come back as the same bounds."""
    events: list[dict[str, str]] = []
    for start, end, kind in generated:
        events += [{"introduced": start}, {kind: end}]
    data = fixture_json("pypi-jinja2.json")
    data["affected"][0]["ranges"] = [{"type": "ECOSYSTEM", "events": events}]
    [adv], report = parse(json.dumps(data).encode())
    assert isinstance(adv, Advisory) and report.skipped == []
    got = [
        (r.introduced or "0", r.fixed or r.last_affected, "fixed" if r.fixed else "last_affected")
        for r in adv.affected[0].ranges
    ]
    assert got == list(dict.fromkeys(generated))
