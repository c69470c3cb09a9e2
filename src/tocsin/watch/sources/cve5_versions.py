"""The versions of one CVE JSON 5 ``affected`` entry, read into version ranges.

The schema decides the status of a version V with this loop (CVE JSON 5.1, ``versions``)::

    for entry in product.versions:
        if no lessThan/lessThanOrEqual and V == entry.version: return entry.status
        if entry.version <= V < entry.lessThan (or <= lessThanOrEqual):
            status = entry.status
            for change in sorted(entry.changes):
                if change.at <= V: status = change.status
            return status
    return product.defaultStatus

:func:`read_version` turns one entry into disjoint ranges, each with its status:

- a range with ``changes`` is cut at each ``at`` (sorted with the entry's scheme), so that
  "affected from 21.4, unaffected at 21.4R3-S5, affected again at 21.4R3-S6" is three
  ranges with their own status; when the ``at`` values cannot be compared each change holds
  from its ``at`` to the end of the range, as written;
- a ``version`` written as a phrase (">= 8.0.0, < 8.3.3", "< 8.0.0", "All versions <
  V4.1.1 Patch04", "2.0 and earlier"; 4,000 entries of the vulnrichment corpus) is read by
  the free-text grammar into ranges, so that "unaffected < 8.0.0" is the range below 8.0.0,
  not a version called "< 8.0.0"; a ``version`` of ">= X" before a ``lessThan`` is X;
- the other rules (open starts, "*" and "5.10.*" upper bounds, "X lessThan X") are in the
  module docstring of :mod:`tocsin.watch.sources.cve5`.

Two deliberate readings go beyond the loop above, because real records need them:

- **an unaffected statement wins where it overlaps an affected range.** The loop gives the
  first entry that covers V; in the corpus, 107 of the 110 overlaps are an affected range
  followed by an unaffected version inside it (Mattermost "< 7.9.4" then "7.8.7
  unaffected", M-Files "< 23.10" then "23.2 LTS SR4"): the vendor's backported fixes. Read
  literally those fixed releases would be reported as affected;
- **defaultStatus "affected" stops at the stated fixes** (:func:`default_range`). When the
  entries of a product state affected ranges with an upper bound, "affected by default"
  covers the versions below the lowest of those bounds (the unsupported older branches),
  not the versions at or past a stated fix: PHP's "8.3.* before 8.3.8" with
  ``defaultStatus: affected`` does not make 8.3.8 or 8.4 affected, nor Adobe's "<= 14.1.1"
  14.1.2. Without such bounds (the Linux kernel's "affected, except these fixed series"),
  every version not stated unaffected is affected, as the schema says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from tocsin.model.advisory import VersionRange, VersionScheme
from tocsin.watch.match.freetext import parse_product_version
from tocsin.watch.match.versions import (
    InvalidVersionError,
    VersionKey,
    is_valid,
    version_key,
    wildcard_prefix,
)
from tocsin.watch.sources.nvd import FeedModel

Status = Literal["affected", "unaffected", "unknown"]

_V = VersionScheme
SCHEMES = {s.value: s for s in _V} | {"python": _V.PYPI, "debian": _V.DEB, "custom": _V.GENERIC}
EVERY = frozenset({"*", "all", "all versions", "any"})
SILENT = frozenset({"", "n/a", "-", "0", "unspecified", "unknown", "various", "none"})
_OPEN_START = SILENT | EVERY
# A commit id: 10 to 40 hex digits with at least two letters ("1da177e4c3f4"), so that
# firmware builds such as "b20210419" stay versions.
COMMIT = re.compile(r"^(?=(?:[0-9]*[a-f]){2})(?=[0-9a-f]*[0-9])[0-9a-f]{10,40}$")
# A version written as a phrase: an operator or a bound word ("< 8.0.0", "2.0 and earlier").
_WORDED = re.compile(
    r"[<>≤≥=]|\b(?:before|prior|through|earlier|later|older|newer|below|above|until|since"
    r"|up to|and lower|and higher)\b",
    re.IGNORECASE,
)
_START_OPERATOR = re.compile(r"^\s*(>=|=>|≥|>|=)\s*")
# Upper bounds that mean "up to the latest release": the range is open above.
_OPEN_END = frozenset({"*", "latest", "all", "all versions", "any"})
COMMIT_RANGE = "git commit range skipped: commits cannot be compared with installed versions"
UNKNOWN_STATUS = "version entry skipped: status unknown"


class Change(FeedModel):
    at: str
    status: Status


class VersionEntry(FeedModel):
    version: str
    status: Status
    versionType: str | None = None
    lessThan: str | None = None
    lessThanOrEqual: str | None = None
    changes: tuple[Change, ...] = ()


@dataclass
class Statement:
    """What the version entries of one ``affected`` entry say, sorted by status."""

    scheme: VersionScheme
    said: bool  # some entry said something about versions
    vague: bool = False  # some entry said "affected" without a usable version
    affected: list[VersionRange] = field(default_factory=list)
    unaffected: list[VersionRange] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)

    def add(self, status: Status, rng: VersionRange) -> None:
        self.said = True
        if status == "affected":
            self.affected.append(rng)
        elif status == "unaffected":
            self.unaffected.append(rng)
            if rng.introduced is not None and not rng.introduced_exclusive:
                self.fixed.append(rng.introduced)
        if status == "affected" and rng.fixed:
            self.fixed.append(rng.fixed)

    def settle(self) -> None:
        """Thresholds of both statuses are steps: Atlassian lists "affected >= 8.5.0",
        "unaffected >= 8.3.3", "unaffected >= 8.5.2"… in one entry, each holding up to the
        next threshold of the other status (the way ``changes`` read)."""
        steps = [(r, "affected") for r in self.affected if _open_above(r)]
        steps += [(r, "unaffected") for r in self.unaffected if _open_above(r)]
        if len({status for _, status in steps}) < 2:
            return
        try:
            steps.sort(key=lambda step: _key(step[0].introduced or "", step[0].scheme))
        except (InvalidVersionError, TypeError):
            return
        cut: dict[int, VersionRange] = {}
        for i, (rng, status) in enumerate(steps):
            after = next((r for r, s in steps[i + 1 :] if s != status), None)
            if after is not None and after.introduced is not None:
                cut[id(rng)] = replace(rng, fixed=after.introduced)
        self.fixed.extend(cut[id(r)].fixed or "" for r in self.affected if id(r) in cut)
        self.affected = [cut.get(id(r), r) for r in self.affected]
        self.unaffected = [cut.get(id(r), r) for r in self.unaffected]


def _open_above(rng: VersionRange) -> bool:
    return bool(rng.introduced) and not (
        rng.fixed or rng.last_affected or rng.exact or rng.all_versions
    )


def read_version(entry: VersionEntry, said: Statement, skip: Callable[[str], None]) -> None:
    """Add one version entry's ranges to ``said``; ``skip`` counts what cannot be used."""
    version = entry.version.strip()
    upper = entry.lessThan if entry.lessThan is not None else entry.lessThanOrEqual
    kind = (entry.versionType or "").strip().lower()
    if entry.status == "unknown":
        said.said = True
        skip(UNKNOWN_STATUS)
        return
    if kind == "git" or COMMIT.match(version) or COMMIT.match((upper or "").strip()):
        said.said = True
        skip(COMMIT_RANGE)
        return
    scheme = SCHEMES.get(kind, _V.GENERIC) if kind else said.scheme
    text = f"{entry.status}: version {version}"
    if upper is None:
        _single(entry.status, version, said, (scheme, text))
        return
    bound = "lessThan" if entry.lessThan is not None else "lessThanOrEqual"
    text = f"{text}, {bound} {upper.strip()}"
    operator = _START_OPERATOR.match(version)
    exclusive = operator is not None and operator.group(1) == ">"
    if operator is not None:
        version = version[operator.end() :].strip()
    start = None if version.lower() in _OPEN_START else version
    inclusive = bound == "lessThanOrEqual"
    span = _Span(start, exclusive, upper, inclusive, scheme, text)
    values = (start, span.end[0], *(change.at for change in entry.changes))
    span = replace(span, scheme=readable_scheme(scheme, values))
    if not span.holds_a_version():
        # "73.0.3683.75 less than 73.0.3683.75" holds no version: Chrome and HackerOne
        # write it for "before 73.0.3683.75", as their descriptions say.
        span = replace(span, start=None, start_exclusive=False)
    _with_changes(span, entry, said)


