"""Advisory vendor and product names folded to inventory keys, and the collision guards
that keep name matching from reporting another vendor's product."""

from __future__ import annotations

import pytest

from tocsin.inventory.normalise import AliasTable, load_aliases
from tocsin.model.advisory import Advisory, AffectedProduct, VersionRange
from tocsin.model.inventory import Asset
from tocsin.watch.match.engine import match
from tocsin.watch.match.freetext import parse_affected_text
from tocsin.watch.match.names import (
    Kind,
    NameResolver,
    ProductName,
    is_distinctive,
    is_generic,
    product_variants,
    tokens,
    vendor_agreement,
)


@pytest.fixture(scope="module")
def aliases() -> AliasTable:
    return load_aliases()


@pytest.fixture
def resolver(aliases: AliasTable) -> NameResolver:
    return NameResolver(aliases)


def test_stated_vendor_and_product_go_through_the_alias_table(resolver: NameResolver) -> None:
    assert resolver.resolve("Fortinet Inc.", "FortiGate") == ProductName("fortinet", ("fortios",))
    name = resolver.resolve("Microsoft Corporation", "Microsoft Exchange Server")
    assert name is not None and name.vendor == "microsoft"
    assert name.products[0] == "exchange_server"
    # Releases keep their own key: Exchange Server 2016 and 2019 have their own builds.
    name = resolver.resolve("Microsoft Corporation", "Microsoft Exchange Server 2019")
    assert name is not None and name.products[0] == "exchange_server_2019"


def test_product_family_names_its_vendor_when_the_advisory_names_none(
    resolver: NameResolver,
) -> None:
    # CERT-FR: "FortiOS versions 7.2.x antérieures à 7.2.10", the vendor is implicit.
    name = resolver.resolve(None, "FortiOS")
    assert name == ProductName("fortinet", ("fortios",), vendor_stated=False)
    assert resolver.resolve(None, "FortiGate") == name


def test_a_leading_vendor_name_is_split_off(resolver: NameResolver) -> None:
    name = resolver.resolve(None, "Apache Tomcat")
    assert name is not None and (name.vendor, name.products[0]) == ("apache", "tomcat")
    assert not name.vendor_stated


def test_unknown_product_without_vendor_keeps_its_folded_name(resolver: NameResolver) -> None:
    assert resolver.resolve(None, "Perfusor Space") == ProductName(
        None, ("perfusor_space",), vendor_stated=False
    )


def test_vendor_remarks_in_parentheses_are_dropped(resolver: NameResolver) -> None:
    # ICSMA: "Becton, Dickinson and Company (BD)".
    assert resolver.vendor_key("Becton, Dickinson and Company (BD)") == "bd"


@pytest.mark.parametrize("vendor", ["*", "?"])
def test_wildcard_vendor_never_names_anything(resolver: NameResolver, vendor: str) -> None:
    assert resolver.resolve(vendor, "gateway") is None


@pytest.mark.parametrize("product", ["*", "-", "n/a", "", "   "])
def test_wildcard_or_empty_product_names_nothing(resolver: NameResolver, product: str) -> None:
    assert resolver.resolve("Citrix", product) is None


def test_placeholder_vendor_counts_as_no_vendor(resolver: NameResolver) -> None:
    name = resolver.resolve("n/a", "Perfusor Space")
    assert name is not None and name.vendor is None


@pytest.mark.parametrize(
    ("product", "variant"),
    [
        ("Windows Server 2019 (Server Core installation)", "Windows Server 2019"),
        ("Windows Server 2022, 23H2 Edition (Server Core installation)", "Windows Server 2022"),
        ("Windows 10 Version 1809", "Windows 10"),
        ("Windows Server 2008 R2 Service Pack 1", "Windows Server 2008 R2"),
        ("Red Hat OpenShift Container Platform 4.14", "Red Hat OpenShift Container Platform"),
    ],
)
def test_release_qualifiers_give_shorter_variants(product: str, variant: str) -> None:
    variants = product_variants(product)
    assert variants[0] == product
    assert variant in variants


def test_years_and_release_names_stay_part_of_the_product() -> None:
    assert product_variants("Windows Server 2019") == ("Windows Server 2019",)
    assert product_variants("Windows Server 2012 R2") == ("Windows Server 2012 R2",)


def test_server_core_entry_resolves_to_the_plain_release(resolver: NameResolver) -> None:
    name = resolver.resolve("Microsoft", "Windows Server 2019 (Server Core installation)")
    assert name is not None and "windows_server_2019" in name.products


