"""Model numbers, families, alternatives and exclusions in product names
(tocsin.watch.match.models), on names written the way medical advisories write them."""

from __future__ import annotations

from tocsin.watch.match.models import (
    ModelSpec,
    alternatives,
    described_heads,
    family_of,
    split_exclusions,
)


def specs(name: str) -> tuple[tuple[str, int, int, str], ...]:
    family = family_of(name)
    assert family is not None
    return tuple((s.prefix, s.low, s.high, s.suffix) for s in family.models)


def test_a_range_of_models() -> None:
    family = family_of("Acme Vista monitor VS200-VS900")
    assert family is not None and family.words == ("acme", "vista")
    (spec,) = family.models
    assert spec == ModelSpec("vs", 200, 900, "")
    assert spec.holds("vs450") and spec.holds("vs900")
    assert not spec.holds("vs45") and not spec.holds("vs950") and not spec.holds("vx450")


def test_lists_of_models_with_commas_slashes_and_words() -> None:
    assert specs("Pumps P10, P20 and P30") == (
        ("p", 10, 10, ""),
        ("p", 20, 20, ""),
        ("p", 30, 30, ""),
    )
    assert specs("Syringe 310/320 pumps") == (("", 310, 310, ""), ("", 320, 320, ""))
    assert specs("Flow 50XL et 70XL models only") == (("", 50, 50, "xl"), ("", 70, 70, "xl"))
    assert specs("Scanner R1-4") == (("r", 1, 4, ""),)


def test_an_inventory_name_gives_one_model() -> None:
    family = family_of("Vista VS450")
    assert family is not None and family.model == "vs450" and family.words == ("vista",)
    # "ACME-T8": the vendor's name glued to the model is split off by the resolver.
    glued = family_of("ACME-T8")
    assert glued is not None and glued.words == ("acme",) and glued.model == "t8"


def test_kind_words_and_markers_are_not_family_words() -> None:
    for name in ("Ultrasound Aurora", "Aurora ultrasound system", "Aurora products"):
        family = family_of(name)
        assert family is not None and family.words == ("aurora",), name
    worn = family_of("Vista VS40 Patient Worn Monitor")
    assert worn is not None and worn.words == ("vista",)


def test_numbers_side_by_side_are_not_one_model() -> None:
    # "2016 R2": two numbers, no list between them: not a model family.
    assert family_of("Acme Server 2016 R2") is None


def test_releases_and_architectures_are_not_models() -> None:
    family = family_of("Acme Agent x64")
    assert family is not None and family.models == ()


def test_exclusions() -> None:
    assert split_exclusions("Aurora, not including Aurora 5 Lite") == (
        "Aurora",
        ("Aurora 5 Lite",),
    )
    assert split_exclusions("Gamme Vista sauf Vista Mini et Vista Nano") == (
        "Gamme Vista",
        ("Vista Mini", "Vista Nano"),
    )
    assert split_exclusions("Vista, excluding VS10") == ("Vista", ("VS10",))
    assert split_exclusions("Vista Pro") == ("Vista Pro", ())


def test_alternatives() -> None:
    assert alternatives("Imaging Aurora/Borealis") == ("Imaging Aurora", "Imaging Borealis")
    assert alternatives("Vista Monitor / Vista Central Station") == (
        "Vista Monitor",
        "Vista Central Station",
    )
    # Short parts and generic words are not product names: "TCP/IP", "Client/Server".
    assert alternatives("Acme TCP/IP stack") == ("Acme TCP/IP stack",)
    assert alternatives("Acme Client/Server") == ("Acme Client/Server",)


def test_described_heads() -> None:
    assert described_heads("zeta-scan bone density analysis system".split()) == [
        "zeta-scan bone",
        "zeta-scan",
    ]
    # A name ending in generic words is a product name, not a description.
    assert described_heads("acme enterprise management server".split()) == []
    assert described_heads("vista central station".split()) == []
    assert described_heads("vista vs40 patient monitor".split()) == []