def _single(status: Status, version: str, said: Statement, how: tuple[VersionScheme, str]) -> None:
    scheme, text = how
    low = version.lower()
    if low in EVERY:
        said.add(status, VersionRange(all_versions=True, scheme=scheme, text=text))
    elif low in SILENT:
        said.vague = said.vague or status == "affected"
    elif _WORDED.search(version) and (worded := _worded(version, scheme, text)):
        for rng in worded:
            said.add(status, rng)
    else:
        said.add(status, VersionRange(exact=version, scheme=scheme, text=text))


def _worded(version: str, scheme: VersionScheme, text: str) -> list[VersionRange]:
    """The ranges of a version written as a phrase, by the free-text grammar."""
    parsed = parse_product_version("", version, "en")
    return [replace(rng, scheme=scheme, text=text) for entry in parsed for rng in entry.ranges]


@dataclass(frozen=True)
class _Span:
    """One range of a version entry: ``start`` (None from the beginning) to ``upper``."""

    start: str | None
    start_exclusive: bool
    upper: str
    inclusive: bool
    scheme: VersionScheme
    text: str

    @property
    def end(self) -> tuple[str, bool]:
        """The upper bound without a leading operator, and whether it is inclusive."""
        end, inclusive = self.upper.strip(), self.inclusive
        if end.startswith("<="):
            inclusive, end = True, end[2:].strip()
        elif end.startswith("<"):
            inclusive, end = False, end[1:].strip()
        return end, inclusive

    def holds_a_version(self) -> bool:
        end, inclusive = self.end
        return not (end and end == self.start and not inclusive)

    def part(self, start: str | None, start_exclusive: bool, stop: str | None) -> VersionRange:
        """The range from ``start`` to ``stop`` (exclusive), or to the span's own end."""
        if stop is not None:
            return VersionRange(start, start_exclusive, stop, None, None, False, *self._how)
        end, inclusive = self.end
        every = end == "*" and start is None
        if end.lower() in _OPEN_END or not end:
            end = ""
        elif not is_version(end):
            # "lessThan publication" (Microsoft: before the update published with the CVE),
            # a URL, "upgrade to the latest version": a fix no installed version can be
            # compared with. Kept as written, the range cannot decide (name only).
            return VersionRange(start, start_exclusive, end, None, None, False, *self._how)
        inclusive = inclusive or end.endswith("*")  # "< 1.*" is the whole 1.x series
        fixed, last = (None, end or None) if inclusive else (end or None, None)
        return VersionRange(start, start_exclusive, fixed, last, None, every, *self._how)

    @property
    def _how(self) -> tuple[VersionScheme, str]:
        return self.scheme, self.text


