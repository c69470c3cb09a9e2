"""Free-text affected versions: golden cases from real advisories, properties, hostile input.

Golden file format (freetext_cases.json, next to this module)
-------------------------------------------------------------
``cases`` is a list of objects:

- ``source``: ``certfr`` (an ``affected_systems[].description`` of a CERT-FR avis, read with
  ``parse_affected_text(text, "fr")``), ``icsma-version`` (a CSAF ``product_version`` or
  ``product_version_range`` branch name, read with ``parse_product_version(product, text,
  "en")``), ``icsma-name`` (a CSAF full product name, ``parse_affected_text(text, "en")``)
  or ``crafted`` (a phrase written for a grammar rule);
- ``advisory``: the advisory the text was copied from (CERTFR-…, CERTA-…, ICSMA-…); the
  provenance test checks the text is really there when ../shared/data is present;
- ``lang``, ``text``, ``product`` (icsma-version only), ``note`` (optional, why);
- ``expect``: one object per product entry, in order: ``product``, ``ranges`` (each range
  lists only the VersionRange fields that differ from their defaults: introduced,
  introduced_exclusive, fixed, last_affected, exact, all_versions) and ``missing_patch``
  when true. An entry without ranges is name-only (``parsed`` is False).

To add a case, copy the line from the data, write what it *means* as ranges (not what the
parser prints), and cite the advisory. The golden file holds at least 80 real phrases.

Input is capped at ``MAX_INPUT_CHARS`` (2,000) characters; longer text is cut there and
flagged ``truncated``. The hostile-input tests check that parsing that much text completes
(well under a second here; the bound asserted is deliberately loose).
"""

from __future__ import annotations

import gzip
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import shared_data
from tocsin.model.advisory import VersionRange
from tocsin.watch.match.freetext import (
    CONFIDENCE_MISSING_PATCH,
    CONFIDENCE_NAME_ONLY,
    CONFIDENCE_RANGE,
    MAX_INPUT_CHARS,
    ParsedProducts,
    parse_affected_text,
    parse_product_version,
    series_of,
)
from tocsin.watch.match.versions import in_range

CASES_FILE = Path(__file__).with_name("freetext_cases.json")
CASES: list[dict[str, Any]] = json.loads(CASES_FILE.read_text(encoding="utf-8"))["cases"]
FIELDS = ("introduced", "introduced_exclusive", "fixed", "last_affected", "exact", "all_versions")


def _parse(case: dict[str, Any]) -> ParsedProducts:
    if case["source"] == "icsma-version":
        return parse_product_version(case["product"], case["text"], case["lang"])
    return parse_affected_text(case["text"], case["lang"])


def _as_dict(rng: VersionRange) -> dict[str, object]:
    return {name: getattr(rng, name) for name in FIELDS if getattr(rng, name) not in (None, False)}


def _case_id(case: dict[str, Any]) -> str:
    return f"{case.get('advisory', 'crafted')}:{case['text'][:50]}"


# --- golden cases ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_golden_case(case: dict[str, Any]) -> None:
    result = _parse(case)
    got = [
        {
            "product": entry.product,
            "ranges": [_as_dict(r) for r in entry.ranges],
            **({"missing_patch": True} if entry.missing_patch else {}),
        }
        for entry in result
    ]
    assert got == case["expect"]
    for entry, want in zip(result, case["expect"], strict=True):
        assert entry.parsed is bool(want["ranges"])


def test_golden_file_has_enough_real_phrases() -> None:
    real = [c for c in CASES if c["source"] != "crafted"]
    assert len(real) >= 80
    assert all(re.fullmatch(r"(CERTFR|CERTA|ICSMA)-[0-9A-Z-]+", c["advisory"]) for c in real)
    kinds = {c["source"] for c in real}
    assert kinds == {"certfr", "icsma-version", "icsma-name"}


def _shared(*parts: str) -> Path:
    return shared_data(*parts)


def test_golden_phrases_come_from_the_cited_advisories() -> None:
    """Each real phrase is in the advisory it cites (guards against typos and invention)."""
    certfr: dict[str, set[str]] = {}
    with gzip.open(_shared("watch", "certfr", "avis.jsonl.gz"), "rt", encoding="utf-8") as fh:
        for raw in fh:
            avis = json.loads(raw)
            lines = {s.get("description") or "" for s in avis.get("affected_systems") or []}
            certfr[avis["reference"]] = lines
    icsma: dict[str, str] = {}
    for path in _shared("watch", "csaf", "icsma").rglob("*.json"):
        doc = path.read_text(encoding="utf-8")
        icsma[json.loads(doc)["document"]["tracking"]["id"]] = doc
    for case in CASES:
        if case["source"] == "certfr":
            assert case["text"] in certfr[case["advisory"]], case["advisory"]
        elif case["source"].startswith("icsma"):
            assert json.dumps(case["text"])[1:-1] in icsma[case["advisory"]], case["advisory"]


