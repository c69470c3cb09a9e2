"""The matching engine on hand-built assets and advisories: each kind of evidence, the
collision guards, exclusions, merging, and a performance smoke test."""

from __future__ import annotations

import random
import time
from dataclasses import FrozenInstanceError, asdict, fields, replace

import pytest

from tocsin.inventory.normalise import AliasTable, load_aliases
from tocsin.model.advisory import (
    Advisory,
    AffectedProduct,
    CpeConfiguration,
    CpeMatch,
    CpeNode,
    Exploitation,
    Severity,
    VersionRange,
    VersionScheme,
)
from tocsin.model.finding import Decision, Finding, MatchKind
from tocsin.model.inventory import Asset, Criticality, Exposure
from tocsin.watch.match.engine import Matcher, match
from tocsin.watch.match.freetext import parse_affected_text
from tocsin.watch.match.merge import merge_advisories

TAIL = ":*:*:*:*:*:*:*"
FORTIOS = f"cpe:2.3:o:fortinet:fortios:*{TAIL}"


@pytest.fixture(scope="module")
def aliases() -> AliasTable:
    return load_aliases()


def cpe_name(part: str, vendor: str, product: str, version: str = "*") -> str:
    return f"cpe:2.3:{part}:{vendor}:{product}:{version}{TAIL}"


def asset(
    asset_id: str,
    vendor: str | None,
    product: str,
    version: str | None,
    *,
    cpe: str | None = None,
    purl: str | None = None,
    criticality: Criticality = Criticality.MEDIUM,
    exposure: Exposure = Exposure.INTERNAL,
) -> Asset:
    return Asset(
        asset_id,
        asset_id,
        vendor=vendor,
        product=product,
        version=version,
        cpe=cpe,
        purl=purl,
        criticality=criticality,
        exposure=exposure,
    )


def fortigate(
    asset_id: str,
    version: str | None,
    cpe: str | None = None,
    criticality: Criticality = Criticality.MEDIUM,
    exposure: Exposure = Exposure.INTERNAL,
) -> Asset:
    return asset(
        asset_id,
        "Fortinet",
        "FortiGate",
        version,
        cpe=cpe,
        criticality=criticality,
        exposure=exposure,
    )


def certfr(
    advisory_id: str, *lines: str, cves: tuple[str, ...] = (), vendor: str | None = None
) -> Advisory:
    """A CERT-FR avis whose affected systems are free-text lines."""
    affected = tuple(
        AffectedProduct(product=e.product, vendor=vendor, ranges=e.ranges, text=line)
        for line in lines
        for e in parse_affected_text(line, "fr")
    )
    return Advisory(
        advisory_id, "certfr", title="Vulnérabilité", cves=cves, affected=affected, language="fr"
    )


def cve(
    cve_id: str,
    *affected: AffectedProduct,
    source: str = "cve5",
    exploitation: Exploitation | None = None,
    severities: tuple[Severity, ...] = (),
) -> Advisory:
    return Advisory(
        cve_id,
        source,
        cves=(cve_id,),
        affected=affected,
        exploitation=exploitation or Exploitation(),
        severities=severities,
    )


def below(fixed: str, introduced: str | None = None) -> VersionRange:
    return VersionRange(introduced=introduced, fixed=fixed, text=f"lessThan {fixed}")


FORTIOS_72 = AffectedProduct("FortiOS", "Fortinet", ranges=(below("7.2.10", "7.2.0"),))


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def nvd(cve_id: str, *nodes: CpeNode, operator: str = "OR") -> Advisory:
    """An NVD record with one configuration of ``nodes``."""
    config = CpeConfiguration(nodes=nodes, operator=operator)
    return Advisory(cve_id, "nvd", cves=(cve_id,), configurations=(config,))


def node(*matches: CpeMatch, negate: bool = False) -> CpeNode:
    return CpeNode(matches=matches, negate=negate)