def _with_changes(span: _Span, entry: VersionEntry, said: Statement) -> None:
    """The span with the status its ``changes`` give each part (see the module docstring)."""
    changes = [(change.at.strip(), change.status) for change in entry.changes]
    ordered = _sorted_changes(changes, span)
    if ordered is None:  # the ``at`` values cannot be compared: each holds to the end
        said.add(entry.status, span.part(span.start, span.start_exclusive, None))
        for at, status in changes:
            if status != entry.status:
                said.add(status, span.part(at, False, None))
        return
    start, exclusive, status = span.start, span.start_exclusive, entry.status
    for at, new in ordered:
        if new == status:
            continue
        if start is None or _key(at, span.scheme) > _key(start, span.scheme):
            said.add(status, span.part(start, exclusive, at))
            start, exclusive = at, False
        status = new
    said.add(status, span.part(start, exclusive, None))


def _sorted_changes(
    changes: list[tuple[str, Status]], span: _Span
) -> list[tuple[str, Status]] | None:
    """The changes sorted by ``at`` and within the span; None when they cannot be compared."""
    if not changes:
        return []
    try:
        if span.start is not None:
            _key(span.start, span.scheme)
        ordered = sorted(changes, key=lambda change: _key(change[0], span.scheme))
        end, inclusive = span.end
        stem = wildcard_prefix(end)
        if end and end != "*" and stem != "":
            limit = _key(end if stem is None else stem, span.scheme)
            # A change past the end of the range changes nothing in it.
            ordered = [
                change
                for change in ordered
                if stem is not None
                or _key(change[0], span.scheme) < limit
                or (inclusive and _key(change[0], span.scheme) == limit)
            ]
    except InvalidVersionError:
        return None
    return ordered


