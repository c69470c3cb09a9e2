"""Name matching through the engine, one general rule per test, on crafted names (not the
evaluation set's): editions, releases, spacing, model families and exclusions, product
lines kept apart, vendor spellings, and the guards that keep each rule from colliding."""

from __future__ import annotations

import pytest

from tocsin.inventory.normalise import AliasTable, load_aliases
from tocsin.model.advisory import Advisory, AffectedProduct, VersionRange
from tocsin.model.finding import Finding, MatchKind
from tocsin.model.inventory import Asset
from tocsin.watch.match.engine import match
from tocsin.watch.match.evidence import RELEASE_UNCONFIRMED
from tocsin.watch.match.freetext import parse_affected_text


@pytest.fixture(scope="module")
def aliases() -> AliasTable:
    return load_aliases()


def item(asset_id: str, vendor: str | None, product: str, version: str | None) -> Asset:
    return Asset(asset_id, asset_id, vendor=vendor, product=product, version=version)


def entry(vendor: str | None, product: str, *ranges: VersionRange) -> AffectedProduct:
    return AffectedProduct(product, vendor, ranges)


def below(fixed: str, introduced: str | None = None) -> VersionRange:
    return VersionRange(introduced=introduced, fixed=fixed, text=f"< {fixed}")


EVERY = VersionRange(all_versions=True, text="all versions")


def record(*affected: AffectedProduct) -> Advisory:
    return Advisory("CVE-2099-1000", "cve5", cves=("CVE-2099-1000",), affected=affected)


def avis(vendor: str | None, *lines: str) -> Advisory:
    affected = tuple(
        AffectedProduct(e.product, vendor, e.ranges, text=line)
        for line in lines
        for e in parse_affected_text(line, "fr")
    )
    return Advisory("CERTFR-2099-AVI-0001", "certfr", affected=affected, language="fr")


def found(aliases: AliasTable, advisory: Advisory, *assets: Asset) -> dict[str, Finding]:
    normalised = [aliases.normalise(a) for a in assets]
    return {f.asset: f for f in match(normalised, [advisory], aliases=aliases)}


# --- editions and releases -------------------------------------------------------------------


def test_editions_of_the_asset_meet_the_product(aliases: AliasTable) -> None:
    advisory = record(entry("Microsoft", "Windows Server 2016", below("10.0.14393.7000")))
    hits = found(
        aliases,
        advisory,
        item("ess", "Microsoft", "Windows Server 2016 Essentials", "10.0.14393.6000"),
        item("fr", "Microsoft Corporation", "Windows Server 2016 Datacenter", "10.0.14393.6000"),
        item("other", "Microsoft", "Windows Server 2019 Standard", "10.0.14393.6000"),
    )
    assert set(hits) == {"ess", "fr"}
    assert hits["ess"].match is MatchKind.NAME_VERSION and hits["ess"].confidence == 0.9


def test_releases_stated_on_both_sides_must_agree(aliases: AliasTable) -> None:
    advisory = record(
        entry(
            "Microsoft", "Windows 11 Version 24H2 for x64-based Systems", below("10.0.26100.900")
        ),
        entry("Microsoft", "Windows 11 Version 23H2", below("10.0.22631.900")),
    )
    hits = found(
        aliases,
        advisory,
        item("w24", "Microsoft", "Windows 11 Éducation 24H2", "10.0.26100.800"),
        item("w22", "Microsoft", "Windows 11 Pro 22H2", "10.0.22621.800"),
    )
    assert set(hits) == {"w24"}
    assert "24H2" in hits["w24"].evidence