FORTIOS_72_CPE = CpeMatch(FORTIOS, version_start_including="7.2.0", version_end_excluding="7.2.10")
PACS = cpe_name("a", "acme", "pacs_viewer")


# --- CPE ------------------------------------------------------------------------------------


def test_nvd_configuration_against_the_asset_cpe(aliases: AliasTable) -> None:
    fw = fortigate("fw", "7.2.5", cpe_name("o", "fortinet", "fortios", "7.2.5"))
    advisory = nvd("CVE-2024-1", node(FORTIOS_72_CPE))
    finding = only(match([fw], [advisory], aliases=aliases))
    assert (finding.match, finding.confidence, finding.fixed) == (MatchKind.CPE, 1.0, "7.2.10")
    assert (
        "cpe:2.3:o:fortinet:fortios" in finding.evidence
        and ">= 7.2.0, < 7.2.10" in finding.evidence
    )
    assert finding.advisory == "CVE-2024-1" and finding.cves == ("CVE-2024-1",)


@pytest.mark.parametrize(
    ("version", "asset_cpe", "kind", "confidence", "evidence"),
    [
        ("7.2.5", FORTIOS, MatchKind.CPE, 0.95, "inventory version 7.2.5"),
        ("7.2.5", None, MatchKind.NAME_VERSION, 0.9, "inventory name fortinet:fortios"),
        (None, FORTIOS, MatchKind.NAME_ONLY, 0.5, "version undecided"),
        ("7.2.10", cpe_name("o", "fortinet", "fortios", "7.2.10"), None, None, None),
    ],
    ids=["cpe-without-version", "no-cpe", "no-version", "not-affected"],
)
def test_nvd_configuration_with_less_than_a_full_cpe(
    aliases: AliasTable,
    version: str | None,
    asset_cpe: str | None,
    kind: MatchKind | None,
    confidence: float | None,
    evidence: str | None,
) -> None:
    findings = match(
        [fortigate("fw", version, asset_cpe)],
        [nvd("CVE-2024-1", node(FORTIOS_72_CPE))],
        aliases=aliases,
    )
    assert [(f.match, f.confidence) for f in findings] == ([(kind, confidence)] if kind else [])
    assert evidence is None or evidence in findings[0].evidence


def test_platform_and_is_satisfied_by_another_asset_of_the_establishment(
    aliases: AliasTable,
) -> None:
    viewer = asset(
        "pacs", "Acme", "PACS Viewer", "5.4.1", cpe=cpe_name("a", "acme", "pacs_viewer", "5.4.1")
    )
    windows = asset(
        "ws", "Microsoft", "Windows", "10", cpe=cpe_name("o", "microsoft", "windows", "10")
    )
    advisory = nvd(
        "CVE-2024-2",
        node(CpeMatch(PACS, version_end_excluding="5.5")),
        node(CpeMatch(cpe_name("o", "microsoft", "windows"), vulnerable=False)),
        operator="AND",
    )
    finding = only(match([viewer, windows], [advisory], aliases=aliases))
    assert finding.asset == "pacs" and finding.match is MatchKind.CPE
    assert "with cpe:2.3:o:microsoft:windows:10" in finding.evidence
    # Without the platform anywhere in the establishment, the AND does not hold.
    assert match([viewer], [advisory], aliases=aliases) == []


def test_negated_node_excludes_a_version(aliases: AliasTable) -> None:
    advisory = nvd(
        "CVE-2024-3",
        node(CpeMatch(PACS)),
        node(CpeMatch(cpe_name("a", "acme", "pacs_viewer", "5.4.1")), negate=True),
        operator="AND",
    )
    fixed = asset(
        "a", "Acme", "PACS Viewer", "5.4.1", cpe=cpe_name("a", "acme", "pacs_viewer", "5.4.1")
    )
    old = asset("b", "Acme", "PACS Viewer", "5.3", cpe=cpe_name("a", "acme", "pacs_viewer", "5.3"))
    assert [f.asset for f in match([fixed, old], [advisory], aliases=aliases)] == ["b"]


