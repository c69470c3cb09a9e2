"""Package URLs: identity per type, and ``vers:`` ranges evaluated per scheme."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.model.advisory import VersionRange, VersionScheme
from tocsin.watch.match.purl import (
    InvalidPurlError,
    InvalidVersError,
    PurlKey,
    VersRange,
    maven_key,
    parse_vers,
    purl_affected,
    purl_key,
    purl_version,
    same_package,
    scheme_for,
)
from tocsin.watch.match.versions import compare

# --- identity --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("pkg:pypi/Django_REST.framework@3.0", "pkg:pypi/django-rest-framework", True),
        ("pkg:pypi/zope.interface", "pkg:pypi/Zope_Interface@5", True),
        ("pkg:pypi/requests", "pkg:pypi/request", False),
        ("pkg:npm/%40angular/core@1.0.0", "pkg:npm/@Angular/Core", True),
        ("pkg:npm/angular/core", "pkg:npm/%40angular/core", True),  # scope without its '@'
        ("pkg:npm/core", "pkg:npm/%40angular/core", False),
        (
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            "pkg:maven/org.apache.logging.log4j/log4j-core",
            True,
        ),
        (
            "pkg:maven/org.apache.logging.log4j/log4j-core",
            "pkg:maven/org.apache.logging.log4j/log4j-api",
            False,
        ),
        ("pkg:maven/Org.Example/Lib", "pkg:maven/org.example/lib", False),  # case-sensitive
        (
            "pkg:deb/debian/openssl@1.1.1n-0+deb11u5?arch=amd64&distro=debian-11",
            "pkg:deb/debian/openssl?distro=debian-12",
            True,
        ),
        ("pkg:deb/debian/openssl", "pkg:deb/ubuntu/openssl", False),
        (
            "pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25&epoch=1",
            "pkg:rpm/fedora/curl",
            True,
        ),
        ("pkg:rpm/fedora/Curl", "pkg:rpm/fedora/curl", False),
        ("pkg:github/Package-URL/purl-spec", "pkg:github/package-url/purl-spec", True),
        ("pkg:nuget/Newtonsoft.Json@13.0.1", "pkg:nuget/newtonsoft.json", True),
        ("pkg:pypi/django", "pkg:npm/django", False),
    ],
)
def test_same_package(a: str, b: str, same: bool) -> None:
    assert same_package(a, b) is same
    assert same_package(b, a) is same


def test_purl_key_and_maven_coordinates() -> None:
    assert purl_key("pkg:npm/%40Angular/core@1.0.0") == PurlKey("npm", "@angular", "core")
    assert purl_key("pkg:pypi/Foo.Bar_baz") == PurlKey("pypi", None, "foo-bar-baz")
    key = purl_key("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")
    assert maven_key("org.apache.logging.log4j:log4j-core:2.14.1") == key
    assert maven_key("org.apache.logging.log4j:log4j-core") == key
    with pytest.raises(InvalidPurlError):
        maven_key("log4j-core")


def test_purl_version_folds_the_rpm_epoch() -> None:
    assert purl_version("pkg:rpm/fedora/curl@7.50.3-1.fc25?epoch=1") == "1:7.50.3-1.fc25"
    assert purl_version("pkg:deb/debian/openssl@1.1.1n-0%2Bdeb11u5") == "1.1.1n-0+deb11u5"
    assert purl_version("pkg:pypi/django") is None


@pytest.mark.parametrize(
    "text", ["django", "pkg:", "pkg:pypi", "pkg:/django", "pkg:pypi/" + "x" * 3000]
)
def test_invalid_purl_raises(text: str) -> None:
    with pytest.raises(InvalidPurlError):
        purl_key(text)


def test_scheme_for() -> None:
    assert scheme_for("npm") is VersionScheme.NPM
    assert scheme_for("PyPI") is VersionScheme.PYPI
    assert scheme_for("debian") is VersionScheme.DEB
    assert scheme_for("golang") is VersionScheme.SEMVER
    assert scheme_for("nuget") is VersionScheme.GENERIC
    assert scheme_for("whatever") is VersionScheme.GENERIC


# --- vers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vers", "version", "expected"),
    [
        ("vers:npm/>=1.0.0|<2.0.0", "1.5.0", True),
        ("vers:npm/>=1.0.0|<2.0.0", "2.0.0", False),
        ("vers:npm/>=1.0.0|<2.0.0", "1.0.0-rc.1", False),
        ("vers:npm/>=1.0.0|<2.0.0", "2.0.0-rc.1", True),
        ("vers:npm/<2.0.0|>=1.0.0", "1.5.0", True),  # constraints in any order
        ("vers:npm/ >= 1.0.0 | < 2.0.0 ", "1.5.0", True),  # spaces are ignored
        ("vers:npm/1.2.3", "1.2.3", True),
        ("vers:npm/1.2.3", "1.2.4", False),
        ("vers:npm/=1.2.3|=1.2.5", "1.2.5", True),
        ("vers:pypi/<2.0|>=3.0|<3.2", "1.0", True),
        ("vers:pypi/<2.0|>=3.0|<3.2", "2.5", False),
        ("vers:pypi/<2.0|>=3.0|<3.2", "3.1.post1", True),
        ("vers:pypi/<2.0|>=3.0|<3.2", "3.2", False),
        ("vers:pypi/<2.0|>=3.0|<3.2", "2.0rc1", True),
        ("vers:generic/>1.0|<=2.0", "1.0", False),
        ("vers:generic/>1.0|<=2.0", "2.0", True),
        ("vers:generic/>1.0|<=2.0", "2.0.1", False),
        ("vers:generic/>=1.0", "99", True),
        ("vers:generic/*", "anything at all", True),
        ("vers:generic/!=1.2|>=1.0", "1.2", False),
        ("vers:generic/!=1.2|>=1.0", "1.3", True),
        ("vers:generic/!=1.2|>=1.0", "0.9", False),
        ("vers:generic/<1.0%2B2", "1.0+1", True),
        ("vers:deb/>=1.1.1n-0+deb11u5|<1.1.1w-0+deb11u1", "1.1.1n-0+deb11u6", True),
        ("vers:deb/>=1.1.1n-0+deb11u5|<1.1.1w-0+deb11u1", "1.1.1w-0+deb11u1", False),
        ("vers:deb/<1.0", "1.0~rc1", True),
        ("vers:deb/<2.0", "1:1.0", False),  # the epoch wins
        ("vers:rpm/<1:7.50.3-2", "1:7.50.3-1.fc25", True),
        ("vers:maven/>=2.0-beta9|<2.15.0", "2.14.1", True),
        ("vers:maven/>=2.0-beta9|<2.15.0", "2.0-alpha1", False),
        ("vers:maven/>=2.0-beta9|<2.15.0", "2.15.0.Final", False),
        # Unknown rather than wrong.
        ("vers:npm/>=1.0.0|<2.0.0", None, None),
        ("vers:npm/>=1.0.0|<2.0.0", "latest", None),
        ("vers:generic/!=1.2|>=1.0", None, None),
        ("vers:generic/*", None, True),
    ],
)
def test_vers_contains(vers: str, version: str | None, expected: bool | None) -> None:
    assert parse_vers(vers).contains(version) is expected


def test_vers_is_parsed_into_version_ranges() -> None:
    parsed = parse_vers("vers:npm/>=1.0.0|<2.0.0|>=3.0.0")
    assert parsed.scheme is VersionScheme.NPM and parsed.scheme_name == "npm"
    assert parsed.ranges == (
        VersionRange(introduced="1.0.0", fixed="2.0.0", scheme=VersionScheme.NPM, text=parsed.text),
        VersionRange(introduced="3.0.0", scheme=VersionScheme.NPM, text=parsed.text),
    )
    assert parse_vers("vers:generic/>1|<=2|!=1.5").describe() == "> 1, <= 2 | != 1.5"
    assert parse_vers("vers:generic/*").ranges[0].all_versions


@pytest.mark.parametrize(
    "text",
    ["npm/>=1.0.0", "vers:npm", "vers:npm/", "vers:npm/|", "vers:npm/>=latest", "vers:deb/<abc"],
)
def test_invalid_vers_raises(text: str) -> None:
    with pytest.raises(InvalidVersError):
        parse_vers(text)


# The containment algorithm of the vers specification, written out as a reference.
def reference_contains(constraints: list[tuple[str, str]], version: str) -> bool:
    for op, v in constraints:
        if op == "=" and compare(version, v) == 0:
            return True
        if op == "!=" and compare(version, v) == 0:
            return False
    rest = [(op, v) for op, v in constraints if op not in ("=", "!=")]
    rest.sort(key=lambda c: tuple(int(x) for x in c[1].split(".")))
    for i, (op, v) in enumerate(rest):
        c = compare(version, v)
        if i == 0 and op in ("<", "<=") and (c < 0 or (op == "<=" and c == 0)):
            return True
        if i == len(rest) - 1 and op in (">", ">=") and (c > 0 or (op == ">=" and c == 0)):
            return True
        if i < len(rest) - 1 and op in (">", ">="):
            nop, nv = rest[i + 1]
            if nop in ("<", "<="):
                lower_ok = c > 0 or (op == ">=" and c == 0)
                cn = compare(version, nv)
                upper_ok = cn < 0 or (nop == "<=" and cn == 0)
                if lower_ok and upper_ok:
                    return True
    return False


_ver = st.tuples(st.integers(0, 5), st.integers(0, 5)).map(lambda t: f"{t[0]}.{t[1]}")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["<", "<=", ">", ">=", "=", "!="]), _ver),
        min_size=1,
        max_size=5,
        unique_by=lambda c: c[1],
    ),
    _ver,
)
def test_vers_agrees_with_the_specification_algorithm(
    constraints: list[tuple[str, str]], version: str
) -> None:
    text = "vers:generic/" + "|".join(op + v for op, v in constraints)
    assert parse_vers(text).contains(version) is reference_contains(constraints, version)


# --- purl and ranges together -----------------------------------------------------------------


def test_purl_affected_with_vers() -> None:
    vers = "vers:pypi/>=3.2|<3.2.19"
    assert purl_affected("pkg:pypi/Django@3.2.1", "pkg:pypi/django", vers) is True
    assert purl_affected("pkg:pypi/Django@3.2.19", "pkg:pypi/django", vers) is False
    assert purl_affected("pkg:pypi/flask@3.2.1", "pkg:pypi/django", vers) is False
    assert purl_affected("pkg:pypi/django", "pkg:pypi/django", vers) is None
    assert purl_affected("pkg:pypi/django@3.2.1", "pkg:pypi/django", parse_vers(vers)) is True


def test_purl_affected_takes_the_scheme_from_the_type() -> None:
    # Generic says 1.0 == 1.0.0; Debian says 1.0 < 1.0.0.
    ranges = [VersionRange(fixed="1.0.0")]
    assert purl_affected("pkg:deb/debian/foo@1.0", "pkg:deb/debian/foo", ranges) is True
    assert purl_affected("pkg:generic/foo@1.0", "pkg:generic/foo", ranges) is False


def test_purl_affected_uses_the_rpm_epoch() -> None:
    asset = "pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&epoch=1"
    assert purl_affected(asset, "pkg:rpm/fedora/curl", "vers:rpm/<7.60") is False
    assert purl_affected(asset, "pkg:rpm/fedora/curl", "vers:rpm/<1:7.60") is True


def test_vers_range_is_a_value() -> None:
    assert isinstance(parse_vers("vers:npm/<1.0.0"), VersRange)
    assert parse_vers("vers:npm/<1.0.0") == parse_vers("vers:npm/<1.0.0")
