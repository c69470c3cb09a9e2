"""Version comparison per scheme: reference orderings, total-order properties, ranges."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tocsin.model.advisory import VersionRange, VersionScheme
from tocsin.watch.match.versions import (
    InvalidVersionError,
    RangeSet,
    clear_caches,
    compare,
    describe_range,
    in_range,
    is_valid,
    matches_prefix,
    parse_version,
    version_key,
    wildcard_prefix,
)

G, DEB, RPM, MAVEN, PYPI, NPM, SEMVER = (
    VersionScheme.GENERIC,
    VersionScheme.DEB,
    VersionScheme.RPM,
    VersionScheme.MAVEN,
    VersionScheme.PYPI,
    VersionScheme.NPM,
    VersionScheme.SEMVER,
)
PROPS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Reference orderings: each list is strictly increasing.
CHAINS: dict[VersionScheme, list[str]] = {
    G: [
        "0.9",
        "1.0-alpha",
        "1.0b2",
        "1.0-rc.1",
        "1.0-SNAPSHOT",
        "1.0",
        "1.0a",
        "1.0 SP1",
        "1.0.1",
        "2.8.123",
        "2.8.123e",
        "2.8.124",
        "7.2.5",
        "7.2.5 build 1517",
        "7.2.5p1",
        "7.2.10",
        "9.3",
        "9.3b",
        "10.0.14393.7159",
        "10.0.17763.1",
        "10.0.20348.2655",
        "10.0.20348.2700",
        "2012",
        "2012 R2",
    ],
    # semver.org, section 11.
    NPM: [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "2.0.0",
        "2.1.0",
        "2.1.1",
    ],
    # packaging's own test ordering (PEP 440).
    PYPI: [
        "1.0.dev456",
        "1.0a1",
        "1.0a2.dev456",
        "1.0a12.dev456",
        "1.0a12",
        "1.0b1.dev456",
        "1.0b2",
        "1.0b2.post345.dev456",
        "1.0b2.post345",
        "1.0rc1.dev456",
        "1.0rc1",
        "1.0",
        "1.0+abc.5",
        "1.0+abc.7",
        "1.0+5",
        "1.0.post456.dev34",
        "1.0.post456",
        "1.0.15",
        "1.1.dev1",
        "1!0.1",
    ],
    # Debian policy 5.6.12 (~~ < ~~a < ~ < "" < a) and dpkg's tests.
    DEB: [
        "1.0~~",
        "1.0~~a",
        "1.0~",
        "1.0",
        "1.0a",
        "1.0+b1",
        "1.0.0",
        "1.0.1~rc1",
        "1.0.1",
        "1.0.1-1~bpo11+1",
        "1.0.1-1",
        "1.0.1-1ubuntu3",
        "1.0.1-1ubuntu3.1",
        "1.0.1-2",
        "2.4",
        "2.30",
        "1:0.1",
        "2:0.0.1",
    ],
    # Maven's ComparableVersionTest ordering (with "release" an alias of "" as in 3.9).
    MAVEN: [
        "NotAVersionSting",
        "1.0a1-SNAPSHOT",
        "1.0-alpha1",
        "1.0beta1-SNAPSHOT",
        "1.0-b2",
        "1.0-beta3.SNAPSHOT",
        "1.0-beta3",
        "1.0-milestone1-SNAPSHOT",
        "1.0-m2",
        "1.0-rc1-SNAPSHOT",
        "1.0-cr1",
        "1.0-SNAPSHOT",
        "1.0",
        "1.0-sp",
        "1.0-a",
        "1.0-whatever",
        "1.0.z",
        "1.0.1",
        "1.0.1.0.0.0.0.0.0.0.0.0.0.0.1",
        "2.0.0-RC1",
        "2.0.0.Final",
        "2.14.1",
        "2.15.0",
    ],
}

# (a, b, expected sign of compare(a, b)).
PAIRS: dict[VersionScheme, list[tuple[str, str, int]]] = {
    G: [
        ("7.2", "7.2.0", 0),
        ("7.2.0.0", "7.2", 0),
        ("V7.2.1", "7.2.1", 0),
        ("v1.2", "1.2.0", 0),
        ("1.0-RC1", "1.0rc1", 0),
        ("1.1.1w", "1.1.1v", 1),
        ("1.1.1w", "1.1.2", -1),
        ("1.0.0-rc.1", "1.0.0", -1),
        ("1.0-SNAPSHOT", "1.0", -1),
        ("2.0a1", "2.0", -1),
        ("1.0.2k", "1.0.2", 1),
        ("8u202", "8u45", 1),
        ("6.0 SP2", "6.0 SP10", -1),
        ("2008 R2", "2008", 1),
        ("1:1.0", "2.0", 1),
        ("10.0.20348.2655", "10.0.20348.2582", 1),
        ("10.0.20348.2655", "10.0.22000.1", -1),
        ("7.2.5 build 1517", "7.2.5 Build 1600", -1),
        ("4.4.0-final", "4.4", 0),
        ("3.14", "3.9", 1),
    ],
    NPM: [
        ("1.0.0+build.1", "1.0.0", 0),
        ("v1.2.3", "1.2.3", 0),
        ("1.2", "1.2.0", 0),
        ("1.0.0-rc.1", "1.0.0-rc.1+build.5", 0),
        ("1.0.0-alpha.10", "1.0.0-alpha.9", 1),
        ("1.0.0-1", "1.0.0-alpha", -1),
    ],
    PYPI: [
        ("1.0", "1.0.0", 0),
        ("1.0-1", "1.0.post1", 0),
        ("1.0ALPHA1", "1.0a1", 0),
        ("1.0c1", "1.0rc1", 0),
        ("v2.0", "2.0", 0),
        ("2.0a1", "2.0", -1),
        ("1.0.post1", "1.0", 1),
        ("1.0.dev1", "1.0a1", -1),
    ],
    DEB: [
        ("1.0", "1.0-0", 0),
        ("0:1.0", "1.0", 0),
        ("1.00", "1.0", 0),
        ("1.0~rc1", "1.0", -1),
        ("1.0-1", "1.0+dfsg-1", -1),
        ("1.1.1n-0+deb11u5", "1.1.1n-0+deb11u4", 1),
        ("1.1.1w-0+deb11u1", "1.1.1n-0+deb11u5", 1),
        ("7.4.052-1ubuntu3", "7.4.052-1ubuntu3.1", -1),
        ("1:0.1", "2.0", 1),
        ("1.0a", "1.0A", 1),
    ],
    # rpm's own rpmvercmp.at table (a selection).
    RPM: [
        ("1.0", "1.0", 0),
        ("1.0", "2.0", -1),
        ("2.0.1", "2.0", 1),
        ("2.0.1a", "2.0.1", 1),
        ("5.5p1", "5.5p10", -1),
        ("5.5p10", "5.5p1", 1),
        ("10xyz", "10.1xyz", -1),
        ("xyz10", "xyz10.1", -1),
        ("xyz.4", "8", -1),
        ("xyz.4", "2", -1),
        ("5.5p2", "5.6p1", -1),
        ("6.0.rc1", "6.0", 1),
        ("10b2", "10a1", 1),
        ("1.0a", "1.0aa", -1),
        ("10.0001", "10.1", 0),
        ("10.0001", "10.0039", -1),
        ("4.999.9", "5.0", -1),
        ("20101121", "20101122", -1),
        ("2.0", "2_0", 0),
        ("+a", "_a", 0),
        ("1.0~rc1", "1.0", -1),
        ("1.0~rc1", "1.0~rc2", -1),
        ("1.0~rc1~git123", "1.0~rc1", -1),
        ("1.0^", "1.0", 1),
        ("1.0^git1", "1.0", 1),
        ("1.0^git1", "1.0^git2", -1),
        ("1.0^git1", "1.01", -1),
        ("1.0^20160101", "1.0.1", -1),
        ("1.0^20160102", "1.0^20160101^git1", 1),
        ("1.0~rc1^git1", "1.0~rc1", 1),
        ("1.0^git1~pre", "1.0^git1", -1),
        ("1:1.0-1", "2.0-1", 1),
        ("1.0-1.el8", "1.0-2.el8", -1),
        ("1.0", "1.0-1", -1),
    ],
    # The POM reference's examples.
    MAVEN: [
        ("1", "1.1", -1),
        ("1-snapshot", "1", -1),
        ("1", "1-sp", -1),
        ("1-foo2", "1-foo10", -1),
        ("1.foo", "1-foo", 0),
        ("1-foo", "1-1", -1),
        ("1-1", "1.1", -1),
        ("1.ga", "1", 0),
        ("1-ga", "1", 0),
        ("1-0", "1", 0),
        ("1.0", "1", 0),
        ("1-sp", "1-ga", 1),
        ("1-sp.1", "1-ga.1", 1),
        ("1-sp-1", "1-ga-1", -1),
        ("1-ga-1", "1-1", 0),
        ("1-a1", "1-alpha-1", 0),
        ("1.0-RC1", "1.0-cr1", 0),
        ("5.3.20.RELEASE", "5.3.20", 0),
        ("1.0.0-0.0.0", "1", 0),
    ],
}


def sign(n: int) -> int:
    return (n > 0) - (n < 0)


@pytest.mark.parametrize("scheme", list(CHAINS))
def test_reference_chain_is_increasing(scheme: VersionScheme) -> None:
    chain = CHAINS[scheme]
    for older, newer in zip(chain, chain[1:], strict=False):
        assert compare(older, newer, scheme) == -1, (older, newer)
        assert compare(newer, older, scheme) == 1, (newer, older)
    shuffled = chain[:]
    random.Random(3).shuffle(shuffled)
    assert sorted(shuffled, key=lambda v: parse_version(v, scheme)) == chain


@pytest.mark.parametrize(
    ("scheme", "a", "b", "expected"),
    [(scheme, a, b, e) for scheme, rows in PAIRS.items() for a, b, e in rows],
)
def test_reference_pairs(scheme: VersionScheme, a: str, b: str, expected: int) -> None:
    assert compare(a, b, scheme) == expected
    assert compare(b, a, scheme) == -expected


def test_semver_scheme_is_npm() -> None:
    assert compare("1.0.0-rc.1", "1.0.0", SEMVER) == -1


@pytest.mark.parametrize(
    ("scheme", "text"),
    [
        (G, ""),
        (G, "n/a"),
        (G, "unspecified"),
        (G, "*"),
        (G, "-"),
        (G, "1" * 200),
        (NPM, "1.2.3.4"),
        (NPM, "latest"),
        # A suffix glued to the numbers is not a semver pre-release (Junos, Checkmk).
        (SEMVER, "22.4R3-S3"),
        (SEMVER, "2.1.0p41"),
        (PYPI, "1.0-foo"),
        (PYPI, "dev"),
        (DEB, "abc"),
        (DEB, "1.0-r/1"),
        (DEB, "x:1.0"),
        (RPM, "*"),
        (RPM, "-"),
        (MAVEN, "  "),
    ],
)
def test_unreadable_versions_raise_invalid_version(scheme: VersionScheme, text: str) -> None:
    assert not is_valid(text, scheme)
    with pytest.raises(InvalidVersionError) as info:
        compare(text, "1.0", scheme)
    assert isinstance(info.value, ValueError)
    with pytest.raises(InvalidVersionError):
        parse_version(text, scheme)


def test_version_objects_compare_and_hash_by_precedence() -> None:
    a, b = parse_version("7.2"), parse_version("7.2.0")
    assert a == b and hash(a) == hash(b) and str(a) == "7.2"
    assert parse_version("7.2.1") > a >= b
    assert parse_version("1.0", PYPI) != parse_version("1.0", G)  # schemes never mix
    with pytest.raises(TypeError):
        assert parse_version("1.0", PYPI) < parse_version("1.0", G)


# --- properties ------------------------------------------------------------------------------

_word = st.sampled_from(
    ["a", "b", "c", "rc", "alpha", "beta", "dev", "pre", "sp", "p", "r", "build", "snapshot"]
    + ["ga", "final", "post", "e", "w", "x", "~", "^", "foo", "update", "m"]
)
_num = st.integers(0, 30).map(str)
_sep = st.sampled_from([".", ".", ".", "-", "_", "", "+", " ", "~", ":"])


@st.composite
def loose_versions(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(_num, _num, _word), min_size=1, max_size=7))
    text = ""
    for part in parts:
        text += (draw(_sep) if text else "") + part
    return text


@st.composite
def pep440_spellings(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(["", "v", "V"]))
    if draw(st.booleans()):
        text += f"{draw(st.integers(0, 2))}!"
    text += ".".join(str(n) for n in draw(st.lists(st.integers(0, 12), min_size=1, max_size=4)))
    if draw(st.booleans()):
        label = draw(st.sampled_from(["a", "alpha", "b", "beta", "c", "rc", "pre", "preview"]))
        text += draw(st.sampled_from(["", ".", "-", "_"])) + draw(
            st.sampled_from([label, label.upper()])
        )
        text += draw(st.sampled_from(["", "0", "1", "2", "10"]))
    if draw(st.booleans()):
        text += draw(st.sampled_from(["-1", "-3", ".post", ".post2", "post1", "-r4", "rev2"]))
    if draw(st.booleans()):
        text += draw(st.sampled_from([".dev", ".dev0", "dev3", "-dev1", "_DEV2"]))
    if draw(st.booleans()):
        text += "+" + draw(st.sampled_from(["abc", "abc.5", "5", "ubuntu-1", "1.a_b", "X9"]))
    if draw(st.integers(0, 9)) == 0:
        text += draw(st.sampled_from(["!", "..", "+", "-", "foo", "+-x"]))  # invalid tails
    return text


_deb_text = st.text(alphabet="0123456789abz.+~", min_size=0, max_size=6)


@st.composite
def deb_versions(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(["", "", "1:", "2:"])) + draw(st.sampled_from("0123456789"))
    text += draw(_deb_text)
    if draw(st.booleans()):
        text += "-" + draw(st.sampled_from("0123456789abz~")) + draw(_deb_text)
    return text


@st.composite
def rpm_versions(draw: st.DrawFn) -> str:
    alphabet = "0123456789aZz.~^_+"
    text = draw(st.sampled_from(["", "", "1:"])) + draw(st.sampled_from("0123456789az"))
    text += draw(st.text(alphabet=alphabet, max_size=6))
    if draw(st.booleans()):
        text += "-" + draw(st.text(alphabet=alphabet, min_size=1, max_size=5))
    return text


@st.composite
def semver_versions(draw: st.DrawFn) -> str:
    text = ".".join(str(draw(st.integers(0, 12))) for _ in range(draw(st.integers(1, 3))))
    if draw(st.booleans()):
        idents = st.one_of(st.integers(0, 11).map(str), st.sampled_from(["alpha", "beta", "rc"]))
        text += "-" + ".".join(draw(st.lists(idents, min_size=1, max_size=3)))
    if draw(st.integers(0, 3)) == 0:
        text += "+build." + str(draw(st.integers(0, 9)))
    return text


def _scheme_versions(scheme: VersionScheme) -> st.SearchStrategy[str]:
    if scheme is DEB:
        return deb_versions()
    if scheme is RPM:
        return rpm_versions()
    if scheme is NPM:
        return semver_versions()
    if scheme is PYPI:
        return pep440_spellings().filter(lambda v: is_valid(v, PYPI))
    return loose_versions().filter(lambda v: is_valid(v, scheme))


SCHEMES = [G, DEB, RPM, MAVEN, PYPI, NPM]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_compare_is_a_total_order(scheme: VersionScheme) -> None:
    @PROPS
    @given(
        _scheme_versions(scheme),
        _scheme_versions(scheme),
        _scheme_versions(scheme),
    )
    def check(a: str, b: str, c: str) -> None:
        assert compare(a, a, scheme) == 0
        ab, bc, ac = compare(a, b, scheme), compare(b, c, scheme), compare(a, c, scheme)
        assert compare(b, a, scheme) == -ab
        if ab <= 0 and bc <= 0:
            assert ac <= 0
        if ab == 0 and bc == 0:
            assert ac == 0

    check()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_sorting_agrees_with_compare(scheme: VersionScheme) -> None:
    @PROPS
    @given(st.lists(_scheme_versions(scheme), min_size=2, max_size=8))
    def check(versions: list[str]) -> None:
        ordered = sorted(versions, key=lambda v: version_key(v, scheme))
        for older, newer in zip(ordered, ordered[1:], strict=False):
            assert compare(older, newer, scheme) <= 0
        again = sorted(reversed(ordered), key=lambda v: version_key(v, scheme))
        assert [version_key(v, scheme) for v in again] == [version_key(v, scheme) for v in ordered]

    check()


@PROPS
@given(st.lists(st.integers(0, 99), min_size=1, max_size=5), st.integers(0, 3))
def test_trailing_zeros_are_equal(parts: list[int], zeros: int) -> None:
    text = ".".join(map(str, parts))
    assert compare(text, text + ".0" * zeros) == 0
    assert compare(text, text + ".0" * zeros + ".1") == -1


@PROPS
@given(st.lists(st.integers(0, 20_000), min_size=1, max_size=5))
def test_generic_dotted_numbers_compare_like_integer_tuples(parts: list[int]) -> None:
    other = parts[:-1] + [parts[-1] + 1]
    assert compare(".".join(map(str, parts)), ".".join(map(str, other))) == -1


# --- differential test against packaging (PEP 440 reference implementation) ------------------

try:  # packaging comes with pytest; the differential test is skipped without it
    from packaging import version as packaging_version
except ImportError:  # pragma: no cover
    packaging_version = None  # type: ignore[assignment]


@pytest.mark.skipif(packaging_version is None, reason="packaging is not installed")
@PROPS
@given(pep440_spellings(), pep440_spellings())
def test_pypi_agrees_with_packaging(a: str, b: str) -> None:
    def theirs(text: str) -> object | None:
        try:
            return packaging_version.Version(text)
        except packaging_version.InvalidVersion:
            return None

    va, vb = theirs(a), theirs(b)
    assert is_valid(a, PYPI) == (va is not None)
    assert is_valid(b, PYPI) == (vb is not None)
    assume(va is not None and vb is not None)
    expected = (va > vb) - (va < vb)  # type: ignore[operator]
    assert compare(a, b, PYPI) == expected


# --- prefixes and wildcards ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "prefix", "expected"),
    [
        ("7.2.5", "7.2", True),
        ("7.2.5", "7.2.x", True),
        ("7.2.5", "7.2.*", True),
        ("7.2", "7.2.x", True),
        ("7.2.10", "7.2.1", False),
        ("7.20.1", "7.2", False),
        ("4.0.3", "4.*", True),
        ("4.0.3", "4.x", True),
        ("5.0", "4.*", False),
        ("7.2.5p1", "7.2", True),
        ("anything", "*", True),
        ("n/a", "7.2", None),
    ],
)
def test_matches_prefix(version: str, prefix: str, expected: bool | None) -> None:
    assert matches_prefix(version, prefix) is expected


def test_wildcard_prefix() -> None:
    assert wildcard_prefix("7.2.x") == "7.2"
    assert wildcard_prefix("6.6.*") == "6.6"
    assert wildcard_prefix("*") == ""
    assert wildcard_prefix("7.2.5") is None
    assert wildcard_prefix("10x") is None


# --- ranges ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "rng", "expected"),
    [
        ("7.2.5", VersionRange(introduced="7.2.0", fixed="7.2.10"), True),
        ("7.2.10", VersionRange(introduced="7.2.0", fixed="7.2.10"), False),
        ("7.0.9", VersionRange(introduced="7.2.0", fixed="7.2.10"), False),
        ("7.2.0", VersionRange(introduced="7.2.0", introduced_exclusive=True), False),
        ("7.2.0.1", VersionRange(introduced="7.2.0", introduced_exclusive=True), True),
        ("3.14", VersionRange(last_affected="3.14"), True),
        ("3.14.0", VersionRange(last_affected="3.14"), True),
        ("3.14.1", VersionRange(last_affected="3.14"), False),
        ("6.6.30", VersionRange(introduced="6.6", last_affected="6.6.*"), True),
        ("6.7", VersionRange(introduced="6.6", last_affected="6.6.*"), False),
        ("7.2.9", VersionRange(fixed="7.3.*"), True),
        ("7.3.0", VersionRange(fixed="7.3.*"), False),
        ("1.2.3", VersionRange(introduced="0", fixed="1.3"), True),
        ("1.2.3", VersionRange(introduced="1.0", fixed="*"), True),
        ("4.2.1", VersionRange(exact="4.2.1"), True),
        ("4.2.1.0", VersionRange(exact="4.2.1"), True),
        ("4.2.2", VersionRange(exact="4.2.1"), False),
        ("7.2.7", VersionRange(exact="7.2.x"), True),
        ("7.3.7", VersionRange(exact="7.2.x"), False),
        ("10.0.20348.2655", VersionRange(fixed="10.0.20348.2700"), True),
        ("10.0.20348.2700", VersionRange(fixed="10.0.20348.2700"), False),
        ("1.0.0-rc.1", VersionRange(fixed="1.0.0", scheme=NPM), True),
        ("2.0a1", VersionRange(fixed="2.0", scheme=PYPI), True),
        ("1:1.0-1", VersionRange(fixed="2.0-1", scheme=DEB), False),
        ("1.0~rc1-1", VersionRange(fixed="1.0-1", scheme=DEB), True),
        ("2.14.1", VersionRange(introduced="2.0-beta9", fixed="2.15.0", scheme=MAVEN), True),
        # A CNA's "semver" that is not: retried as generic rather than lost.
        ("10.0.20348.2655", VersionRange(fixed="10.0.20348.2700", scheme=SEMVER), True),
        ("22.4R3-S3", VersionRange(introduced="22.4", fixed="22.4R3-S4", scheme=SEMVER), True),
        ("2.1.0p41", VersionRange(introduced="2.1.0", fixed="2.1.0p42", scheme=SEMVER), True),
        ("2.1.0p42", VersionRange(introduced="2.1.0", fixed="2.1.0p42", scheme=SEMVER), False),
        # No version, or one nobody can read: unknown, never an exception.
        (None, VersionRange(fixed="1.0"), None),
        ("unspecified", VersionRange(fixed="1.0"), None),
        ("1.0", VersionRange(fixed="n/a"), None),
        ("", VersionRange(introduced="1.0"), None),
        # Everything: all_versions, or no bound at all.
        (None, VersionRange(all_versions=True), True),
        ("whatever", VersionRange(all_versions=True), True),
        ("1.0", VersionRange(), True),
    ],
)
def test_in_range(version: str | None, rng: VersionRange, expected: bool | None) -> None:
    assert in_range(version, rng) is expected


@PROPS
@given(loose_versions(), loose_versions(), loose_versions())
def test_in_range_never_raises(version: str, low: str, high: str) -> None:
    for scheme in VersionScheme:
        for rng in (
            VersionRange(introduced=low, fixed=high, scheme=scheme),
            VersionRange(introduced=low, introduced_exclusive=True, last_affected=high),
            VersionRange(exact=low, scheme=scheme),
        ):
            assert in_range(version, rng) in (True, False, None)


@PROPS
@given(
    st.lists(st.integers(0, 30), min_size=1, max_size=4),
    st.lists(st.integers(0, 30), min_size=1, max_size=4),
    st.lists(st.integers(0, 30), min_size=1, max_size=4),
)
def test_in_range_agrees_with_compare(v: list[int], lo: list[int], hi: list[int]) -> None:
    version, low, high = (".".join(map(str, x)) for x in (v, lo, hi))
    expected = compare(low, version) <= 0 and compare(version, high) < 0
    assert in_range(version, VersionRange(introduced=low, fixed=high)) is expected


def test_describe_range() -> None:
    assert describe_range(VersionRange(introduced="7.2.0", fixed="7.2.10")) == ">= 7.2.0, < 7.2.10"
    assert describe_range(VersionRange(introduced="1", introduced_exclusive=True)) == "> 1"
    assert describe_range(VersionRange(last_affected="3.14")) == "<= 3.14"
    assert describe_range(VersionRange(exact="4.2")) == "= 4.2"
    assert describe_range(VersionRange(all_versions=True)) == "all versions"
    assert describe_range(VersionRange(introduced="0")) == "all versions"


def test_results_survive_clearing_the_caches() -> None:
    rng = VersionRange(introduced="7.2.0", fixed="7.2.10")
    assert in_range("7.2.5", rng) is True
    clear_caches()
    assert in_range("7.2.5", rng) is True
    assert compare("1.0~rc1", "1.0", DEB) == -1


@pytest.mark.parametrize(
    "ranges",
    [
        (VersionRange(fixed="1.0"), VersionRange(exact="1.4.2.0-9d9eff4")),
        (VersionRange(introduced="22.4", fixed="22.4R3-S4", scheme=SEMVER),),
        (VersionRange(exact="7.2.x"), VersionRange(last_affected="6.6.*", scheme=NPM)),
        (VersionRange(fixed="n/a"), VersionRange(all_versions=True)),
        (VersionRange(introduced="2.0-beta9", fixed="2.15.0", scheme=MAVEN),),
    ],
)
def test_a_compiled_range_set_decides_as_in_range(ranges: tuple[VersionRange, ...]) -> None:
    """RangeSet (compiled once per corpus) answers as in_range, range by range."""
    compiled = RangeSet.of(ranges)
    for version in (
        None,
        "0.9",
        "1.4.2.0",
        "1.4.2.0-9d9eff4",
        "6.6.3",
        "7.2.7",
        "22.4R3-S3",
        "2.14.1",
        "whatever",
    ):
        for test, rng in zip(compiled.tests, ranges, strict=True):
            assert test.holds(version) == in_range(version, rng)
        inside, found, _ = compiled.decide(version)
        if inside is True:
            assert found is not None and (in_range(version, found) or found.exact)