def test_wildcard_vendor_criteria_never_match(aliases: AliasTable) -> None:

    gateway = asset(
        "gw", "Citrix", "Gateway", "13.1", cpe=cpe_name("a", "citrix", "gateway", "13.1")
    )
    advisory = nvd("CVE-2024-4", node(CpeMatch(cpe_name("a", "*", "gateway"))))
    assert match([gateway], [advisory], aliases=aliases) == []


def test_cve5_adp_cpes_with_ranges_match_the_asset_cpe(aliases: AliasTable) -> None:
    fw = fortigate("fw", "7.2.5", cpe_name("o", "fortinet", "fortios", "7.2.5"))
    entry = AffectedProduct(
        "fortios",
        "fortinet",
        ranges=(below("7.2.10", "7.2.0"),),
        cpes=(FORTIOS,),
        provider="CISA-ADP",
    )
    finding = only(match([fw], [cve("CVE-2024-5", entry)], aliases=aliases))
    assert (finding.match, finding.confidence, finding.fixed) == (MatchKind.CPE, 1.0, "7.2.10")


# --- purl -----------------------------------------------------------------------------------


def test_purl_with_vers_range(aliases: AliasTable) -> None:
    entry = AffectedProduct(
        "django",
        purl="pkg:pypi/django",
        ranges=(VersionRange(introduced="4.2", fixed="4.2.8", scheme=VersionScheme.PYPI),),
    )
    app = asset("app", None, "Portail patient", "1.0", purl="pkg:pypi/Django@4.2.1")
    patched = asset("app2", None, "Portail RH", "1.0", purl="pkg:pypi/django@4.2.8")
    finding = only(match([app, patched], [cve("CVE-2024-6", entry)], aliases=aliases))
    assert (finding.asset, finding.match, finding.confidence) == ("app", MatchKind.PURL, 0.95)
    assert finding.fixed == "4.2.8"


# --- names and versions ---------------------------------------------------------------------


def test_name_and_version_with_vendor_agreement(aliases: AliasTable) -> None:
    fw = fortigate("fw", "7.2.5")
    finding = only(match([fw], [cve("CVE-2024-7", FORTIOS_72)], aliases=aliases))
    assert (finding.match, finding.confidence, finding.fixed) == (
        MatchKind.NAME_VERSION,
        0.9,
        "7.2.10",
    )
    assert "inventory version 7.2.5" in finding.evidence


def test_name_and_version_without_vendor_on_the_asset(aliases: AliasTable) -> None:
    entry = AffectedProduct("Perfusor Space", "B. Exemple Medical", ranges=(below("3.3"),))
    pump = asset("pump", None, "Perfusor Space", "3.2")
    finding = only(match([pump], [cve("CVE-2024-8", entry)], aliases=aliases))
    assert (finding.match, finding.confidence) == (MatchKind.NAME_VERSION, 0.85)


def test_fortigate_matched_by_certfr_fortios_free_text(aliases: AliasTable) -> None:
    avis = certfr(
        "CERTFR-2024-AVI-0001",
        "FortiOS versions 7.2.x antérieures à 7.2.10",
        "FortiOS versions 7.4.x antérieures à 7.4.5",
        cves=("CVE-2024-9",),
    )
    old = fortigate("fw-old", "7.2.8")
    done = fortigate("fw-done", "7.2.10")
    newer = asset("fw-new", "Fortinet", "FortiGate-VM", "7.4.5")
    branch = fortigate("fw-74", "7.4.1")
    findings = match([old, done, newer, branch], [avis], aliases=aliases)
    by_asset = {f.asset: f for f in findings}
    assert set(by_asset) == {"fw-old", "fw-74"}
    finding = by_asset["fw-old"]
    assert (finding.advisory, finding.cves) == ("CERTFR-2024-AVI-0001", ("CVE-2024-9",))
    assert finding.match is MatchKind.NAME_VERSION and finding.confidence == 0.9
    assert finding.evidence.startswith("FortiOS versions 7.2.x antérieures à 7.2.10")
    assert finding.fixed == "7.2.10"
    assert by_asset["fw-74"].fixed == "7.4.5"


