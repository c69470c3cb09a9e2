"""The pitfalls named in issue 3, one focused test each, on real records where the shared
data has one and on small crafted feed documents (parsed by the real sources) where it
has none (NVD configurations with a wildcard vendor or a '-' version).

- CPE false positives: wildcard vendors, '-' versions, a CPE that names the fixed build;
- name collisions across vendors, and generic words;
- version logic: not affected at or past the fix, nor on an unlisted branch, even when a
  record's ``defaultStatus`` says "affected";
- CERT-FR free-text versions in French, ICS medical "all versions";
- new CVEs that NVD has not analysed (no configurations, the CNA's own data only);
- name-only matches: lower confidence, never dropped, replaced by better data.

"Dismissed findings coming back" is a lifecycle concern (suppression rules that survive
re-runs and new versions of an advisory), not a matching one: it is tested with the
exposure lifecycle (tests/watch/test_lifecycle.py) and the watch service, not here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import pytest
from test_eval import CERTFR_FILE, CVE5_FILE, ICSMA_DIR, REVIEW_BELOW, needs_review, read_records

from conftest import shared_data
from tocsin.inventory.normalise import AliasTable, load_aliases
from tocsin.model.advisory import Advisory
from tocsin.model.finding import Finding, MatchKind
from tocsin.model.inventory import Asset
from tocsin.watch.match.engine import match
from tocsin.watch.sources import ParseReport, get_source

KEV_FILE = ("watch", "kev", "known_exploited_vulnerabilities.json")
RECORDS = {
    "certfr": {
        "CERTFR-2025-AVI-1084",  # Fortinet: "FortiOS versions 7.2.x antérieures à 7.2.12"
        "CERTFR-2025-AVI-0496",  # Fortinet: "FortiOS toutes versions 7.2.x"
        "CERTFR-2026-AVI-0117",  # GLPI: "postérieures ou égales à 0.71 et antérieures à 10.0.23"
        "CERTFR-2026-AVI-0090",  # XenServer: "sans le dernier correctif de sécurité"
        "CERTFR-2026-AVI-0181",  # Tomcat: 9.0.x, 10.1.x, 11.0.x branches
        "CERTA-2013-AVI-334",  # HTML only: "Apache Tomcat versions antérieures à 6.0.37"
        "CERTFR-2024-AVI-0435",  # Cisco: "se référer au bulletin de sécurité de l'éditeur"
    },
    "csaf": {
        "ICSMA-19-022-01",  # Dräger: "Infinity Delta: all versions"
        "ICSMA-24-163-01",  # MicroDicom "DICOM Viewer" <2024.2
    },
    "cve5": {
        "CVE-2011-0737",  # ADP cpe adobe:coldfusion:- with "<= 9.0.1"
        "CVE-2024-5274",  # ADP cpe google:chrome:- with "< 125.0.6422.112"
        "CVE-2024-38063",  # Microsoft CNA cpe names the fixed build
        "CVE-2023-5240",  # Devolutions product "Server"
        "CVE-2024-21762",  # FortiOS, CNA and ADP
        "CVE-2022-45862",  # FortiOS, CNA data only
        "CVE-2024-4577",  # PHP, defaultStatus "affected" next to "8.3.* before 8.3.8"
        "CVE-2024-39386",  # Adobe Bridge, defaultStatus "affected", "14.1.1 and earlier"
    },
}
TAIL = ":*:*:*:*:*:*:*"


@pytest.fixture(scope="module")
def aliases() -> AliasTable:
    return load_aliases()


@pytest.fixture(scope="module")
def records() -> dict[str, Advisory]:
    for part in (CERTFR_FILE, ICSMA_DIR, CVE5_FILE):
        shared_data(*part)
    advisories, reports = read_records(shared_data(), RECORDS)
    for report in reports:
        assert not report.skipped, [str(skip) for skip in report.skipped]
    found = {advisory.id: advisory for advisory in advisories}
    missing = set().union(*RECORDS.values()) - set(found)
    assert not missing, f"records absent from the shared data: {sorted(missing)}"
    return found


@pytest.fixture(scope="module")
def kev() -> dict[str, Advisory]:
    path = shared_data(*KEV_FILE)
    report = ParseReport("kev")
    parsed = get_source("kev").parse(path.read_bytes(), str(path), report)
    return {record.id: record for record in parsed if isinstance(record, Advisory)}


def asset(
    asset_id: str,
    vendor: str | None,
    product: str,
    version: str | None,
    cpe: str | None = None,
) -> Asset:
    name = " ".join(part for part in (vendor, product) if part)
    return Asset(asset_id, name, vendor=vendor, product=product, version=version, cpe=cpe)


def findings(
    aliases: AliasTable, advisories: Iterable[Advisory], *assets: Asset
) -> dict[str, list[Finding]]:
    """Each asset id with its findings (one per advisory id), in the engine's order."""
    normalised = [aliases.normalise(item) for item in assets]
    out: dict[str, list[Finding]] = {item.id: [] for item in assets}
    for found in match(normalised, list(advisories), aliases=aliases):
        out[found.asset].append(found)
    return out


