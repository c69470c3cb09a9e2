"""A prepared corpus: advisories read once, matched against any number of inventories with
the same findings as matching the advisories directly."""

from __future__ import annotations

import pytest

from tocsin.inventory.normalise import AliasTable, load_aliases
from tocsin.model.advisory import (
    Advisory,
    AffectedProduct,
    CpeConfiguration,
    CpeMatch,
    CpeNode,
    VersionRange,
)
from tocsin.model.inventory import Asset
from tocsin.watch.match.corpus import Corpus
from tocsin.watch.match.engine import Matcher, match

TAIL = ":*:*:*:*:*:*:*"


@pytest.fixture(scope="module")
def aliases() -> AliasTable:
    return load_aliases()


def widget(version: str, *, vendor: str = "Acme") -> Asset:
    return Asset(f"{vendor}-{version}", f"{vendor} {version}", vendor=vendor, product="Widget",
                 version=version)  # fmt: skip


def advisories() -> list[Advisory]:
    kernel_like = AffectedProduct(
        "Widget",
        "Acme",
        ranges=(VersionRange(all_versions=True, text="defaultStatus: affected"),),
    )
    fixed_series = AffectedProduct(
        "Widget",
        "Acme",
        ranges=(VersionRange(introduced="5.4.126", last_affected="5.4.*"),),
        affected=False,
    )
    nvd = CpeConfiguration(
        (
            CpeNode(
                matches=(
                    CpeMatch(
                        f"cpe:2.3:a:acme:widget:*{TAIL}",
                        version_start_including="6.0",
                        version_end_excluding="6.2",
                    ),
                )
            ),
        )
    )
    return [
        Advisory(
            "CVE-2099-0001",
            "cve5",
            "affected except a fixed series",
            affected=(kernel_like, fixed_series),
        ),  # fmt: skip
        Advisory("CVE-2099-0002", "nvd", "configuration", configurations=(nvd,)),
        Advisory(
            "CVE-2099-0003",
            "cve5",
            "another product",
            affected=(AffectedProduct("Gadget", "Acme"),),
        ),  # fmt: skip
        Advisory(
            "CVE-2099-0004",
            "cve5",
            "withdrawn",
            withdrawn=True,
            affected=(AffectedProduct("Widget", "Acme"),),
        ),  # fmt: skip
        Advisory(
            "CVE-2099-0002",
            "cve5",
            "the same CVE from CVE 5",
            affected=(
                AffectedProduct(
                    "Widget", "Acme", ranges=(VersionRange(introduced="6.1", fixed="6.1.4"),)
                ),
            ),
        ),  # fmt: skip
    ]


def test_a_prepared_corpus_finds_what_the_advisories_do(aliases: AliasTable) -> None:
    corpus = Corpus(advisories(), aliases)
    assert len(corpus) == 4 and corpus.read == 5  # CVE-2099-0002 merged
    for versions in (["5.4.125", "5.4.126", "5.10.1"], ["6.1.3", "6.1.5", "7.0"]):
        assets = [widget(v) for v in versions]
        direct = match(assets, advisories(), aliases=aliases)
        prepared = match(assets, corpus, aliases=aliases)
        assert prepared == direct
    found = {(f.asset, f.advisory) for f in match([widget("5.4.130")], corpus, aliases=aliases)}
    assert found == set()  # in the fixed series


def test_the_same_corpus_serves_several_inventories(aliases: AliasTable) -> None:
    corpus = Corpus(advisories(), aliases)
    first = Matcher([widget("6.1.3")], aliases).findings(corpus)
    second = Matcher([widget("5.10.1"), widget("6.1.5")], aliases).findings(corpus)
    assert {(f.asset, f.advisory) for f in first} == {
        ("Acme-6.1.3", "CVE-2099-0001"),
        ("Acme-6.1.3", "CVE-2099-0002"),
    }
    assert {(f.asset, f.advisory) for f in second} == {
        ("Acme-5.10.1", "CVE-2099-0001"),
        ("Acme-6.1.5", "CVE-2099-0001"),
        ("Acme-6.1.5", "CVE-2099-0002"),  # the NVD configuration (6.0 to 6.2)
    }


def test_only_advisories_stating_an_inventory_key_are_candidates(aliases: AliasTable) -> None:
    corpus = Corpus(advisories(), aliases)
    matcher = Matcher([widget("1.0", vendor="Other")], aliases)
    index = matcher.index
    chosen = corpus.candidates(index.by_product, index.by_cpe, index.by_own_cpe, index.by_purl)
    ids = {prepared.advisory.id for prepared, _ in chosen}
    assert "CVE-2099-0003" not in ids  # a Gadget: no inventory key
    assert "CVE-2099-0004" not in ids  # withdrawn: never matched


def test_a_corpus_read_with_another_alias_table_is_refused(aliases: AliasTable) -> None:
    corpus = Corpus(advisories(), load_aliases())
    if corpus.aliases is aliases:  # load_aliases may share one table
        pytest.skip("one alias table per process")
    with pytest.raises(ValueError, match="another alias table"):
        Matcher([widget("6.1.3")], aliases).findings(corpus)
