"""Free-text rules added for real advisory wording: "se référer au bulletin" clauses, bounds
on revision letters, and several bounds each closing its own branch."""

from __future__ import annotations

import pytest

from tocsin.model.advisory import VersionRange
from tocsin.watch.match.freetext import parse_affected_text, parse_product_version
from tocsin.watch.match.versions import in_range


@pytest.mark.parametrize(
    "line",
    [
        "Acme Gateway Pro, se référer au bulletin de sécurité de l'éditeur pour les versions "
        "vulnérables",
        "Acme Gateway Pro (voir le bulletin de l'éditeur)",
        "Acme Gateway Pro, voir l'avis de l'éditeur",
        "Acme Gateway Pro, see the vendor advisory for affected versions",
    ],
)
def test_where_to_find_the_versions_is_not_part_of_the_name(line: str) -> None:
    (entry,) = parse_affected_text(line, "fr")
    assert entry.product == "Acme Gateway Pro"
    assert entry.ranges == () and entry.qualifiers


def test_a_referral_after_the_versions_keeps_them() -> None:
    (entry,) = parse_affected_text(
        "Acme Gateway versions antérieures à 3.4. Se référer au bulletin de l'éditeur", "fr"
    )
    assert entry.product == "Acme Gateway"
    assert [r.fixed for r in entry.ranges] == ["3.4"]


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("<=K", ("J.01", "K.20"), ("L.00",)),
        ("<K", ("J.99",), ("K.00",)),
        (">=K", ("K.00", "L.02"), ("J.99",)),
    ],
)
def test_a_bound_on_a_revision_letter(
    text: str, inside: tuple[str, ...], outside: tuple[str, ...]
) -> None:
    (entry,) = parse_product_version("Acme Monitor", text, "en")
    (rng,) = entry.ranges
    assert all(in_range(v, rng) is True for v in inside)
    assert all(in_range(v, rng) is False for v in outside)


def test_a_letter_is_a_revision_only_right_after_an_operator() -> None:
    (entry,) = parse_product_version("Acme Monitor", "versions A and later", "en")
    assert entry.ranges == ()


def test_several_bounds_each_close_their_branch() -> None:
    (entry,) = parse_product_version(
        "Acme OS", "5.4.2 and below, 5.2.9 and below, 4.8.11 and below", "en"
    )
    ranges = entry.ranges

    def affected(version: str) -> bool:
        return any(in_range(version, rng) is True for rng in ranges)

    assert affected("5.4.1") and affected("5.2.9") and affected("4.8.3")
    assert not affected("5.2.10")  # past the 5.2 fix, below the 5.4 one
    assert not affected("4.8.12")
    assert VersionRange(last_affected="4.8.11", text=ranges[-1].text) in ranges