def one(found: dict[str, list[Finding]], asset_id: str) -> Finding:
    assert len(found[asset_id]) == 1, f"{asset_id}: {found[asset_id]}"
    return found[asset_id][0]


def nvd_page(cve: str, criteria: Iterable[dict[str, object]]) -> bytes:
    """A one-CVE NVD API 2.0 page, in the shape the API returns."""
    matches = [
        {"vulnerable": True, "matchCriteriaId": f"ID-{i}", **c} for i, c in enumerate(criteria)
    ]
    item = {
        "cve": {
            "id": cve,
            "sourceIdentifier": "test@example.org",
            "published": "2025-01-01T00:00:00.000",
            "lastModified": "2025-01-01T00:00:00.000",
            "vulnStatus": "Analyzed",
            "descriptions": [{"lang": "en", "value": "A crafted record for a pitfall test."}],
            "configurations": [
                {"nodes": [{"operator": "OR", "negate": False, "cpeMatch": matches}]}
            ],
        }
    }
    page = {
        "resultsPerPage": 1,
        "startIndex": 0,
        "totalResults": 1,
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": "2025-01-01T00:00:00.000",
        "vulnerabilities": [item],
    }
    return json.dumps(page).encode()


def parse_one(kind: str, raw: bytes) -> Advisory:
    report = ParseReport(kind)
    parsed = [
        r for r in get_source(kind).parse(raw, f"crafted.{kind}", report) if isinstance(r, Advisory)
    ]
    assert not report.skipped and len(parsed) == 1, [str(s) for s in report.skipped]
    return parsed[0]


# --- CPE false positives -------------------------------------------------------------------


def test_wildcard_vendor_cpe_does_not_match_unrelated_products(aliases: AliasTable) -> None:
    """NVD criteria with a '*' vendor, and CVE 5 entries whose vendor is '*' or 'n/a' with a
    generic product, must not reach every product of that name."""
    advisory = parse_one(
        "nvd",
        nvd_page(
            "CVE-2099-0001",
            [{"criteria": f"cpe:2.3:a:*:gateway:*{TAIL}", "versionEndExcluding": "14.0"}],
        ),
    )
    cve5 = {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {"cveId": "CVE-2099-0002", "state": "PUBLISHED"},
        "containers": {
            "cna": {
                "providerMetadata": {"orgId": "00000000-0000-4000-8000-000000000000"},
                "descriptions": [{"lang": "en", "value": "A crafted record."}],
                "affected": [
                    {
                        "vendor": "*",
                        "product": "Gateway",
                        "versions": [{"version": "0", "lessThan": "14.0", "status": "affected"}],
                    },
                    {
                        "vendor": "n/a",
                        "product": "Gateway",
                        "versions": [{"version": "0", "lessThan": "14.0", "status": "affected"}],
                    },
                ],
            }
        },
    }
    record = parse_one("cve5", json.dumps(cve5).encode())
    found = findings(
        aliases,
        [advisory, record],
        asset("with-cpe", "Citrix", "Gateway", "13.1", cpe=f"cpe:2.3:a:citrix:gateway:13.1{TAIL}"),
        asset("by-name", "Ivanti", "Gateway", "9.1"),
    )
    assert found == {"with-cpe": [], "by-name": []}


