"""Domain helpers of the impersonation and links checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.phishing.checks.domains import (
    Kind,
    distance,
    fold,
    is_ip,
    lookalike,
    skeleton,
    split,
    under,
)

AMELI = frozenset({"ameli.fr", "assurance-maladie.fr"})
labels = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20)


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("ameli-remboursement.info", Kind.ADDED_WORDS),
        ("ameli.com", Kind.OTHER_TLD),
        ("amelli.fr", Kind.TYPO),
        ("\u0430meli.fr", Kind.HOMOGLYPH),  # Cyrillic a
        ("xn--meli-43d.fr", Kind.HOMOGLYPH),  # the same, as punycode
        ("ameli.fr.remboursement-secure.com", Kind.SUBDOMAIN),
        ("assurance-maladle.fr", Kind.TYPO),
    ],
)
def test_lookalikes_of_ameli(host: str, kind: Kind) -> None:
    found = lookalike(host, AMELI)
    assert found is not None and found.kind is kind


@pytest.mark.parametrize(
    "host", ["ameli.fr", "mail.ameli.fr", "example.com", "shagmail.com", "1.2.3.4", "", "fr"]
)
def test_not_lookalikes(host: str) -> None:
    assert lookalike(host, AMELI | {"gmail.com"}) is None


def test_own_domain_homoglyph_digit() -> None:
    found = lookalike("ch-exemp1e.fr", frozenset({"ch-exemple.fr"}))
    assert found is not None and found.kind is Kind.HOMOGLYPH


def test_short_labels_not_compared_for_typos() -> None:
    assert lookalike("lol.fr", frozenset({"lcl.fr"})) is None
    found = lookalike("dhl-express-livraison.net", frozenset({"dhl.com"}))
    assert found is not None and found.kind is Kind.ADDED_WORDS


def test_any_tld_brand_keeps_its_other_tlds() -> None:
    assert lookalike("paypal.de", frozenset({"paypal.com"}), any_tld=True) is None
    assert lookalike("paypal.de", frozenset({"paypal.com"})) is not None


def test_skeleton_and_fold() -> None:
    assert skeleton("PayPaI") == skeleton("paypal")
    assert skeleton("r\u0455\u0455") == "rss"
    assert fold("Caisse d\u2019\u00c9pargne") == "caisse d epargne"
    assert fold("M\U000e0101icro\u200bsoft") == "microsoft"  # variation selector, zero width


def test_split_and_under() -> None:
    assert split("login.ameli-rembourse.co.uk").registrable == "ameli-rembourse.co.uk"
    assert split("esante.gouv.fr").label == "esante"
    assert under("MAIL.Ameli.fr.", AMELI) == "ameli.fr"
    assert under("notameli.fr", AMELI) is None
    assert is_ip("192.168.0.1") and is_ip("[::1]") and is_ip("3232235777")
    assert not is_ip("example.com")


def test_distance_examples() -> None:
    assert distance("doctolib", "doctolbi") == 1  # transposition
    assert distance("doctolib", "doctolib") == 0
    assert distance("ameli", "amazonia", limit=2) == 3


@given(labels, labels)
def test_distance_is_symmetric_and_bounded(a: str, b: str) -> None:
    d = distance(a, b, limit=2)
    assert d == distance(b, a, limit=2)
    assert 0 <= d <= 3
    assert (d == 0) == (a == b)


@given(labels)
def test_one_edit_is_distance_one(a: str) -> None:
    assert distance(a, a + "x") == 1
    assert distance(a, "x" + a) == 1


@given(st.text(max_size=80))
def test_helpers_never_raise(text: str) -> None:
    skeleton(text)
    fold(text)
    split(text)
    is_ip(text)
    lookalike(text, AMELI)


@given(labels)
def test_a_target_never_imitates_itself(label: str) -> None:
    host = f"{label}.fr"
    assert lookalike(host, frozenset({host})) is None
    assert lookalike(f"www.{host}", frozenset({host})) is None