def test_a_release_on_one_side_is_confirmed_by_the_build(aliases: AliasTable) -> None:
    """The asset names no release: its build shows which release line it is on."""
    advisory = record(
        entry("Microsoft", "Windows 11 Version 24H2", below("10.0.26100.900")),
        entry("Microsoft", "Windows 11 Version 25H2", below("10.0.26200.900")),
    )
    hits = found(
        aliases,
        advisory,
        item("on-24h2", "Microsoft", "Windows 11 Entreprise", "10.0.26100.800"),
        item("fixed-24h2", "Microsoft", "Windows 11 Entreprise", "10.0.26100.900"),
    )
    # 10.0.26100.900 is below the 25H2 fix, but it is a 24H2 build: not affected.
    assert set(hits) == {"on-24h2"}
    assert hits["on-24h2"].confidence == 0.9 and hits["on-24h2"].fixed == "10.0.26100.900"


def test_a_release_the_version_cannot_confirm_counts_less(aliases: AliasTable) -> None:
    advisory = record(entry("Acme", "Vault Server Version R7", below("9.0")))
    hits = found(aliases, advisory, item("v", "Acme", "Vault Server", "8.1"))
    assert hits["v"].match is MatchKind.NAME_VERSION
    assert hits["v"].confidence == round(0.9 * RELEASE_UNCONFIRMED, 3)


def test_cumulative_update_spelled_two_ways(aliases: AliasTable) -> None:
    advisory = avis(
        "Microsoft",
        "Microsoft Exchange Server 2016 Cumulative Update 23 versions antérieures à 15.01.2507.070",
        "Microsoft Exchange Server 2019 Cumulative Update 15 versions antérieures à 15.02.1748.050",
    )
    hits = found(
        aliases,
        advisory,
        item("cu23", "Microsoft", "Exchange Server 2016 CU23", "15.1.2507.60"),
        item("cu22", "Microsoft", "Exchange Server 2016 CU22", "15.1.2375.37"),
    )
    assert set(hits) == {"cu23"}


# --- spacing, product lines, generic words ---------------------------------------------------


def test_spacing_and_hyphens_do_not_make_another_name(aliases: AliasTable) -> None:
    advisory = record(entry("Acme", "VistaLink Gateway-Pro", below("3.0")))
    hits = found(
        aliases,
        advisory,
        item("spaced", "Acme", "Vista Link Gateway Pro", "2.1"),
        item("other-vendor", "Other", "VistaLink Gateway Pro", "2.1"),
    )
    assert set(hits) == {"spaced"}


def test_product_lines_with_their_own_fixes_stay_apart(aliases: AliasTable) -> None:
    advisory = avis(
        "Mozilla",
        "Firefox versions antérieures à 150.0",
        "Firefox ESR versions 128.x antérieures à 128.9",
    )
    hits = found(
        aliases,
        advisory,
        item("esr-fixed", "Mozilla", "Mozilla Firefox ESR", "128.9"),
        item("esr-old", "Mozilla", "Firefox ESR", "128.2"),
        item("rapid", "Mozilla", "Firefox", "149.0"),
    )
    assert set(hits) == {"esr-old", "rapid"}
    assert "ESR" in hits["esr-old"].evidence and "ESR" not in hits["rapid"].evidence


def test_a_generic_product_takes_its_vendor_name(aliases: AliasTable) -> None:
    """ "Appliance" from Acme is "Acme Appliance"; another vendor's is another product."""
    advisory = record(entry("Acme", "Appliance", below("5.0")))
    hits = found(
        aliases,
        advisory,
        item("written-out", "Acme", "Acme Appliance", "4.2"),
        item("short", "Acme Inc.", "Appliance", "4.2"),
        item("other", "Globex", "Appliance", "4.2"),
    )
    assert set(hits) == {"written-out", "short"}


# --- model families --------------------------------------------------------------------------


def test_a_listed_model_range_holds_the_asset_model(aliases: AliasTable) -> None:
    advisory = record(entry("Acme Medical", "Vista patient monitor VS200-VS900", EVERY))
    hits = found(
        aliases,
        advisory,
        item("in", "Acme Medical", "Vista VS450", "2.0"),
        item("below", "Acme Medical", "Vista VS40", "2.0"),
        item("no-model", "Acme Medical", "Vista", "2.0"),
        item("vendor", "Globex", "Vista VS450", "2.0"),
    )
    assert set(hits) == {"in"}


