"""Version comparison for every scheme advisories use, and membership of version ranges.

Each scheme turns a version string into a *key*: a plain tuple whose natural ordering is
the scheme's precedence. Keys are built once and cached, so comparing is a tuple comparison
in C. Every key of one scheme has the same shape position by position, so the order is total
(never a ``TypeError``). The rules per scheme are described in docs/matching-versions.md.

Unreadable text raises :class:`InvalidVersionError` from :func:`compare` and
:func:`parse_version`; :func:`in_range` and :func:`matches_prefix` never raise and answer
``None`` ("unknown") instead, so callers can lower their confidence rather than drop a match.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, total_ordering
from itertools import chain

from tocsin.errors import InputError
from tocsin.model.advisory import VersionRange, VersionScheme

VersionKey = tuple[object, ...]
Item = tuple[int, int | str]

MAX_VERSION_LENGTH = 128
_CACHE_SIZE = 1 << 17


class InvalidVersionError(InputError, ValueError):
    """A version string that its scheme cannot read."""

    def __init__(self, text: str, scheme: VersionScheme) -> None:
        super().__init__(f"not a valid {scheme.value} version: {text[:80]!r}")
        self.text = text
        self.scheme = scheme


# --- generic: numeric and alphabetic runs -------------------------------------------------

_PRE, _END, _POST, _NUM = 0, 1, 2, 3
_END_ITEM: Item = (_END, 0)
_ZERO: Item = (_NUM, 0)
_GENERIC_TOKEN = re.compile(r"(?P<num>[0-9]+)|(?P<glued>[a-z]+)(?=[0-9])|(?P<word>[a-z]+)")
_PRE_WORDS = {  # pre-release words, in order
    word: rank
    for rank, words in enumerate(["dev", "alpha ea", "beta", "milestone", "pre preview", "rc cr"])
    for word in words.split()
} | {"snapshot": 6}
# Single letters are pre-release markers only when a number follows ("2.0a1", "5.0m3");
# alone they are letter releases ("1.1.1w", "2.8.123e", "9.3b").
_PRE_GLUED = {**_PRE_WORDS, "a": 1, "b": 2, "m": 3, "c": 5}
_IGNORED_WORDS = frozenset({"version", "ver", "release", "final", "ga", "stable"})
_EPOCH = re.compile(r"([0-9]+):(.+)", re.DOTALL)


def _generic_items(text: str) -> list[Item] | None:
    """The raw items of a generic version (no trimming), or None without any number."""
    text = text.strip().lower()
    if text[:1] == "v" and text[1:2].isdigit():
        text = text[1:]
    items: list[Item] = []
    for m in _GENERIC_TOKEN.finditer(text):
        token = m.group()
        if m.lastgroup == "num":
            items.append((_NUM, int(token)))
        elif token not in _IGNORED_WORDS:
            rank = (_PRE_GLUED if m.lastgroup == "glued" else _PRE_WORDS).get(token)
            items.append((_PRE, rank) if rank is not None else (_POST, token))
    if not any(item[0] == _NUM for item in items):
        return None
    return items


def _generic_key(text: str) -> VersionKey | None:
    epoch = 0
    m = _EPOCH.fullmatch(text.strip())
    if m:
        epoch, text = int(m[1]), m[2]
    items = _generic_items(text)
    if items is None:
        return None
    out: list[Item] = []
    for item in items:
        if item[0] != _NUM:  # "7.2.0-rc1" == "7.2-rc1": zeros before a word do not count
            while out and out[-1] == _ZERO:
                out.pop()
        out.append(item)
    while out and out[-1] == _ZERO:  # 7.2 == 7.2.0
        out.pop()
    out.append(_END_ITEM)
    # Flat (epoch, rank, value, rank, value, ...): values of equal ranks have equal types.
    return (epoch, *chain.from_iterable(out))


# --- semver 2.0 (npm, cargo, go): loose on the number of parts -----------------------------

_SEMVER = re.compile(
    r"\s*[vV=]?\s*([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?"
    r"(?:-([0-9A-Za-z.-]+)|([A-Za-z][0-9A-Za-z.-]*))?(?:\+[0-9A-Za-z.-]*)?\s*"
)


def _semver_key(text: str) -> VersionKey | None:
    m = _SEMVER.fullmatch(text)
    if not m:
        return None
    core = (int(m[1]), int(m[2] or 0), int(m[3] or 0))
    pre = m[4] or m[5]
    if not pre:
        return (*core, (1,))
    idents: list[tuple[int, int, str]] = []
    for ident in pre.split("."):
        if not ident:
            return None
        # Numeric identifiers sort numerically and before alphanumeric ones (semver 11.4).
        idents.append((0, int(ident), "") if ident.isdigit() else (1, 0, ident))
    return (*core, (0, *idents))


# --- PEP 440 (pypi) --------------------------------------------------------------------------

_PEP440 = re.compile(
    r"""\s*v?
    (?:(?P<epoch>[0-9]+)!)?
    (?P<release>[0-9]+(?:\.[0-9]+)*)
    (?P<pre>[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?
    (?P<post>(?:-(?P<post_n1>[0-9]+))|(?:[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?))?
    (?P<dev>[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
    \s*""",
    re.VERBOSE | re.IGNORECASE | re.ASCII,
)
_PEP440_PRE = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}
_LOCAL_SPLIT = re.compile(r"[-_.]")


def _pypi_key(text: str) -> VersionKey | None:
    m = _PEP440.fullmatch(text)
    if not m:
        return None
    release = [int(part) for part in m["release"].split(".")]
    while release and release[-1] == 0:
        release.pop()
    if m["pre"] is None:
        # A dev release without pre or post sorts before every pre-release: 1.0.dev0 < 1.0a0.
        pre: VersionKey = (-1,) if m["post"] is None and m["dev"] is not None else (1,)
    else:
        pre = (0, _PEP440_PRE[m["pre_l"].lower()], int(m["pre_n"] or 0))
    post: VersionKey = (-1,) if m["post"] is None else (0, int(m["post_n1"] or m["post_n2"] or 0))
    dev: VersionKey = (1,) if m["dev"] is None else (0, int(m["dev_n"] or 0))
    local: VersionKey = (0,)
    if m["local"]:
        local = (
            1,
            *(
                (1, int(seg), "") if seg.isdigit() else (0, 0, seg.lower())
                for seg in _LOCAL_SPLIT.split(m["local"])
            ),
        )
    return (int(m["epoch"] or 0), tuple(release), pre, post, dev, local)


# --- Debian (dpkg's verrevcmp) ---------------------------------------------------------------

_DEB_UPSTREAM = re.compile(r"[0-9][A-Za-z0-9.+~:-]*")
_DEB_REVISION = re.compile(r"[A-Za-z0-9.+~]+")
_DEB_PAIR = re.compile(r"([^0-9]*)([0-9]*)")
_DEB_END = ((0,), 0)
_DIGITS = re.compile(r"[0-9]+")


def _deb_order(ch: str) -> int:
    if ch == "~":
        return -1
    if ch.isascii() and ch.isalpha():
        return ord(ch)
    return ord(ch) + 256


def _deb_part(text: str) -> VersionKey:
    """Alternating non-digit and digit runs; each non-digit run ends with 0 (its end),
    which sorts above '~' and below everything else, exactly like dpkg's order()."""
    pairs: list[object] = []
    for m in _DEB_PAIR.finditer(text):
        if m.group():
            chars = (*(_deb_order(ch) for ch in m[1]), 0)
            pairs.append((chars, int(m[2]) if m[2] else 0))
    pairs.append(_DEB_END)  # stands for the empty runs dpkg compares a shorter string with
    return tuple(pairs)


def _split_epoch(text: str) -> tuple[int, str] | None:
    """("1", "2.3") out of "1:2.3" (deb, rpm); None when the epoch is not a number."""
    head, colon, rest = text.strip().partition(":")
    if not colon:
        return 0, head
    return (int(head), rest) if _DIGITS.fullmatch(head) else None


def _deb_key(text: str) -> VersionKey | None:
    split = _split_epoch(text)
    if split is None:
        return None
    epoch, text = split
    upstream, dash, revision = text.rpartition("-")
    if not dash:
        upstream, revision = text, ""
    if not _DEB_UPSTREAM.fullmatch(upstream):
        return None
    if revision and not _DEB_REVISION.fullmatch(revision):
        return None
    return (epoch, _deb_part(upstream), _deb_part(revision or "0"))


# --- RPM (rpmvercmp) -------------------------------------------------------------------------

_RPM_TOKEN = re.compile(r"[A-Za-z]+|[0-9]+|[~^]")
_RPM_ALNUM = re.compile(r"[A-Za-z0-9]")
# Token kinds: '~' sorts before the end, '^' after the end but before any segment,
# letters before numbers (rpmvercmp: "numeric segments are newer than alpha").
_RPM_TILDE, _RPM_END, _RPM_CARET = (0,), (1,), (2,)


def _rpm_segments(text: str) -> VersionKey:
    tokens: list[object] = []
    for piece in _RPM_TOKEN.findall(text):
        if piece == "~":
            tokens.append(_RPM_TILDE)
        elif piece == "^":
            tokens.append(_RPM_CARET)
        elif piece[0].isdigit():
            tokens.append((4, int(piece)))
        else:
            tokens.append((3, piece))
    tokens.append(_RPM_END)
    return tuple(tokens)


def _rpm_key(text: str) -> VersionKey | None:
    split = _split_epoch(text)
    if split is None:
        return None
    epoch, text = split
    version, dash, release = text.rpartition("-")
    if not dash:
        version = text
    if not _RPM_ALNUM.search(version):
        return None
    # rpm ignores a missing release; for a total order it sorts before any release.
    return (epoch, _rpm_segments(version), _rpm_segments(release) if dash else ())


# --- Maven (the POM reference's version order) -----------------------------------------------

_MAVEN_PIECE = re.compile(r"[0-9]+|[^0-9.-]+|[.-]")
_MAVEN_QUALIFIERS = {  # alpha < beta < milestone < rc = cr < snapshot < "" = ga = final < sp
    word: rank
    for rank, words in enumerate(["alpha", "beta", "milestone", "rc cr", "snapshot"])
    for word in words.split()
} | {"": 5, "ga": 5, "final": 5, "release": 5, "sp": 6}
_MAVEN_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}
_MAVEN_RELEASE, _MAVEN_UNKNOWN = 5, 7
_MAVEN_STOP = (0,)
# A token: (kind, number or qualifier rank, unknown qualifier's name). Kinds order
# ".qualifier" = "-qualifier" < "-number" < ".number".
_Token = tuple[int, int, str]


def _maven_tokens(text: str) -> list[tuple[bool, _Token]]:
    """(follows a hyphen, token) pairs; a digit/letter transition counts as a hyphen."""
    pieces = _MAVEN_PIECE.findall(text.strip().lower())
    tokens: list[tuple[bool, _Token]] = []
    sep: str | None = "."
    for i, piece in enumerate(pieces):
        if piece in (".", "-"):
            if sep is not None:  # an empty token counts as 0
                tokens.append((sep == "-", (2 if sep == "." else 1, 0, "")))
            sep = piece
            continue
        hyphen = sep != "."
        sep = None
        if piece[0].isdigit():
            tokens.append((hyphen, (1 if hyphen else 2, int(piece), "")))
            continue
        glued = i + 1 < len(pieces) and pieces[i + 1][0].isdigit()
        name = _MAVEN_SHORT.get(piece, piece) if glued else piece
        rank = _MAVEN_QUALIFIERS.get(name)
        token = (0, rank, "") if rank is not None else (0, _MAVEN_UNKNOWN, name)
        tokens.append((hyphen, token))
    if sep is not None and tokens:
        tokens.append((sep == "-", (2 if sep == "." else 1, 0, "")))
    return tokens


def _maven_sign(token: _Token) -> int:
    """How a token compares with the padding ("null") of a shorter version."""
    if token[0] == 0:
        return (token[1] > _MAVEN_RELEASE) - (token[1] < _MAVEN_RELEASE)
    return 1 if token[1] else 0


def _maven_key(text: str) -> VersionKey | None:
    if not text.strip():
        return None
    groups: list[list[_Token]] = []
    for hyphen, token in _maven_tokens(text):
        if hyphen or not groups:  # a hyphen (or the start) opens a group
            groups.append([])
        groups[-1].append(token)
    kept: list[_Token] = []
    for group in groups:  # trailing "null" values are trimmed at each hyphen
        while group and _maven_sign(group[-1]) == 0:
            group.pop()
        kept.extend(group)
    # Each element carries the sign of the first non-null token from it onwards, so the
    # end marker (0,) of a shorter version compares with it exactly like null padding.
    elements: list[object] = [_MAVEN_STOP]
    ahead = 1
    for token in reversed(kept):
        ahead = _maven_sign(token) or ahead
        elements.append((ahead, *token))
    elements.reverse()
    return tuple(elements)


# --- public API ------------------------------------------------------------------------------

_PARSERS: dict[VersionScheme, Callable[[str], VersionKey | None]] = {
    VersionScheme.GENERIC: _generic_key,
    VersionScheme.SEMVER: _semver_key,
    VersionScheme.NPM: _semver_key,
    VersionScheme.PYPI: _pypi_key,
    VersionScheme.DEB: _deb_key,
    VersionScheme.RPM: _rpm_key,
    VersionScheme.MAVEN: _maven_key,
}


def _cached(parse: Callable[[str], VersionKey | None]) -> Callable[[str], VersionKey | None]:
    @lru_cache(maxsize=_CACHE_SIZE)
    def key(text: str) -> VersionKey | None:
        if not text or len(text) > MAX_VERSION_LENGTH:
            return None
        return parse(text)

    return key


# One cache per parser, keyed by the text alone: hashing an enum member runs Python code.
_BY_PARSER = {parse: _cached(parse) for parse in set(_PARSERS.values())}
_KEYS = {scheme: _BY_PARSER[parse] for scheme, parse in _PARSERS.items()}
_GENERIC = VersionScheme.GENERIC
_generic_cached = _KEYS[_GENERIC]


def _cached_key(text: str, scheme: VersionScheme) -> VersionKey | None:
    return (_generic_cached if scheme is _GENERIC else _KEYS[scheme])(text)


def clear_caches() -> None:
    """Forget every parsed version (the caches hold up to 2**17 keys per scheme)."""
    for key in _BY_PARSER.values():
        key.cache_clear()  # type: ignore[attr-defined]
    _prefix_items.cache_clear()
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


def wildcard_prefix(text: str) -> str | None:
    """``"7.2"`` for ``"7.2.x"``, ``"4"`` for ``"4.*"``, ``""`` for ``"*"``; None if no wildcard."""
    m = _WILDCARD_TAIL.search(text)
    return text[: m.start()].strip() if m else None


@lru_cache(maxsize=_CACHE_SIZE)
def _prefix_items(text: str) -> tuple[Item, ...] | None:
    if len(text) > MAX_VERSION_LENGTH:
        return None
    items = _generic_items(text)
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
        have = have + (_ZERO,) * (len(want) - len(have))
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
