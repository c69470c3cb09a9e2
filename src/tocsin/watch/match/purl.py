"""Package URLs (purl) and ``vers:`` version ranges.

Two purls name the same package when their type, namespace and name agree after the
per-type normalisation of the purl specification (PyPI names per PEP 503, npm scopes,
case-insensitive ecosystems); qualifiers (``distro``, ``arch``…) and subpaths are ignored.
Ranges are read from the ``vers`` specification ("vers:npm/>=1.0.0|<2.0.0") into
:class:`~tocsin.model.advisory.VersionRange` values and evaluated with
:mod:`tocsin.watch.match.versions` under the scheme the vers or purl type implies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import unquote

from packageurl import PackageURL

from tocsin.errors import InputError
from tocsin.model.advisory import VersionRange, VersionScheme
from tocsin.watch.match.versions import (
    InvalidVersionError,
    compare,
    describe_range,
    in_range,
    version_key,
)

_MAX_PURL_LENGTH = 2048
_MAX_CONSTRAINTS = 256

# Which comparator a purl type or vers scheme uses; anything else is generic.
_SCHEMES: dict[str, VersionScheme] = {
    "npm": VersionScheme.NPM,
    "pypi": VersionScheme.PYPI,
    "deb": VersionScheme.DEB,
    "debian": VersionScheme.DEB,
    "rpm": VersionScheme.RPM,
    "maven": VersionScheme.MAVEN,
    "semver": VersionScheme.SEMVER,
    "golang": VersionScheme.SEMVER,
    "cargo": VersionScheme.SEMVER,
    "generic": VersionScheme.GENERIC,
}
# Types whose namespace and name are case-insensitive.
_CASE_INSENSITIVE = frozenset(
    {"github", "bitbucket", "composer", "nuget", "npm", "pypi", "deb", "apk", "hex", "pub"}
)
_PEP503 = re.compile(r"[-_.]+")


class InvalidPurlError(InputError, ValueError):
    """Text that is not a package URL."""


class InvalidVersError(InputError, ValueError):
    """Text that is not a ``vers:`` range."""


class PurlKey(NamedTuple):
    """What identifies a package, whatever its version and qualifiers."""

    type: str
    namespace: str | None
    name: str


def scheme_for(kind: str) -> VersionScheme:
    """The version scheme of a purl type or vers scheme (generic when unknown)."""
    return _SCHEMES.get(kind.strip().lower(), VersionScheme.GENERIC)


@lru_cache(maxsize=1 << 15)
def parse_purl(text: str) -> PackageURL:
    """Parse a package URL; raises :class:`InvalidPurlError`."""
    if len(text) > _MAX_PURL_LENGTH:
        raise InvalidPurlError(f"package URL longer than {_MAX_PURL_LENGTH} characters")
    try:
        return PackageURL.from_string(text.strip())
    except ValueError as exc:
        raise InvalidPurlError(f"not a package URL: {text[:120]!r} ({exc})") from exc


def _as_purl(purl: str | PackageURL) -> PackageURL:
    return purl if isinstance(purl, PackageURL) else parse_purl(purl)


def _normalise(kind: str, namespace: str | None, name: str) -> PurlKey:
    namespace = (namespace or "").strip("/") or None
    if kind == "pypi":
        name = _PEP503.sub("-", name)
    if kind == "npm" and namespace:
        namespace = "@" + namespace.lstrip("@")
    if kind in _CASE_INSENSITIVE:
        namespace = namespace.lower() if namespace else None
        name = name.lower()
    return PurlKey(kind, namespace, name)


def purl_key(purl: str | PackageURL) -> PurlKey:
    """Type, namespace and name of a purl, normalised for comparison."""
    parsed = _as_purl(purl)
    return _normalise(str(parsed.type).lower(), parsed.namespace, str(parsed.name))


def maven_key(coordinates: str) -> PurlKey:
    """The key of Maven coordinates written ``group:artifact[:version]``."""
    group, _, rest = coordinates.strip().partition(":")
    artifact = rest.partition(":")[0]
    if not group or not artifact:
        raise InvalidPurlError(f"not Maven coordinates group:artifact: {coordinates[:120]!r}")
    return PurlKey("maven", group, artifact)


def purl_version(purl: str | PackageURL) -> str | None:
    """The version of a purl, with an rpm ``epoch`` qualifier folded in ("1:7.50.3-1")."""
    parsed = _as_purl(purl)
    if not parsed.version:
        return None
    version = str(parsed.version)
    qualifiers = parsed.qualifiers if isinstance(parsed.qualifiers, dict) else {}
    epoch = qualifiers.get("epoch")
    if parsed.type == "rpm" and epoch and ":" not in version:
        version = f"{epoch}:{version}"
    return version


def same_package(a: str | PackageURL, b: str | PackageURL) -> bool:
    """Whether two purls name the same package (versions and qualifiers ignored)."""
    return purl_key(a) == purl_key(b)


# --- vers ------------------------------------------------------------------------------------

_COMPARATORS = ("<=", ">=", "!=", "<", ">", "=")


@dataclass(frozen=True)
class VersRange:
    """A parsed ``vers:`` range: intervals, single versions, and excluded versions."""

    text: str
    scheme_name: str
    scheme: VersionScheme
    ranges: tuple[VersionRange, ...]
    excluded: tuple[str, ...] = ()

    def contains(self, version: str | None) -> bool | None:
        """Whether ``version`` is in the range; None when it cannot be decided."""
        unknown = False
        if self.excluded:
            if version is None:
                return None
            try:
                if any(compare(version, v, self.scheme) == 0 for v in self.excluded):
                    return False
            except InvalidVersionError:
                return None
        for rng in self.ranges:
            inside = in_range(version, rng)
            if inside is True:
                return True
            unknown = unknown or inside is None
        return None if unknown else False

    def describe(self) -> str:
        parts = [describe_range(r) for r in self.ranges]
        parts += [f"!= {v}" for v in self.excluded]
        return " | ".join(parts) or "no version"


def _split_constraint(text: str) -> tuple[str, str]:
    for comparator in _COMPARATORS:
        if text.startswith(comparator):
            return comparator, unquote(text[len(comparator) :])
    return "=", unquote(text)


def _intervals(
    bounds: list[tuple[str, str]], scheme: VersionScheme, text: str
) -> list[VersionRange]:
    """The vers containment algorithm's intervals over sorted <, <=, >, >= constraints."""
    out: list[VersionRange] = []
    last = len(bounds) - 1
    for i, (op, version) in enumerate(bounds):
        if op in ("<", "<=") and i == 0:
            out.append(
                VersionRange(
                    fixed=version if op == "<" else None,
                    last_affected=version if op == "<=" else None,
                    scheme=scheme,
                    text=text,
                )
            )
        elif op in (">", ">=") and i < last and bounds[i + 1][0] in ("<", "<="):
            up_op, up = bounds[i + 1]
            out.append(
                VersionRange(
                    introduced=version,
                    introduced_exclusive=op == ">",
                    fixed=up if up_op == "<" else None,
                    last_affected=up if up_op == "<=" else None,
                    scheme=scheme,
                    text=text,
                )
            )
        elif op in (">", ">=") and i == last:
            out.append(
                VersionRange(
                    introduced=version, introduced_exclusive=op == ">", scheme=scheme, text=text
                )
            )
    return out