def test_missing_patch_wording_lowers_the_confidence(aliases: AliasTable) -> None:
    avis = certfr(
        "CERTFR-2024-AVI-0002",
        "Microsoft Windows Server 2019 sans les derniers correctifs de sécurité",
    )
    server = asset("dpi", "Microsoft", "Windows Server 2019", "10.0.17763.4000")
    finding = only(match([server], [avis], aliases=aliases))
    assert finding.match is MatchKind.NAME_VERSION
    assert finding.confidence == pytest.approx(0.9 * 0.6)


def test_missing_asset_version_is_name_only(aliases: AliasTable) -> None:
    fw = fortigate("fw", None)
    finding = only(match([fw], [cve("CVE-2024-10", FORTIOS_72)], aliases=aliases))
    assert (finding.match, finding.confidence) == (MatchKind.NAME_ONLY, 0.45)
    assert "no inventory version" in finding.evidence


def test_unparseable_free_text_is_name_only_at_lower_confidence(aliases: AliasTable) -> None:
    avis = certfr("CERTFR-2024-AVI-0003", "Perfusor Space (se référer au bulletin de l'éditeur)")
    pump = asset("pump", None, "Perfusor Space", "3.2")
    finding = only(match([pump], [avis], aliases=aliases))
    assert (finding.match, finding.confidence) == (MatchKind.NAME_ONLY, 0.4)
    assert "name only" in finding.evidence


def test_version_not_affected_gives_no_finding(aliases: AliasTable) -> None:
    fw = fortigate("fw", "7.4.1")
    assert match([fw], [cve("CVE-2024-11", FORTIOS_72)], aliases=aliases) == []


def test_unaffected_entry_excludes_versions(aliases: AliasTable) -> None:
    kernel = [
        AffectedProduct("Linux", "Linux", ranges=(VersionRange(all_versions=True),)),
        AffectedProduct(
            "Linux",
            "Linux",
            ranges=(VersionRange(introduced="5.10.200", last_affected="5.10.*"),),
            affected=False,
        ),
    ]
    patched = asset("patched", "Linux", "Linux", "5.10.205")
    old = asset("old", "Linux", "Linux", "5.10.100")
    findings = match([patched, old], [cve("CVE-2024-12", *kernel)], aliases=aliases)
    assert [f.asset for f in findings] == ["old"]


# --- merging and enrichment -----------------------------------------------------------------


def test_same_cve_from_several_sources_is_one_finding_with_the_best_evidence(
    aliases: AliasTable,
) -> None:
    fw = fortigate(
        "fw",
        "7.2.5",
        cpe_name("o", "fortinet", "fortios", "7.2.5"),
        criticality=Criticality.VITAL,
        exposure=Exposure.INTERNET,
    )
    record = nvd("CVE-2024-17", node(FORTIOS_72_CPE))
    cve5 = cve("CVE-2024-17", FORTIOS_72)
    kev = cve(
        "CVE-2024-17",
        AffectedProduct("FortiOS", "Fortinet"),
        source="kev",
        exploitation=Exploitation(kev=True, kev_date_added="2024-02-01"),
    )
    finding = only(match([fw], [cve5, kev, record], aliases=aliases))
    assert finding.match is MatchKind.CPE and finding.confidence == 1.0
    assert finding.kev and finding.decision is Decision.ACT_NOW
    assert finding.source == "cve5+kev+nvd"
    assert "listed in CISA KEV since 2024-02-01" in finding.reasons