def test_a_list_of_models_and_glued_vendor_names(aliases: AliasTable) -> None:
    advisory = record(entry("Acme Medical", "T8/T9 ventilator", below("3.1")))
    hits = found(
        aliases,
        advisory,
        item("glued", "Acme Medical", "ACME-T8", "3.0"),
        item("other-model", "Acme Medical", "ACME-T7", "3.0"),
    )
    assert set(hits) == {"glued"}


def test_a_family_name_covers_its_models_except_the_excluded(aliases: AliasTable) -> None:
    advisory = record(entry("Acme Medical", "Aurora, not including Aurora 5 Lite", EVERY))
    hits = found(
        aliases,
        advisory,
        item("model", "Acme Medical", "Aurora X7", "1.0"),
        item("excluded", "Acme Medical", "Aurora 5 Lite", "1.0"),
        item("sibling", "Acme Medical", "Borealis X7", "1.0"),
    )
    assert set(hits) == {"model"}


def test_alternatives_in_one_name(aliases: AliasTable) -> None:
    advisory = record(entry("Acme Medical", "Scanner Aurora/Borealis", below("6.0")))
    hits = found(aliases, advisory, item("b", "Acme Medical", "Borealis 30", "5.0"))
    assert set(hits) == {"b"}


def test_a_family_name_without_versions_is_not_a_review_item_for_each_model(
    aliases: AliasTable,
) -> None:
    """ "Acme OS" named alone (no version) does not put every "Acme OS 10" up for review;
    versions that decide do report it."""
    nameless = record(entry("Acme", "Acme OS"))
    assert found(aliases, nameless, item("os10", "Acme", "Acme OS 10", "10.4")) == {}
    decided = record(entry("Acme", "Acme OS", below("10.5")))
    assert set(found(aliases, decided, item("os10", "Acme", "Acme OS 10", "10.4"))) == {"os10"}


def test_more_family_words_are_another_product(aliases: AliasTable) -> None:
    """ "Acme OS Media Player 10" is not "Acme OS 10"."""
    advisory = record(entry("Acme", "Acme OS Media Player 10", below("12.0")))
    assert found(aliases, advisory, item("os10", "Acme", "Acme OS 10", "10.4")) == {}


def test_a_described_product_meets_its_short_name(aliases: AliasTable) -> None:
    advisory = record(entry("Acme Medical", "Zeta-Scan Bone Density Analysis System", below("4.0")))
    hits = found(aliases, advisory, item("z", "Acme Medical", "Zeta-Scan", "3.2"))
    assert hits["z"].match is MatchKind.NAME_VERSION and hits["z"].confidence < 0.9


# --- vendors -------------------------------------------------------------------------------


def test_a_vendor_misspelt_by_one_letter_agrees_on_a_distinctive_name(
    aliases: AliasTable,
) -> None:
    advisory = record(entry("Globexx", "Orion Telemetry Hub", below("2.0")))
    hits = found(
        aliases,
        advisory,
        item("same", "Globex", "Orion Telemetry Hub", "1.0"),
        item("generic", "Globex", "Hub", "1.0"),
    )
    assert set(hits) == {"same"}
    assert hits["same"].confidence == 0.85  # as if one side named no vendor
    short = record(entry("Acmi", "Orion Telemetry Hub", below("2.0")))  # under six letters
    assert found(aliases, short, item("a", "Acme", "Orion Telemetry Hub", "1.0")) == {}


def test_brands_of_an_acquired_vendor_are_the_vendor(aliases: AliasTable) -> None:
    advisory = record(entry("Hillrom", "Welch Allyn Spot Vision Screener", below("3.0")))
    hits = found(
        aliases,
        advisory,
        item("brand", "Welch Allyn", "Spot Vision Screener", "2.0"),
        item("owner", "Baxter", "Welch Allyn Spot Vision Screener", "2.0"),
    )
    assert set(hits) == {"brand", "owner"}
