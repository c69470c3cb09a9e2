"""Version comparison for every scheme advisories use, and membership of version ranges.

Each scheme turns a version string into a *key*: a plain tuple whose natural ordering is
the scheme's precedence. Keys are built once and cached, so comparing is a tuple comparison
in C. Every key of one scheme has the same shape position by position, so the order is total
(never a ``TypeError``). The rules per scheme are described in docs/matching-versions.md.

The parsers of each scheme live in :mod:`tocsin.watch.match.version_schemes`; this module
caches them and builds comparison, series prefixes and ranges on top. A statement's ranges
compile once into a :class:`RangeSet` (bounds parsed for each scheme that can read them),
which a prepared corpus keeps, so that deciding a version is a few tuple comparisons.

Unreadable text raises :class:`InvalidVersionError` from :func:`compare` and
:func:`parse_version`; :func:`in_range` and :func:`matches_prefix` never raise and answer
``None`` ("unknown") instead, so callers can lower their confidence rather than drop a match.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache, total_ordering

from tocsin.errors import InputError
from tocsin.model.advisory import VersionRange, VersionScheme
from tocsin.watch.match.version_schemes import PARSERS, ZERO, Item, VersionKey, generic_items

__all__ = [
    "MAX_VERSION_LENGTH",
    "InvalidVersionError",
    "Item",
    "KeySpan",
    "Point",
    "RangeSet",
    "Segments",
    "SpanBounds",
    "RangeTest",
    "Version",
    "VersionKey",
    "clear_caches",
    "compare",
    "describe_range",
    "generic_key",
    "in_range",
    "is_valid",
    "key_of",
    "matches_prefix",
    "parse_version",
    "release_of_build",
    "version_key",
    "wildcard_prefix",
]

MAX_VERSION_LENGTH = 128
_CACHE_SIZE = 1 << 17


class InvalidVersionError(InputError, ValueError):
    """A version string that its scheme cannot read."""

    def __init__(self, text: str, scheme: VersionScheme) -> None:
        super().__init__(f"not a valid {scheme.value} version: {text[:80]!r}")
        self.text = text
        self.scheme = scheme


def _cached(parse: Callable[[str], VersionKey | None]) -> Callable[[str], VersionKey | None]:
    @lru_cache(maxsize=_CACHE_SIZE)
    def key(text: str) -> VersionKey | None:
        if not text or len(text) > MAX_VERSION_LENGTH:
            return None
        return parse(text)

    return key


# One cache per parser, keyed by the text alone: hashing an enum member runs Python code.
_BY_PARSER = {parse: _cached(parse) for parse in set(PARSERS.values())}
_KEYS = {scheme: _BY_PARSER[parse] for scheme, parse in PARSERS.items()}
_GENERIC = VersionScheme.GENERIC
_generic_cached = _KEYS[_GENERIC]


def key_of(text: str, scheme: VersionScheme) -> VersionKey | None:
    """The key of ``text`` under ``scheme`` (cached), or None when the scheme cannot read it."""
    return _cached_key(text, scheme)


def generic_key(text: str) -> VersionKey | None:
    """The generic key of ``text`` (cached), or None when it has no number."""
    return _generic_cached(text)


def _cached_key(text: str, scheme: VersionScheme) -> VersionKey | None:
    return (_generic_cached if scheme is _GENERIC else _KEYS[scheme])(text)


def clear_caches() -> None:
    """Forget every parsed version (the caches hold up to 2**17 keys per scheme)."""
    for key in _BY_PARSER.values():
        key.cache_clear()  # type: ignore[attr-defined]
    _prefix_items.cache_clear()
    wildcard_prefix.cache_clear()
    _compile_range.cache_clear()


def version_key(text: str, scheme: VersionScheme = VersionScheme.GENERIC) -> VersionKey:
    """The sort key of ``text`` under ``scheme``; raises :class:`InvalidVersionError`."""
    key = _cached_key(text, scheme)
    if key is None:
        raise InvalidVersionError(text, scheme)
    return key


def compare(a: str, b: str, scheme: VersionScheme = VersionScheme.GENERIC) -> int:
    """-1, 0 or 1 as ``a`` is older than, equal to or newer than ``b``."""
    ka = _cached_key(a, scheme)
    kb = _cached_key(b, scheme)
    if ka is None:
        raise InvalidVersionError(a, scheme)
    if kb is None:
        raise InvalidVersionError(b, scheme)
    return (ka > kb) - (ka < kb)


@total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    """A parsed version; versions of the same scheme compare, sort and hash by precedence."""

    text: str
    scheme: VersionScheme
    key: VersionKey

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version) or other.scheme != self.scheme:
            return NotImplemented
        return self.key == other.key

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version) or other.scheme != self.scheme:
            return NotImplemented
        return self.key < other.key

    def __hash__(self) -> int:
        return hash((self.scheme, self.key))

    def __str__(self) -> str:
        return self.text


def parse_version(text: str, scheme: VersionScheme = VersionScheme.GENERIC) -> Version:
    """A comparable :class:`Version`; raises :class:`InvalidVersionError`."""
    return Version(text, scheme, version_key(text, scheme))


def is_valid(text: str, scheme: VersionScheme = VersionScheme.GENERIC) -> bool:
    return _cached_key(text, scheme) is not None


# --- wildcards and prefixes ------------------------------------------------------------------

_WILDCARD_TAIL = re.compile(r"(?:\.?\*|[._ -][xX])+\s*$")


@lru_cache(maxsize=_CACHE_SIZE)
def wildcard_prefix(text: str) -> str | None:
    """``"7.2"`` for ``"7.2.x"``, ``"4"`` for ``"4.*"``, ``""`` for ``"*"``; None if no wildcard."""
    m = _WILDCARD_TAIL.search(text)
    return text[: m.start()].strip() if m else None


@lru_cache(maxsize=_CACHE_SIZE)
def _prefix_items(text: str) -> tuple[Item, ...] | None:
    if len(text) > MAX_VERSION_LENGTH:
        return None
    items = generic_items(text)
    return None if items is None else tuple(items)


def matches_prefix(version: str, prefix: str) -> bool | None:
    """Whether ``version`` is in the series ``prefix`` ("7.2", "7.2.x", "4.*").

    Components compare whole: 7.2.10 is in 7.2 but 7.20 is not. None when either side
    has no number.
    """
    stem = wildcard_prefix(prefix)
    stem = prefix.strip() if stem is None else stem
    if not stem:
        return True
    want = _prefix_items(stem)
    have = _prefix_items(version)
    if want is None or have is None:
        return None
    if len(have) < len(want):
        have = have + (ZERO,) * (len(want) - len(have))
    return have[: len(want)] == want


# --- ranges ----------------------------------------------------------------------------------

_OPEN_VALUES = frozenset({"", "*"})


def _is_open(bound: str | None, lower: bool = False) -> bool:
    if bound is None:
        return True
    bound = bound.strip()
    return bound in _OPEN_VALUES or (lower and bound == "0")


@dataclass(frozen=True, slots=True)
class _Bounds:
    """A range with its bounds parsed once: keys, or a series prefix for wildcard bounds."""

    exact: VersionKey | None = None
    exact_series: str | None = None
    low: VersionKey | None = None
    low_exclusive: bool = False
    below: VersionKey | None = None
    up_to: VersionKey | None = None
    up_to_series: str | None = None


def _bound_key(bound: str, scheme: VersionScheme) -> tuple[VersionKey | None, str | None]:
    """The key of a bound ("7.3.*" stands for 7.3) and its series when it is a wildcard."""
    stem = wildcard_prefix(bound)
    key = _cached_key(bound if stem is None else stem, scheme)
    if key is None:
        raise InvalidVersionError(bound, scheme)
    return key, stem


@lru_cache(maxsize=1 << 16)
def _compile_range(rng: VersionRange, scheme: VersionScheme) -> _Bounds | None:
    try:
        if rng.exact is not None:
            if wildcard_prefix(rng.exact) is not None:
                return _Bounds(exact_series=rng.exact)
            return _Bounds(exact=_bound_key(rng.exact, scheme)[0])
        low = None if _is_open(rng.introduced, lower=True) else rng.introduced
        below = None if _is_open(rng.fixed) else rng.fixed
        up_to = None if _is_open(rng.last_affected) else rng.last_affected
        up_key, up_series = _bound_key(up_to, scheme) if up_to else (None, None)
        return _Bounds(
            low=_bound_key(low, scheme)[0] if low else None,
            low_exclusive=rng.introduced_exclusive,
            below=_bound_key(below, scheme)[0] if below else None,  # "< 7.3.*": before 7.3
            up_to=up_key,
            up_to_series=up_series,  # "<= 6.6.*": up to the end of the 6.6 series
        )
    except InvalidVersionError:
        return None


def _check(version: str, key: VersionKey, b: _Bounds) -> bool | None:
    if b.exact_series is not None:
        return matches_prefix(version, b.exact_series)
    if b.exact is not None:
        return key == b.exact
    if b.low is not None and (key < b.low or (b.low_exclusive and key == b.low)):
        return False
    if b.below is not None and key >= b.below:
        return False
    if b.up_to is not None and key > b.up_to:
        return b.up_to_series is not None and matches_prefix(version, b.up_to_series) is True
    return True


def in_range(version: str | None, rng: VersionRange) -> bool | None:
    """Whether ``version`` is in ``rng``; None when that cannot be decided.

    ``all_versions`` and a range without any bound contain everything, even an unknown
    version. Otherwise a missing or unreadable version or bound gives None. Introduced
    "0" and bounds "*" are open. When the range's scheme cannot read a side (a CNA's
    "semver" that is not), the comparison is retried as generic before giving up.
    """
    if rng.all_versions or rng.is_unbounded:
        return True
    if version is None:
        return None
    schemes = (rng.scheme,) if rng.scheme is _GENERIC else (rng.scheme, _GENERIC)
    for scheme in schemes:
        key = _cached_key(version, scheme)
        bounds = _compile_range(rng, scheme) if key is not None else None
        if key is not None and bounds is not None:
            return _check(version, key, bounds)
    return None


# --- ranges compiled once --------------------------------------------------------------------

# "1.4.2.0-9d9eff4", "2.3.1+g1a2b3c4": a release with the commit it was built from.
_COMMIT_SUFFIX = re.compile(
    r"^(?P<release>.*\d)[-+](?:g)?(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,40}$"
)


@lru_cache(maxsize=1 << 12)
def release_of_build(text: str) -> str | None:
    """ "1.4.2.0" for "1.4.2.0-9d9eff4" (a release and its commit); None for other text."""
    found = _COMMIT_SUFFIX.match(text.strip().lower())
    return found["release"] if found else None


_KeyOf = Callable[[str], VersionKey | None]
# A plain generic range as bisection reads it (RangeSet.bounds).
SpanBounds = tuple[VersionRange, VersionKey | None, bool, VersionKey | None, VersionKey | None]
_NUM = ZERO[0]


@dataclass(frozen=True, slots=True)
class KeySpan:
    """The generic keys a generic range holds: from ``low`` (exclusive or not), below
    ``below``, up to ``up_to``. Exact for every version whose generic key is known and that
    has no epoch: such a version is in the range exactly when its key is in the span."""

    low: VersionKey | None
    low_exclusive: bool
    below: VersionKey | None
    up_to: VersionKey | None

    @classmethod
    def of(cls, b: _Bounds) -> KeySpan | None:
        if b.exact is not None:
            return cls(b.exact, False, None, b.exact)
        if b.exact_series is not None:  # "7.2.x": the keys that start like 7.2's
            series = _series_keys(b.exact_series)
            return None if series is None else cls(series[0], False, series[1], None)
        if b.up_to_series is not None:  # "<= 6.6.*": up to 6.6 and its whole series
            series = _series_keys(b.up_to_series)
            if series is None:
                return None
            below = series[1] if b.below is None else min(b.below, series[1])
            return cls(b.low, b.low_exclusive, below, None)
        return cls(b.low, b.low_exclusive, b.below, b.up_to)


def _series_keys(series: str) -> tuple[VersionKey, VersionKey] | None:
    """(first, past the last) generic key of the versions :func:`matches_prefix` puts in a
    series of plain numbers ("6.6", "7.2.x"): the keys that begin like the stem's. None
    when that does not hold (a word, an epoch, or a trailing zero the key drops)."""
    stem = wildcard_prefix(series)
    stem = series.strip() if stem is None else stem
    key = _generic_cached(stem) if stem and ":" not in stem else None
    items = _prefix_items(stem) if key is not None else None
    if key is None or items is None or key[0] != 0 or len(key) != 2 * len(items) + 3:
        return None
    if any(rank != _NUM for rank, _ in items) or items[-1][1] == 0:
        return None
    prefix = key[:-2]  # without the end marker
    last = prefix[-1]
    assert isinstance(last, int)
    return prefix, (*prefix[:-1], last + 1)


@dataclass(frozen=True, slots=True, eq=False)
class RangeTest:
    """One range with its bounds parsed once, for every scheme that can read them: the
    range's own, then generic (what :func:`in_range` would try, in that order)."""

    rng: VersionRange
    always: bool  # all versions, or no bound at all
    tries: tuple[tuple[_KeyOf, _Bounds], ...]
    build: RangeTest | None = None  # an exact "1.4.2.0-9d9eff4": its release "1.4.2.0"
    # For a generic range without a build: the interval of generic keys it holds, so that
    # sorted keys can be bisected (:class:`KeySpan`); None when no interval says it.
    plain: KeySpan | None = None

    @classmethod
    def of(cls, rng: VersionRange) -> RangeTest:
        always = rng.all_versions or rng.is_unbounded
        schemes = (rng.scheme,) if rng.scheme is _GENERIC else (rng.scheme, _GENERIC)
        tries = []
        if not always:
            for scheme in schemes:
                bounds = _compile_range(rng, scheme)
                if bounds is not None:
                    tries.append((_KEYS[scheme], bounds))
        build = None
        if rng.exact is not None and (release := release_of_build(rng.exact)) is not None:
            build = cls.of(replace(rng, exact=release))
        plain = None
        if rng.scheme is _GENERIC and tries and build is None:
            plain = KeySpan.of(tries[0][1])
        return cls(rng, always, tuple(tries), build, plain)

    def contains(self, version: str | None) -> bool | None:
        """:meth:`holds`, and an exact build with a commit suffix holds its release: an
        inventory that has "1.4.2.0" runs the "1.4.2.0-9d9eff4" an advisory lists
        (inventories drop the commit)."""
        inside = self.holds(version)
        if inside is not True and self.build is not None and version is not None:
            if release_of_build(version) is None and self.build.holds(version):
                return True
        return inside

    def holds(self, version: str | None) -> bool | None:
        """The same answer as ``in_range(version, self.rng)``."""
        if self.always:
            return True
        if version is None:
            return None
        for key_of, bounds in self.tries:
            key = key_of(version)
            if key is not None:
                return _check(version, key, bounds)
        return None