@pytest.mark.parametrize(
    "key", ["server", "gateway", "server_2019", "web_server", "passerelle", "v2", "client_vpn"]
)
def test_generic_keys(key: str) -> None:
    assert is_generic(key)
    assert not is_distinctive(key)


@pytest.mark.parametrize("key", ["fortios", "perfusor_space", "pacs_viewer", "connect_secure"])
def test_distinctive_keys(key: str) -> None:
    assert not is_generic(key)
    assert is_distinctive(key)


def test_short_specific_names_are_not_generic_but_not_distinctive() -> None:
    # "ICS" may be Ivanti Connect Secure or industrial control systems: version needed.
    assert not is_generic("ics")
    assert not is_distinctive("ics")


def test_tokens() -> None:
    assert tokens("windows_server_2019") == ["windows", "server", "2019"]
    assert tokens("pan-os") == ["pan", "os"]


def test_vendor_agreement() -> None:
    assert vendor_agreement("citrix", "citrix") is True
    assert vendor_agreement("citrix", "ivanti") is False
    assert vendor_agreement(None, "ivanti") is None
    assert vendor_agreement("citrix", None) is None


def test_assets_are_indexed_under_their_key_and_their_base(resolver: NameResolver) -> None:
    forms = resolver.asset_forms("microsoft", "Windows 10 Version 22H2", "windows_10_version_22h2")
    by_label = {(f.label, f.kind): f.release for f in forms}
    assert by_label[("windows_10_version_22h2", Kind.EXACT)] is None
    assert by_label[("windows_10", Kind.BASE)] == "22h2"
    assert resolver.asset_forms(None, None, None) == ()


# --- collision guards, through the engine ------------------------------------------------


def item(asset_id: str, vendor: str | None, product: str, version: str = "1.0") -> Asset:
    return Asset(asset_id, asset_id, vendor=vendor, product=product, version=version)


def record(vendor: str, product: str, fixed: str = "99", introduced: str | None = None) -> Advisory:
    ranges = (VersionRange(introduced=introduced, fixed=fixed),)
    return Advisory("CVE-2024-1", "cve5", affected=(AffectedProduct(product, vendor, ranges),))


def avis(line: str) -> Advisory:
    entries = parse_affected_text(line, "fr")
    return Advisory(
        "CERTFR-2024-AVI-0001", "certfr", affected=tuple(e.to_affected() for e in entries)
    )


def hit(aliases: AliasTable, advisory: Advisory, *assets: Asset) -> list[str]:
    return [finding.asset for finding in match(list(assets), [advisory], aliases=aliases)]


def test_generic_product_name_without_vendor_matches_nothing(aliases: AliasTable) -> None:
    advisory = avis("Server versions antérieures à 2.0")
    assert hit(aliases, advisory, item("a", None, "Server"), item("b", "Acme", "Server")) == []


def test_same_product_name_from_another_vendor_does_not_match(aliases: AliasTable) -> None:
    citrix = record("Citrix", "Gateway", fixed="14.1")
    ivanti, citrix_gw = (
        item("ivanti-gw", "Ivanti", "Gateway"),
        item("citrix-gw", "Citrix", "Gateway"),
    )
    assert hit(aliases, citrix, ivanti) == []
    assert hit(aliases, citrix, ivanti, citrix_gw) == ["citrix-gw"]  # generic, but same vendor


def test_vendor_disagreement_wins_over_a_distinctive_name(aliases: AliasTable) -> None:
    assert (
        hit(aliases, record("Philips", "IntelliVue MX40"), item("m", "Mindray", "IntelliVue MX40"))
        == []
    )


def test_wildcard_vendor_name_never_matches(aliases: AliasTable) -> None:
    pump = item("pump", "B. Exemple Medical", "Perfusor Space")
    assert hit(aliases, record("*", "Perfusor Space"), pump) == []


def test_short_names_need_a_version_when_no_vendor_agrees(aliases: AliasTable) -> None:
    assert hit(aliases, avis("XYZ (voir le site de l'éditeur)"), item("x", None, "XYZ")) == []
    assert hit(aliases, avis("XYZ versions antérieures à 2.0"), item("x", None, "XYZ")) == ["x"]


def test_different_releases_do_not_meet_through_shortened_names(aliases: AliasTable) -> None:
    advisory = record("Microsoft", "Windows 10 Version 1809", "10.0.17763.4010", "10.0.0")
    v1507 = item("old", "Microsoft", "Windows 10 Version 1507", "10.0.10240.19747")
    plain = item("w10", "Microsoft", "Windows 10", "10.0.17763.100")
    assert hit(aliases, advisory, v1507, plain) == ["w10"]