def test_a_version_statement_silences_a_name_only_source(aliases: AliasTable) -> None:
    fw = fortigate("fw", "7.4.1")
    cve5 = cve("CVE-2024-18", FORTIOS_72)
    kev = cve("CVE-2024-18", AffectedProduct("FortiOS", "Fortinet"), source="kev")
    assert match([fw], [kev], aliases=aliases)[0].match is MatchKind.NAME_ONLY
    assert match([fw], [cve5, kev], aliases=aliases) == []


def test_bulletin_and_cve_stay_two_findings_and_the_bulletin_borrows_signals(
    aliases: AliasTable,
) -> None:
    fw = fortigate("fw", "7.2.5", criticality=Criticality.VITAL)
    record = cve(
        "CVE-2024-19",
        FORTIOS_72,
        severities=(Severity("cvss_v3", 9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),),
    )
    avis = certfr(
        "CERTFR-2024-AVI-0006", "FortiOS versions 7.2.x antérieures à 7.2.10", cves=("CVE-2024-19",)
    )
    findings = match(
        [fw], [record, avis], aliases=aliases, enrichments={"CVE-2024-19": Exploitation(kev=True)}
    )
    assert {f.advisory for f in findings} == {"CVE-2024-19", "CERTFR-2024-AVI-0006"}
    bulletin = next(f for f in findings if f.advisory.startswith("CERTFR"))
    assert bulletin.kev and "CVSS 9.8" in bulletin.reasons


def test_epss_enrichment_reaches_the_finding(aliases: AliasTable) -> None:
    fw = fortigate("fw", "7.2.5")
    enrichments = {"CVE-2024-20": Exploitation(epss=0.94, epss_percentile=0.999)}
    finding = only(
        match([fw], [cve("CVE-2024-20", FORTIOS_72)], aliases=aliases, enrichments=enrichments)
    )
    assert finding.epss == 0.94 and "EPSS 0.94 (top 1%)" in finding.reasons


def test_osv_record_joins_its_cve(aliases: AliasTable) -> None:
    ghsa = Advisory("GHSA-xxxx-yyyy-zzzz", "osv", aliases=("CVE-2024-21",))
    merged = merge_advisories([cve("CVE-2024-21"), ghsa])
    assert [a.id for a in merged] == ["CVE-2024-21"]
    assert "GHSA-xxxx-yyyy-zzzz" in merged[0].aliases


def test_withdrawn_advisories_match_nothing(aliases: AliasTable) -> None:
    rejected = replace(cve("CVE-2024-22", FORTIOS_72), withdrawn=True)
    assert match([fortigate("fw", "7.2.5")], [rejected], aliases=aliases) == []


def test_identical_assets_are_matched_once_and_reported_each(aliases: AliasTable) -> None:
    assets = [asset(f"fw{i}", "Fortinet", "FortiGate", "7.2.5") for i in range(50)]
    matcher = Matcher(assets, aliases)
    assert matcher.profiles == 1
    assert len(matcher.findings([cve("CVE-2024-23", FORTIOS_72)])) == 50


def test_findings_come_most_urgent_first(aliases: AliasTable) -> None:
    low = fortigate("a-low", "7.2.5", criticality=Criticality.LOW)
    vital = fortigate(
        "z-vital",
        "7.2.5",
        criticality=Criticality.VITAL,
        exposure=Exposure.INTERNET,
    )
    kev = cve("CVE-2024-24", FORTIOS_72, exploitation=Exploitation(kev=True))
    findings = match([low, vital], [kev], aliases=aliases)
    assert [f.asset for f in findings] == ["z-vital", "a-low"]
    assert findings[0].decision.rank >= findings[1].decision.rank