@dataclass(frozen=True, slots=True, eq=False)
class RangeSet:
    """The ranges of one statement (an affected entry), compiled once and decided for any
    number of versions: prepared with the corpus, not per asset (docs/matching.md)."""

    tests: tuple[RangeTest, ...]
    # When every range is plain generic (or holds every version): each range with the
    # interval of generic keys it holds (:class:`KeySpan`), flat as bisection reads it:
    # (range, low, low exclusive, below, up to), all None for a range that holds every
    # version; a group's sorted versions are then decided by bisection alone
    # (:meth:`~.index.GroupVersions.blocks`).
    bounds: tuple[SpanBounds, ...] | None = None
    # The same spans cut into segments where the first range that holds a version does
    # not change (:func:`_segments`): to find it for one version by a single bisection.
    segments: Segments | None = None

    @classmethod
    def of(cls, ranges: tuple[VersionRange, ...]) -> RangeSet:
        tests = tuple(RangeTest.of(rng) for rng in ranges)
        bounds: list[SpanBounds] = []
        for test in tests:
            span = test.plain
            if test.always:
                bounds.append((test.rng, None, False, None, None))
            elif span is not None:
                bounds.append((test.rng, span.low, span.low_exclusive, span.below, span.up_to))
            else:
                return cls(tests)
        return cls(tests, tuple(bounds), _segments(tuple(bounds)))

    def decide(self, version: str | None) -> tuple[bool | None, VersionRange | None, str]:
        """(in a range?, the first range that contains the version, why undecided)."""
        if not self.tests:
            return None, None, "no version stated"
        unknown = False
        for test in self.tests:
            inside = test.contains(version)
            if inside is True:
                return True, test.rng, ""
            unknown = unknown or inside is None
        if not unknown:
            return False, None, ""
        why = "no inventory version" if version is None else "version range unreadable"
        return None, None, why