def _key(text: str, scheme: VersionScheme) -> VersionKey:
    stem = wildcard_prefix(text)
    try:
        return version_key(text if stem is None else stem, scheme)
    except InvalidVersionError:
        if scheme is _V.GENERIC:
            raise
        return version_key(text if stem is None else stem, _V.GENERIC)


def readable_scheme(scheme: VersionScheme, values: Iterable[str | None]) -> VersionScheme:
    """The declared scheme when it reads every bound of a range, else generic when generic
    reads them all: a CNA's ``versionType: semver`` on Junos "22.4R3-S3" or Checkmk
    "2.1.0p41" (a release's own patch levels, after it, which semver would sort before it)
    is compared as generic, the way every bound of the range is then ordered alike."""
    if scheme is _V.GENERIC:
        return scheme
    texts = [_stem(v) for v in values if v and is_version(v)]
    if all(is_valid(t, scheme) for t in texts if t):
        return scheme
    return _V.GENERIC if all(is_valid(t, _V.GENERIC) for t in texts if t) else scheme


def _stem(text: str) -> str:
    stem = wildcard_prefix(text)
    return (text if stem is None else stem).strip()


def is_version(text: str) -> bool:
    """A bound that can be compared: has a digit, is not a URL or a placeholder."""
    return (
        any(c.isdigit() for c in text)
        and "://" not in text
        and len(text) <= 128
        and text.lower() not in SILENT
    )


def default_range(statements: Iterable[Statement]) -> VersionRange:
    """What ``defaultStatus: affected`` adds for one product (see the module docstring):
    the versions below the lowest stated upper bound of its affected ranges, or every
    version when no affected range has an upper bound."""
    lowest: tuple[VersionKey, VersionRange] | None = None
    for said in statements:
        for rng in said.affected:
            bound = rng.fixed or rng.last_affected
            if bound is None or rng.all_versions:
                continue
            try:
                key = _key(bound, rng.scheme)
            except InvalidVersionError:
                continue
            if lowest is None or _less(key, lowest[0]):
                lowest = (key, rng)
    if lowest is None:
        return VersionRange(all_versions=True, text="defaultStatus: affected")
    rng = lowest[1]
    if rng.fixed:
        text = f"defaultStatus: affected, below the first stated fix {rng.fixed}"
        return VersionRange(fixed=rng.fixed, scheme=rng.scheme, text=text)
    text = f"defaultStatus: affected, up to {rng.last_affected}"
    return VersionRange(last_affected=rng.last_affected, scheme=rng.scheme, text=text)


def _less(a: VersionKey, b: VersionKey) -> bool:
    try:
        return a < b
    except TypeError:  # keys of two schemes
        return False