def test_dash_version_in_an_adp_cpe_is_not_a_version(
    aliases: AliasTable, records: dict[str, Advisory]
) -> None:
    """CISA ADP writes 'cpe:2.3:a:adobe:coldfusion:-' next to its range: '-' says nothing
    about versions, the range decides."""
    found = findings(
        aliases,
        [records["CVE-2011-0737"], records["CVE-2024-5274"]],
        asset("cf-9", "Adobe", "ColdFusion", "9.0.1"),
        asset("cf-10", "Adobe", "ColdFusion", "10.0.23"),
        asset("chrome-old", "Google", "Chrome", "125.0.6422.76"),
        asset("chrome-fixed", "Google", "Chrome", "125.0.6422.112"),
    )
    assert one(found, "cf-9").match is not MatchKind.NAME_ONLY
    assert one(found, "chrome-old").match is not MatchKind.NAME_ONLY
    assert found["cf-10"] == [] and found["chrome-fixed"] == []


def test_dash_version_in_an_nvd_criterion_matches_only_not_applicable(
    aliases: AliasTable,
) -> None:
    """In NVD's CPE semantics '-' is "not applicable": it matches an asset whose CPE says
    '-', not one that runs version 2.0 (which may at most be listed for review)."""
    advisory = parse_one(
        "nvd", nvd_page("CVE-2099-0003", [{"criteria": f"cpe:2.3:o:acme:pump_os:-{TAIL}"}])
    )
    found = findings(
        aliases,
        [advisory],
        asset("na", "Acme", "Pump OS", None, cpe=f"cpe:2.3:o:acme:pump_os:-{TAIL}"),
        asset("v2", "Acme", "Pump OS", "2.0", cpe=f"cpe:2.3:o:acme:pump_os:2.0{TAIL}"),
    )
    assert one(found, "na").match is MatchKind.CPE
    assert all(needs_review(hit) for hit in found["v2"])


def test_a_cpe_naming_the_fixed_build_does_not_override_the_range(
    aliases: AliasTable, records: dict[str, Advisory]
) -> None:
    """Microsoft's CNA writes the fixed build in its CPE
    (windows_server_2019:10.0.17763.6293) and 'lessThan 10.0.17763.6293' in its range."""
    cpe = f"cpe:2.3:o:microsoft:windows_server_2019:10.0.17763.6293{TAIL}"
    older = f"cpe:2.3:o:microsoft:windows_server_2019:10.0.17763.6189{TAIL}"
    found = findings(
        aliases,
        [records["CVE-2024-38063"]],
        asset("fixed", "Microsoft", "Windows Server 2019", "10.0.17763.6293", cpe=cpe),
        asset("older", "Microsoft", "Windows Server 2019", "10.0.17763.6189", cpe=older),
    )
    assert found["fixed"] == []
    assert one(found, "older").fixed == "10.0.17763.6293"


# --- names ---------------------------------------------------------------------------------


def test_same_product_name_from_another_vendor_is_not_matched(
    aliases: AliasTable, records: dict[str, Advisory]
) -> None:
    """MicroDicom's 'DICOM Viewer' is not Santesoft's; Devolutions' 'Server' is not Windows
    Server, although both versions would fall in the stated ranges."""
    found = findings(
        aliases,
        [records["ICSMA-24-163-01"], records["CVE-2023-5240"]],
        asset("sante", "Santesoft", "Sante DICOM Viewer Pro", "14.0.4"),
        asset("microdicom", "MicroDicom", "DICOM Viewer", "2024.1"),
        asset("windows", "Microsoft", "Windows Server 2022", "10.0.20348.2227"),
        asset("devolutions", "Devolutions", "Devolutions Server", "2023.2.7.0"),
    )
    assert found["sante"] == [] and found["windows"] == []
    assert one(found, "microdicom").advisory == "ICSMA-24-163-01"
    assert one(found, "devolutions").advisory == "CVE-2023-5240"


# --- version logic -------------------------------------------------------------------------


