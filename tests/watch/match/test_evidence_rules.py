"""Evidence rules of the engine on crafted records: an entry's versions govern the CPE it
lists, the "missing patch" factor applies with versions too, and an exact version built
from a commit is its release."""

from __future__ import annotations

import pytest

from tocsin.inventory.normalise import AliasTable, load_aliases
from tocsin.model.advisory import Advisory, AffectedProduct, VersionRange
from tocsin.model.finding import MatchKind
from tocsin.model.inventory import Asset
from tocsin.watch.match.engine import match
from tocsin.watch.match.freetext import CONFIDENCE_MISSING_PATCH, parse_affected_text

TAIL = ":*:*:*:*:*:*:*"


@pytest.fixture(scope="module")
def aliases() -> AliasTable:
    return load_aliases()


def test_an_entry_s_versions_govern_the_version_in_its_cpe(aliases: AliasTable) -> None:
    """The CPE names the fixed build (as Microsoft's do) next to "lessThan" that build."""
    fixed = "4.2.1100"
    entry = AffectedProduct(
        "Widget Server",
        "Acme",
        (VersionRange(introduced="4.0", fixed=fixed, text=f"lessThan {fixed}"),),
        cpes=(f"cpe:2.3:a:acme:widget_server:{fixed}{TAIL}",),
    )
    advisory = Advisory("CVE-2099-2000", "cve5", cves=("CVE-2099-2000",), affected=(entry,))
    assets = [
        Asset(
            v,
            v,
            vendor="Acme",
            product="Widget Server",
            version=v,
            cpe=f"cpe:2.3:a:acme:widget_server:{v}{TAIL}",
        )
        for v in (fixed, "4.2.1000")
    ]
    found = {f.asset: f for f in match(assets, [advisory], aliases=aliases)}
    assert set(found) == {"4.2.1000"}
    assert found["4.2.1000"].match is MatchKind.CPE and found["4.2.1000"].fixed == fixed


def test_missing_patch_wording_lowers_the_confidence_with_a_version(
    aliases: AliasTable,
) -> None:
    line = "Acme Vault version 6.2 sans le dernier correctif de sécurité"
    affected = tuple(
        AffectedProduct(e.product, "Acme", e.ranges, text=line)
        for e in parse_affected_text(line, "fr")
    )
    advisory = Advisory("CERTFR-2099-AVI-0002", "certfr", affected=affected)
    assets = [Asset(v, v, vendor="Acme", product="Vault", version=v) for v in ("6.2.3", "6.3")]
    (finding,) = match(assets, [advisory], aliases=aliases)
    assert finding.asset == "6.2.3"
    assert finding.confidence == round(0.9 * CONFIDENCE_MISSING_PATCH, 3)


def test_an_exact_version_built_from_a_commit_is_its_release(aliases: AliasTable) -> None:
    entry = AffectedProduct(
        "Viewer", "Acme", (VersionRange(exact="2.7.1-3fa9c21", text="2.7.1-3fa9c21"),)
    )
    advisory = Advisory("ICSMA-99-001-01", "csaf", affected=(entry,))
    assets = [
        Asset(v, v, vendor="Acme", product="Viewer", version=v)
        for v in ("2.7.1", "2.7.1-3fa9c21", "2.7.1-0b0b0b0", "2.7.2")
    ]
    found = {f.asset for f in match(assets, [advisory], aliases=aliases)}
    # Another commit of 2.7.1 is another build: only the inventory without one is matched.
    assert found == {"2.7.1", "2.7.1-3fa9c21"}