# --- meaning of the ranges -------------------------------------------------------------------


def _contains(text: str, version: str) -> bool:
    result = parse_affected_text(text)
    return any(in_range(version, r) for entry in result for r in entry.ranges)


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("FortiOS versions 7.2.x antérieures à 7.2.10", ["7.2.0", "7.2.9"], ["7.2.10", "7.3.0"]),
        ("FortiOS versions 7.2.x", ["7.2", "7.2.15", "7.2.9b"], ["7.3.0-rc1", "7.20.1", "7.1.9"]),
        ("Produit 11.x and earlier", ["9.4", "11.0", "11.9.2"], ["12.0"]),
        ("Produit prior to 3.x", ["2.9.9"], ["3.0", "3.1"]),
        ("OS X Server versions antérieures à 2.2.5, 3.2.2 et 4.0", ["2.2.4", "3.1"], ["2.2.6"]),
        ("Stormshield versions postérieures à 4.4.x et antérieures à 4.6.11", ["4.5.0"], ["4.4.9"]),
    ],
)
def test_ranges_mean_what_the_phrase_says(text: str, inside: list[str], outside: list[str]) -> None:
    assert all(_contains(text, v) for v in inside)
    assert not any(_contains(text, v) for v in outside)


def test_series_is_introduced_plus_wildcard_last_affected() -> None:
    (entry,) = parse_affected_text("Cisco Secure Client versions 5.0.x toutes versions")
    (rng,) = entry.ranges
    assert (rng.introduced, rng.last_affected, rng.fixed) == ("5.0", "5.0.*", None)
    assert series_of(rng) == "5.0"
    assert series_of(VersionRange(introduced="5.0", fixed="5.1")) is None


# --- confidence, evidence, name-only ------------------------------------------------------------


def test_confidence_is_lower_for_missing_patch_and_name_only() -> None:
    (ranged,) = parse_affected_text("Nessus versions antérieures à 7.0.3")
    (patch,) = parse_affected_text("Juniper Junos Space sans le dernier correctif de sécurité")
    (name,) = parse_affected_text("Cisco Aironet 1000 Series")
    assert ranged.confidence == CONFIDENCE_RANGE
    assert patch.confidence == CONFIDENCE_MISSING_PATCH
    assert patch.ranges == (
        VersionRange(all_versions=True, text="sans le dernier correctif de sécurité"),
    )
    assert name.confidence == CONFIDENCE_NAME_ONLY
    assert not name.parsed and name.product == "Cisco Aironet 1000 Series"
    assert CONFIDENCE_NAME_ONLY < CONFIDENCE_MISSING_PATCH < CONFIDENCE_RANGE


def test_unreadable_wording_is_kept_as_a_name_only_entry() -> None:
    (entry,) = parse_affected_text("Fortify Assura: manufactured and distributed prior to April 1")
    assert entry.product == "Fortify Assura" and not entry.parsed
    assert entry.text.endswith("prior to April 1")


def test_evidence_keeps_the_phrase_and_qualifiers() -> None:
    text = "Google Chrome versions antérieures à 122.0.6261.128/.129 pour Windows et Mac"
    (entry,) = parse_affected_text(text)
    assert {r.text for r in entry.ranges} == {"versions antérieures à 122.0.6261.128/.129"}
    assert entry.qualifiers == ("pour Windows et Mac",)
    assert entry.text == text
    affected = entry.to_affected(vendor="Google")
    assert (affected.product, affected.vendor, affected.ranges) == (
        "Google Chrome",
        "Google",
        entry.ranges,
    )


# --- properties --------------------------------------------------------------------------------

_NUMBER = st.integers(min_value=0, max_value=99999).map(str)
_VERSION = st.builds(
    lambda parts, tail: ".".join(parts) + tail,
    st.lists(_NUMBER, min_size=1, max_size=5),
    st.sampled_from(["", "a", "b", "-1", "-P1", "R2", "-rc1", "+deb11u2"]),
)
_PRODUCT = st.lists(
    st.sampled_from(["Fortinet", "FortiOS", "Cisco", "IOS", "XE", "Alaris", "Server", "Pro"]),
    min_size=1,
    max_size=4,
).map(" ".join)