def test_not_affected_at_or_past_the_fix_nor_on_an_unlisted_branch(
    aliases: AliasTable, records: dict[str, Advisory]
) -> None:
    found = findings(
        aliases,
        [records["CVE-2024-21762"], records["CERTFR-2026-AVI-0181"]],
        asset("fg-726", "Fortinet", "FortiGate", "7.2.6"),
        asset("fg-727", "Fortinet", "FortiGate", "7.2.7"),
        asset("fg-743", "Fortinet", "FortiGate", "7.4.3"),
        asset("tc-9", "Apache", "Tomcat", "9.0.114"),
        asset("tc-8", "Apache", "Tomcat", "8.5.100"),
    )
    assert one(found, "fg-726").match is not MatchKind.NAME_ONLY
    assert one(found, "tc-9").fixed == "9.0.115"
    assert found["fg-727"] == [] and found["fg-743"] == [] and found["tc-8"] == []


def test_default_status_affected_does_not_override_a_stated_fix(
    aliases: AliasTable, records: dict[str, Advisory]
) -> None:
    """PHP's CNA lists '8.3.* before 8.3.8' and Adobe's '<= 14.1.1' but both set
    defaultStatus 'affected': the versions at or past the stated fix are not affected."""
    found = findings(
        aliases,
        [records["CVE-2024-4577"], records["CVE-2024-39386"]],
        asset("php-fixed", "PHP Group", "PHP", "8.3.8"),
        asset("php-old", "PHP Group", "PHP", "8.3.7"),
        asset("bridge-fixed", "Adobe", "Bridge", "14.1.2"),
        asset("bridge-old", "Adobe", "Bridge", "14.1.1"),
    )
    assert one(found, "php-old").match is not MatchKind.NAME_ONLY
    assert one(found, "bridge-old").match is not MatchKind.NAME_ONLY
    assert found["php-fixed"] == [] and found["bridge-fixed"] == []


# --- free text: CERT-FR and ICS medical ----------------------------------------------------


def test_certfr_french_free_text_ranges_are_matched(
    aliases: AliasTable, records: dict[str, Advisory]
) -> None:
    ids = (
        "CERTFR-2025-AVI-1084",
        "CERTFR-2025-AVI-0496",
        "CERTFR-2026-AVI-0117",
        "CERTA-2013-AVI-334",
    )
    found = findings(
        aliases,
        [records[i] for i in ids],
        asset("fos-72", "Fortinet", "FortiOS", "7.2.11"),  # 7.2.x antérieures à 7.2.12
        asset("fos-fixed", "Fortinet", "FortiOS", "7.4.9"),  # 7.4.x antérieures à 7.4.9
        asset("glpi", "GLPI", "GLPI", "10.0.22"),  # ≥ 0.71 et antérieures à 10.0.23
        asset("glpi-old", "GLPI", "GLPI", "0.70"),  # below "postérieures ou égales à 0.71"
        asset("tomcat-6", "Apache", "Tomcat", "6.0.35"),  # HTML: antérieures à 6.0.37
    )
    by_advisory = {f.advisory: f for f in found["fos-72"]}
    assert set(by_advisory) == {"CERTFR-2025-AVI-1084", "CERTFR-2025-AVI-0496"}
    first = by_advisory["CERTFR-2025-AVI-1084"]
    assert first.match is MatchKind.NAME_VERSION and first.fixed == "7.2.12"
    assert "7.2.x antérieures à 7.2.12" in first.evidence
    assert "toutes versions 7.2.x" in by_advisory["CERTFR-2025-AVI-0496"].evidence
    assert [f.advisory for f in found["fos-fixed"]] == []
    assert one(found, "glpi").fixed == "10.0.23"
    assert found["glpi-old"] == []
    assert one(found, "tomcat-6").fixed == "6.0.37"


def test_certfr_missing_patch_wording_is_matched_at_lower_confidence(
    aliases: AliasTable, records: dict[str, Advisory]
) -> None:
    """'XenServer version 8.4 sans le dernier correctif de sécurité': reported, at the
    documented lower confidence (0.9 × 0.6), above the review threshold."""
    found = findings(
        aliases,
        [records["CERTFR-2026-AVI-0090"]],
        asset("xen-84", "Citrix", "XenServer", "8.4"),
        asset("xen-82", "Citrix", "XenServer", "8.2"),
    )
    hit = one(found, "xen-84")
    assert REVIEW_BELOW <= hit.confidence < 0.9
    assert found["xen-82"] == []