@lru_cache(maxsize=1 << 14)
def parse_vers(text: str) -> VersRange:
    """Parse ``vers:<scheme>/<constraint>|...``; raises :class:`InvalidVersError`.

    Versions that the scheme cannot order are an error here (the range could not be
    evaluated), with the offending version in the message.
    """
    body = "".join(text.split())  # spaces are not significant
    if not body.lower().startswith("vers:") or "/" not in body:
        raise InvalidVersError(f"not a vers range: {text[:120]!r}")
    scheme_name, _, constraints = body[5:].partition("/")
    scheme_name = scheme_name.lower()
    scheme = scheme_for(scheme_name)
    items = [c for c in constraints.split("|") if c]
    if not items or len(items) > _MAX_CONSTRAINTS:
        raise InvalidVersError(f"a vers range needs 1 to {_MAX_CONSTRAINTS} constraints: {text!r}")
    if items == ["*"]:
        return VersRange(text, scheme_name, scheme, (VersionRange(all_versions=True, text=text),))
    parsed = [_split_constraint(item) for item in items]
    for _, version in parsed:
        try:
            version_key(version, scheme)
        except InvalidVersionError as exc:
            raise InvalidVersError(f"{text[:120]!r}: {exc.message}") from exc
    exact = tuple(VersionRange(exact=v, scheme=scheme, text=text) for op, v in parsed if op == "=")
    excluded = tuple(v for op, v in parsed if op == "!=")
    bounds = sorted(
        ((op, v) for op, v in parsed if op not in ("=", "!=")),
        key=lambda c: version_key(c[1], scheme),
    )
    ranges = exact + tuple(_intervals(bounds, scheme, text))
    return VersRange(text, scheme_name, scheme, ranges, excluded)


def purl_affected(
    asset_purl: str | PackageURL,
    package_purl: str | PackageURL,
    ranges: VersRange | Sequence[VersionRange] | str,
) -> bool | None:
    """Whether the asset's package is the advisory's package at an affected version.

    ``ranges`` is a ``vers:`` string, a parsed :class:`VersRange`, or ranges already in
    the model (their scheme is taken from the purl type when they say generic). False
    when the packages differ; None when the asset's version is missing or unreadable.
    """
    if not same_package(asset_purl, package_purl):
        return False
    version = purl_version(asset_purl)
    if isinstance(ranges, str):
        ranges = parse_vers(ranges)
    if isinstance(ranges, VersRange):
        return ranges.contains(version)
    scheme = scheme_for(purl_key(package_purl).type)
    unknown = False
    for rng in ranges:
        if rng.scheme is VersionScheme.GENERIC and scheme is not VersionScheme.GENERIC:
            rng = replace(rng, scheme=scheme)
        inside = in_range(version, rng)
        if inside is True:
            return True
        unknown = unknown or inside is None
    return None if unknown else False