@given(_PRODUCT, _VERSION, st.sampled_from(["versions", "version", "toutes versions", ""]))
def test_versions_anterieures_a_x_is_fixed_x(product: str, version: str, marker: str) -> None:
    text = f"{product} {marker} antérieures à {version}".replace("  ", " ")
    (entry,) = parse_affected_text(text)
    assert entry.product == product
    assert [(r.introduced, r.fixed) for r in entry.ranges] == [(None, version)]


@given(_PRODUCT, _VERSION, st.sampled_from(["and prior", "et antérieures", "and earlier"]))
def test_x_and_prior_is_last_affected_x(product: str, version: str, suffix: str) -> None:
    (entry,) = parse_affected_text(f"{product} versions {version} {suffix}")
    assert [(r.last_affected, r.fixed) for r in entry.ranges] == [(version, None)]


@given(_PRODUCT, st.lists(_NUMBER, min_size=1, max_size=3).map(".".join), _VERSION)
def test_branch_before_fix(product: str, branch: str, fix: str) -> None:
    (entry,) = parse_affected_text(f"{product} versions {branch}.x antérieures à {fix}")
    assert [(r.introduced, r.fixed) for r in entry.ranges] == [(branch, fix)]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=MAX_INPUT_CHARS + 50))
def test_any_text_parses_without_error(text: str) -> None:
    result = parse_affected_text(text)
    product_side = parse_product_version("Produit", text, "en")
    for parsed in (result, product_side):
        assert parsed.truncated is (len(text) > MAX_INPUT_CHARS)
        assert len(parsed.text) <= MAX_INPUT_CHARS
        assert bool(parsed.entries) is bool(parsed.text)
        for entry in parsed:
            assert isinstance(entry.product, str)
            assert all(isinstance(r, VersionRange) for r in entry.ranges)


_WORDS = [
    "versions", "version", "antérieures", "à", "a", "et", "ou", "and", "or", "prior", "to",
    "through", "toutes", "all", "x", "(", ")", ":", ";", ",", "|", "<=", ">=", "<", ">", "=",
    "1.2", "7.2.x", "3", "10.0.1", "-", "inclus", "exclue", "entre", "between", "sans", "le",
    "dernier", "correctif", "pour", "systèmes", "x64", "SP1", "build", "Update", "16", "v2.1",
    "FortiOS", "Windows", "depuis", "from", "before", "and later", "et ultérieures", "*",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=400).map(" ".join))
def test_grammar_soup_parses_and_keeps_evidence(text: str) -> None:
    result = parse_affected_text(text)
    line = " ".join(result.text.split())
    for entry in result:
        for rng in entry.ranges:
            assert rng.text is not None
            assert rng.text in line or rng.text in entry.text


# --- hostile input ---------------------------------------------------------------------------

_HOSTILE = {
    "dots": "1." * 1000,
    "markers": "versions " * 223,
    "open parentheses": "(" * MAX_INPUT_CHARS,
    "nested groups": "(a " * 333 + ")" * 333,
    "bounds": "antérieures à " * 143,
    "version list": "1.1, " * 400,
    "pairs": "1.0 à 2.0 " * 200,
    "operators": ">= 1 | <= 2 | " * 143,
    "clauses": "Produit versions 7.2.x antérieures à 7.2.10, " * 45,
    "colons": "a: " * 666,
    "digits": "9" * MAX_INPUT_CHARS,
    "slashes": "1.2/" * 500,
    "patch phrases": "sans le dernier correctif " * 76,
    "suffixes": "1.0 build 2 " * 166,
    "include groups": "(includes 1.0 - 2.0) " * 95,
    "tags": "<b" * 1000,
}


@pytest.mark.parametrize("text", list(_HOSTILE.values()), ids=list(_HOSTILE))
def test_hostile_input_of_the_maximum_length_completes(text: str) -> None:
    start = time.perf_counter()
    parse_affected_text(text + " tail")  # one over the cap
    parse_product_version("Produit", text)
    assert time.perf_counter() - start < 10.0  # loose: it takes milliseconds


def test_input_over_the_cap_is_truncated() -> None:
    text = "Produit versions antérieures à 1.2 " + "x" * MAX_INPUT_CHARS
    result = parse_affected_text(text)
    assert result.truncated and len(result.text) <= MAX_INPUT_CHARS
    assert [r.fixed for e in result for r in e.ranges] == ["1.2"]