def test_findings_are_ordinary_findings(aliases: AliasTable) -> None:
    """The engine sets a finding's fields at once (match/ranking.py, _make): the result
    must be the Finding the dataclass would make, field for field, equal, hashed and
    frozen alike."""
    fw = fortigate("fw", "7.2.5", exposure=Exposure.INTERNET)
    kev = cve("CVE-2024-25", FORTIOS_72, exploitation=Exploitation(kev=True, epss=0.5))
    (found,) = match([fw], [kev], aliases=aliases)
    names = [f.name for f in fields(Finding)]
    assert list(vars(found)) == names
    again = Finding(**{name: getattr(found, name) for name in names})
    assert found == again and hash(found) == hash(again) and repr(found) == repr(again)
    assert replace(found, score=1).score == 1 and asdict(found) == asdict(again)
    with pytest.raises(FrozenInstanceError):
        found.score = 0  # type: ignore[misc]


# --- scale ------------------------------------------------------------------------------------


def _synthetic(count: int, advisories: int, seed: int = 7) -> tuple[list[Asset], list[Advisory]]:
    rng = random.Random(seed)
    vendors = [f"vendor{v}" for v in range(300)]
    products = [(v, f"{v}_product{p}") for v in vendors for p in range(10)]
    assets = []
    for i in range(count):
        vendor, product = rng.choice(products)
        version = f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 30)}"
        assets.append(asset(f"a{i}", vendor, product, version))
    records = []
    for n in range(advisories):
        vendor, product = rng.choice(products)
        entry = AffectedProduct(product, vendor, ranges=(below(f"{rng.randint(1, 9)}.5", "1.0"),))
        records.append(cve(f"CVE-2099-{n:05d}", entry))
    return assets, records


@pytest.mark.timeout(120)
def test_ten_thousand_assets_against_five_thousand_advisories(aliases: AliasTable) -> None:
    """A smoke test, not a timed assertion: bench/ measures speed."""
    assets, records = _synthetic(10_000, 5_000)
    started = time.perf_counter()
    findings = match(assets, records, aliases=aliases)
    elapsed = time.perf_counter() - started
    assert findings and all(f.match is MatchKind.NAME_VERSION for f in findings)
    assert elapsed < 60  # generous: takes a few seconds


def test_a_platform_missing_from_the_inventory_does_not_silence_kev(aliases: AliasTable) -> None:
    viewer = asset(
        "pacs", "Acme", "PACS Viewer", "5.4.1", cpe=cpe_name("a", "acme", "pacs_viewer", "5.4.1")
    )
    record = nvd(
        "CVE-2024-25",
        node(CpeMatch(PACS, version_end_excluding="5.5")),
        node(CpeMatch(cpe_name("o", "microsoft", "windows"), vulnerable=False)),
        operator="AND",
    )
    kev = cve("CVE-2024-25", AffectedProduct("PACS Viewer", "Acme"), source="kev")
    finding = only(match([viewer], [record, kev], aliases=aliases))
    assert finding.match is MatchKind.NAME_ONLY  # the KEV name, not the NVD configuration
    patched = replace(viewer, version="5.5", cpe=cpe_name("a", "acme", "pacs_viewer", "5.5"))
    assert match([patched], [record, kev], aliases=aliases) == []  # the version rules it out


def test_the_collector_is_paused_while_matching_and_freeze_keeps_it_off_the_findings() -> None:
    import gc

    from tocsin.watch.match.engine import collector_paused

    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    try:
        with collector_paused():
            assert not gc.isenabled()
            kept = [[n] for n in range(1000)]  # tracked objects made while paused
        assert gc.isenabled() and gc.get_freeze_count() == frozen
        with collector_paused(freeze=True):
            kept += [[n] for n in range(1000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= frozen + 1000  # moved out of the collector's way
    finally:
        gc.unfreeze()
        if frozen:
            gc.freeze()  # as this process had it
    assert len(kept) == 2000
    gc.disable()
    try:
        with collector_paused(freeze=True):  # a caller that had it off keeps it off
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
