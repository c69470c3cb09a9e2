"""The version schemes: each turns a version string into a *key*, a plain tuple whose
natural ordering is the scheme's precedence.

One parser per scheme (generic, semver/npm, PEP 440, Debian, RPM, Maven), pure and
uncached: :mod:`tocsin.watch.match.versions` caches them and builds comparison, ranges and
prefixes on top. Every key of one scheme has the same shape position by position, so the
order is total (never a ``TypeError``). A parser answers None for text its scheme cannot
read. The rules per scheme are described in docs/matching-versions.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import chain

from tocsin.model.advisory import VersionScheme

__all__ = ["PARSERS", "ZERO", "Item", "VersionKey", "generic_items"]

VersionKey = tuple[object, ...]
Item = tuple[int, int | str]

# --- generic: numeric and alphabetic runs -------------------------------------------------

_PRE, _END, _POST, _NUM = 0, 1, 2, 3
_END_ITEM: Item = (_END, 0)
ZERO: Item = (_NUM, 0)
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


def generic_items(text: str) -> list[Item] | None:
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
    items = generic_items(text)
    if items is None:
        return None
    out: list[Item] = []
    for item in items:
        if item[0] != _NUM:  # "7.2.0-rc1" == "7.2-rc1": zeros before a word do not count
            while out and out[-1] == ZERO:
                out.pop()
        out.append(item)
    while out and out[-1] == ZERO:  # 7.2 == 7.2.0
        out.pop()
    out.append(_END_ITEM)
    # Flat (epoch, rank, value, rank, value, ...): values of equal ranks have equal types.
    return (epoch, *chain.from_iterable(out))


# --- semver 2.0 (npm, cargo, go): loose on the number of parts -----------------------------

# A pre-release follows a hyphen. A suffix glued to the numbers is not semver: Junos
# "22.4R3-S3" and Checkmk "2.1.0p41" come *after* their release, which a semver pre-release
# would put before it; such text is unreadable here, and ranges compare it as generic.
_SEMVER = re.compile(
    r"\s*[vV=]?\s*([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?"
    r"(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]*)?\s*"
)


def _semver_key(text: str) -> VersionKey | None:
    m = _SEMVER.fullmatch(text)
    if not m:
        return None
    core = (int(m[1]), int(m[2] or 0), int(m[3] or 0))
    pre = m[4]
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

PARSERS: dict[VersionScheme, Callable[[str], VersionKey | None]] = {
    VersionScheme.GENERIC: _generic_key,
    VersionScheme.SEMVER: _semver_key,
    VersionScheme.NPM: _semver_key,
    VersionScheme.PYPI: _pypi_key,
    VersionScheme.DEB: _deb_key,
    VersionScheme.RPM: _rpm_key,
    VersionScheme.MAVEN: _maven_key,
}
