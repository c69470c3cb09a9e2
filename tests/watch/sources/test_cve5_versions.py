"""CVE JSON 5 version semantics (tocsin.watch.sources.cve5_versions) on crafted records,
decided through the matching engine: which versions of a product a record says are
affected, with ``defaultStatus``, ``changes``, versions written as phrases, several entries
for one product, and bounds no version compares with."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tocsin.inventory.normalise import AliasTable, load_aliases
from tocsin.model.advisory import Advisory
from tocsin.model.finding import MatchKind
from tocsin.model.inventory import Asset
from tocsin.watch.match.engine import match
from tocsin.watch.sources.base import ParseReport
from tocsin.watch.sources.cve5 import Cve5Source


@pytest.fixture(scope="module")
def aliases() -> AliasTable:
    return load_aliases()


def record(*affected: dict[str, Any], adp: tuple[dict[str, Any], ...] = ()) -> Advisory:
    containers: dict[str, Any] = {
        "cna": {
            "providerMetadata": {"orgId": "00000000-0000-4000-8000-000000000000"},
            "descriptions": [{"lang": "en", "value": "A crafted record."}],
            "affected": list(affected),
        }
    }
    if adp:
        containers["adp"] = [{"providerMetadata": {"shortName": "CISA-ADP"}, "affected": list(adp)}]
    document = {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {"cveId": "CVE-2099-4242", "state": "PUBLISHED"},
        "containers": containers,
    }
    report = ParseReport("cve5")
    (parsed,) = Cve5Source().parse(json.dumps(document).encode(), "crafted.json", report)
    assert isinstance(parsed, Advisory)
    return parsed


def product(*versions: dict[str, Any], default: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"vendor": "Acme", "product": "Widget", "versions": list(versions)}
    if default is not None:
        entry["defaultStatus"] = default
    return entry


def affected_versions(aliases: AliasTable, advisory: Advisory, *versions: str) -> set[str]:
    """The versions the engine reports (name+version evidence) for an Acme Widget asset."""
    assets = [
        aliases.normalise(Asset(v, v, vendor="Acme", product="Widget", version=v)) for v in versions
    ]
    findings = match(assets, [advisory], aliases=aliases)
    return {f.asset for f in findings if f.match is MatchKind.NAME_VERSION}


def test_default_status_affected_stops_at_the_stated_fixes(aliases: AliasTable) -> None:
    """Branches with a fix each, affected by default: older branches are affected, the
    versions at or past a fix are not, nor a newer branch past every fix."""
    advisory = record(
        product(
            {
                "version": "3.1.0",
                "lessThan": "3.1.9",
                "status": "affected",
                "versionType": "semver",
            },
            {
                "version": "3.2.0",
                "lessThan": "3.2.4",
                "status": "affected",
                "versionType": "semver",
            },
            default="affected",
        )
    )
    found = affected_versions(
        aliases, advisory, "2.9.0", "3.1.8", "3.1.9", "3.2.3", "3.2.4", "3.3.0"
    )
    assert found == {"2.9.0", "3.1.8", "3.2.3"}


def test_default_status_with_an_inclusive_bound(aliases: AliasTable) -> None:
    advisory = record(
        product(
            {"version": "0", "lessThanOrEqual": "5.4.1", "status": "affected"}, default="affected"
        )
    )
    assert affected_versions(aliases, advisory, "5.4.1", "5.4.2") == {"5.4.1"}


def test_entries_of_one_product_are_read_together_for_the_default(aliases: AliasTable) -> None:
    """CISA's ADP writes one entry per branch, each "affected by default": 6.1.5 is past the
    6.1 fix even though the 6.2 entry alone would call it affected."""
    branch = lambda start, fix: {  # noqa: E731 - a table of branches
        "vendor": "acme",
        "product": "widget",
        "defaultStatus": "affected",
        "versions": [{"version": start, "lessThan": fix, "status": "affected"}],
    }
    advisory = record(adp=(branch("6.1.0", "6.1.4"), branch("6.2.0", "6.2.2")))
    assert affected_versions(aliases, advisory, "6.1.3", "6.1.5", "6.2.1", "6.2.2") == {
        "6.1.3",
        "6.2.1",
    }


def test_without_a_bounded_range_the_default_covers_every_other_version(
    aliases: AliasTable,
) -> None:
    advisory = record(
        product(
            {"version": "0", "lessThan": "2.0", "status": "unaffected"},
            {"version": "4.1.7", "lessThanOrEqual": "4.1.*", "status": "unaffected"},
            default="affected",
        )
    )
    assert affected_versions(aliases, advisory, "1.5", "3.0", "4.1.2", "4.1.8", "4.2.0") == {
        "3.0",
        "4.1.2",
        "4.2.0",
    }


def test_changes_alternate_the_status_within_a_range(aliases: AliasTable) -> None:
    advisory = record(
        product(
            {
                "version": "5.0",
                "lessThan": "5.0.9",
                "status": "affected",
                "changes": [
                    {"at": "5.0.6", "status": "affected"},  # listed first, sorted by ``at``
                    {"at": "5.0.3", "status": "unaffected"},
                ],
            }
        )
    )
    found = affected_versions(aliases, advisory, "5.0.1", "5.0.4", "5.0.7", "5.0.9")
    assert found == {"5.0.1", "5.0.7"}


@pytest.mark.parametrize(
    ("written", "status", "inside", "outside"),
    [
        ("< 3.0.0", "affected", "2.9.1", "3.0.0"),
        (">= 1.2.0, < 1.4.0", "affected", "1.3.5", "1.4.0"),
        ("All versions < V2.4 SP1", "affected", "2.3", "2.5"),
        ("2.0 and earlier", "affected", "2.0", "2.1"),
    ],
)
def test_a_version_written_as_a_phrase_is_a_range(
    aliases: AliasTable, written: str, status: str, inside: str, outside: str
) -> None:
    advisory = record(product({"version": written, "status": status}))
    assert affected_versions(aliases, advisory, inside, outside) == {inside}


def test_an_unaffected_phrase_is_a_range_not_a_version(aliases: AliasTable) -> None:
    advisory = record(
        product(
            {"version": "0", "lessThan": "*", "status": "affected"},
            {"version": "< 4.0.0", "status": "unaffected"},
        )
    )
    assert affected_versions(aliases, advisory, "3.9.9", "4.0.0") == {"4.0.0"}


def test_thresholds_of_both_statuses_are_steps(aliases: AliasTable) -> None:
    """ ">= X" affected and unaffected thresholds: each holds up to the next threshold of
    the other status."""
    advisory = record(
        product(
            {"version": ">= 7.0.0", "status": "affected"},
            {"version": ">= 7.2.5", "status": "unaffected"},
            {"version": ">= 7.3.0", "status": "affected"},
            {"version": ">= 7.3.2", "status": "unaffected"},
            {"version": "< 7.0.0", "status": "unaffected"},
        )
    )
    found = affected_versions(aliases, advisory, "6.9", "7.1.0", "7.2.5", "7.3.1", "7.3.2", "8.0")
    assert found == {"7.1.0", "7.3.1"}


def test_an_upper_bound_no_version_compares_with_cannot_decide(aliases: AliasTable) -> None:
    """Microsoft's "lessThan publication" (before the update published with the CVE): every
    later build would be affected if it were read as open; the match is name-only."""
    advisory = record(
        product({"version": "10.0.0", "lessThan": "publication", "status": "affected"}),
    )
    assets = [aliases.normalise(Asset("w", "w", vendor="Acme", product="Widget", version="10.0.5"))]
    (finding,) = match(assets, [advisory], aliases=aliases)
    assert finding.match is MatchKind.NAME_ONLY


def test_latest_as_an_upper_bound_is_open(aliases: AliasTable) -> None:
    advisory = record(
        product({"version": "2.0", "lessThanOrEqual": "latest", "status": "affected"}),
    )
    assert affected_versions(aliases, advisory, "1.9", "9.9") == {"9.9"}


def semver(version: str, status: str = "affected", **bounds: Any) -> dict[str, Any]:
    return {"version": version, "status": status, "versionType": "semver", **bounds}


def test_a_declared_scheme_that_cannot_read_the_bounds_falls_back_to_generic(
    aliases: AliasTable,
) -> None:
    """Juniper marks Junos releases "semver": "22.4R3-S3" is not semver (a glued suffix),
    and read as a semver pre-release it would come *before* 22.4. The range is compared as
    generic, which orders the service releases after their release."""
    advisory = record(
        product(
            semver("0", lessThan="21.4R3-S5"),
            semver("22.2", lessThan="22.2R3-S1"),
            semver("22.4", lessThan="22.4R3-S4"),
        )
    )
    found = affected_versions(
        aliases, advisory, "21.4R3-S4", "21.4R3-S5", "22.2R3", "22.3R1", "22.4R3-S3", "22.4R3-S4"
    )
    assert found == {"21.4R3-S4", "22.2R3", "22.4R3-S3"}


def test_patch_levels_glued_to_a_release_come_after_it(aliases: AliasTable) -> None:
    """Checkmk's "2.1.0p41" is the 41st patch of 2.1.0 (after it), under "semver"."""
    advisory = record(product(semver("2.1.0", lessThanOrEqual="2.1.0p4")))
    found = affected_versions(aliases, advisory, "2.0.0p39", "2.1.0", "2.1.0p3", "2.1.0p4")
    assert found == {"2.1.0", "2.1.0p3", "2.1.0p4"}
    assert affected_versions(aliases, advisory, "2.1.0p5", "2.2.0") == set()


def test_changes_in_a_scheme_that_cannot_read_them_are_cut_as_generic(
    aliases: AliasTable,
) -> None:
    advisory = record(
        product(
            semver(
                "21.4",
                lessThan="21.4*",
                changes=[{"at": "21.4R3-S5", "status": "unaffected"}],
            )
        )
    )
    found = affected_versions(aliases, advisory, "21.4R2", "21.4R3-S4", "21.4R3-S5", "21.4R3-S6")
    assert found == {"21.4R2", "21.4R3-S4"}


def test_a_real_semver_range_keeps_its_pre_releases(aliases: AliasTable) -> None:
    advisory = record(product(semver("1.0.0", lessThan="1.2.0")))
    found = affected_versions(aliases, advisory, "1.0.0-rc.1", "1.0.0", "1.2.0-beta.1", "1.2.0")
    assert found == {"1.0.0", "1.2.0-beta.1"}