# A point of the line of generic keys: a version's key is (key, 1); a range starts at
# (low, 0) or, exclusive, after it at (low, 2), and ends before (below, 0) or, holding
# ``up_to``, after it at (up_to, 2). So (key, 1) is in a range exactly when start <= it
# < end, as :class:`KeySpan` says.
Point = tuple[VersionKey, int]
# The boundaries of the spans, sorted, and for each segment between them (segment i is
# below boundary i, the last above all) the index of the first range that holds it, or -1.
Segments = tuple[tuple[Point, ...], tuple[int, ...]]


def _segments(bounds: tuple[SpanBounds, ...]) -> Segments:
    """The plain ranges of a statement as segments (:data:`Segments`): the first range
    holding a version is ``first[bisect_right(boundaries, (key, 1))]``."""
    edges: list[tuple[Point | None, Point | None]] = []
    for _, low, low_exclusive, below, up_to in bounds:
        start = None if low is None else (low, 2 if low_exclusive else 0)
        ends = [(below, 0)] if below is not None else []
        if up_to is not None:
            ends.append((up_to, 2))
        edges.append((start, min(ends) if ends else None))
    cuts = sorted({point for edge in edges for point in edge if point is not None})
    where = {point: i for i, point in enumerate(cuts)}
    first = [-1] * (len(cuts) + 1)
    for rank, (start, end) in enumerate(edges):
        # segment i lies between cuts[i - 1] and cuts[i]: the range holds i from the
        # segment above its start up to the segment below its end
        since = 0 if start is None else where[start] + 1
        until = len(cuts) if end is None else where[end]
        for i in range(since, until + 1):
            if first[i] < 0:
                first[i] = rank
    return tuple(cuts), tuple(first)


def describe_range(rng: VersionRange) -> str:
    """A short human form of a range, used in evidence: ">= 7.2.0, < 7.2.10"."""
    if rng.all_versions:
        return "all versions"
    if rng.exact is not None:
        return f"= {rng.exact}"
    parts: list[str] = []
    if not _is_open(rng.introduced, lower=True):
        parts.append(f"{'>' if rng.introduced_exclusive else '>='} {rng.introduced}")
    if not _is_open(rng.fixed):
        parts.append(f"< {rng.fixed}")
    if not _is_open(rng.last_affected):
        parts.append(f"<= {rng.last_affected}")
    return ", ".join(parts) or "all versions"