def test_icsma_all_versions_is_a_decided_version_statement(
    aliases: AliasTable, records: dict[str, Advisory]
) -> None:
    """'Infinity Delta: all versions' holds every version, even one the inventory lacks:
    a name+version finding at full name+version confidence, not a name-only guess."""
    found = findings(
        aliases,
        [records["ICSMA-19-022-01"]],
        asset("delta", "Dräger", "Infinity Delta", "VF10"),
        asset("delta-no-version", "Drager", "Infinity Delta", None),
        asset("m540", "Dräger", "Infinity Acute Care System M540", "VG6.1"),
    )
    for asset_id in ("delta", "delta-no-version"):
        hit = one(found, asset_id)
        assert hit.match is MatchKind.NAME_VERSION and hit.confidence >= 0.85
    assert found["m540"] == []


# --- new CVEs and name-only evidence -------------------------------------------------------


def test_new_cve_with_only_the_cna_data_is_matched(
    aliases: AliasTable, records: dict[str, Advisory]
) -> None:
    """CVE-2022-45862 has no NVD configuration and no CISA ADP data: the CNA's own ranges
    ('FortiOS 7.2.5 and below') are enough."""
    record = records["CVE-2022-45862"]
    assert record.configurations == ()
    assert {entry.provider for entry in record.affected} == {"cna"}
    found = findings(
        aliases,
        [record],
        asset("fg-725", "Fortinet", "FortiGate", "7.2.5"),
        asset("fg-726", "Fortinet", "FortiGate", "7.2.6"),
    )
    assert one(found, "fg-725").match is MatchKind.NAME_VERSION
    assert found["fg-726"] == []


def test_kev_names_only_so_its_match_is_name_only_and_kept(
    aliases: AliasTable, kev: dict[str, Advisory]
) -> None:
    """A KEV entry names the vendor and product without versions: reported, for review."""
    found = findings(
        aliases, [kev["CVE-2024-21762"]], asset("fg", "Fortinet", "FortiGate", "7.2.7")
    )
    hit = one(found, "fg")
    assert hit.match is MatchKind.NAME_ONLY and hit.kev
    assert 0 < hit.confidence <= REVIEW_BELOW


def test_certfr_line_without_versions_is_kept_as_name_only(
    aliases: AliasTable, records: dict[str, Advisory]
) -> None:
    """'Firepower Threat Defense (FTD), se référer au bulletin de sécurité de l'éditeur pour
    la liste des versions vulnérables': the version cannot be decided, the product is named;
    the line must be matched by name only, at a lower confidence, never dropped."""
    found = findings(
        aliases,
        [records["CERTFR-2024-AVI-0435"]],
        asset("ftd", "Cisco", "Firepower Threat Defense", "7.2.5"),
        asset("asa", "Cisco", "Adaptive Security Appliance", "9.18.4"),
    )
    for asset_id in ("ftd", "asa"):
        hit = one(found, asset_id)
        assert hit.match is MatchKind.NAME_ONLY
        assert 0 < hit.confidence <= REVIEW_BELOW


def test_better_data_replaces_name_only_evidence_without_duplicates(
    aliases: AliasTable, records: dict[str, Advisory], kev: dict[str, Advisory]
) -> None:
    """KEV and the CVE 5 record of the same CVE in one run: one finding per asset, with the
    CVE 5 ranges; the version the record says is fixed is no longer reported."""
    found = findings(
        aliases,
        [kev["CVE-2024-21762"], records["CVE-2024-21762"]],
        asset("fg-726", "Fortinet", "FortiGate", "7.2.6"),
        asset("fg-727", "Fortinet", "FortiGate", "7.2.7"),
    )
    hit = one(found, "fg-726")
    assert hit.match is not MatchKind.NAME_ONLY and hit.kev
    assert set(hit.source.split("+")) == {"cve5", "kev"}
    assert found["fg-727"] == []
