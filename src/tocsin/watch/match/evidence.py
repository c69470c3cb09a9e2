"""Evidence: what one statement of an advisory says about one asset profile.

Each function reads one kind of statement (an NVD configuration, a CPE or a purl of an
affected product, a vendor/product name with version ranges) against a :class:`Profile` and
returns an :data:`Outcome`: a :class:`Hit` (decided, or name-only when the version cannot be
decided), False when the statement says the asset's version is not affected, or None when
it says nothing about the asset. Confidences are in :data:`CONFIDENCE` (docs/matching.md).
Pure functions, used by :mod:`tocsin.watch.match.engine`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from functools import lru_cache

from tocsin.errors import InputError
from tocsin.model.advisory import (
    AffectedProduct,
    CpeConfiguration,
    CpeMatch,
    CpeNode,
    VersionRange,
    VersionScheme,
)
from tocsin.model.finding import MatchKind
from tocsin.model.inventory import Asset
from tocsin.watch.match.cpe import (
    ANY,
    Cpe,
    criterion_matches,
    describe_criterion,
    literal,
    parse_cpe,
)
from tocsin.watch.match.cpe_config import CpeSet, MatchResult
from tocsin.watch.match.freetext import CONFIDENCE_MISSING_PATCH
from tocsin.watch.match.freetext_grammar import MISSING_PATCH, fold, normalise
from tocsin.watch.match.names import NameForm, is_distinctive, is_generic
from tocsin.watch.match.purl import purl_affected
from tocsin.watch.match.versions import (
    RangeSet,
    VersionKey,
    describe_range,
    in_range,
    key_of,
    matches_prefix,
    wildcard_prefix,
)

__all__ = [
    "CONFIDENCE",
    "Hit",
    "Outcome",
    "Profile",
    "config_hit",
    "cpe_names",
    "cpe_or_none",
    "entry_cpe_outcome",
    "name_outcome",
    "plain",
    "release_fits",
    "purl_outcome",
    "range_hit",
    "versions_ruled_out",
    "vulnerable_products",
    "without_wildcards",
]

CONFIDENCE = {
    "cpe": 1.0,  # the asset's CPE carries its version
    "cpe_inventory_version": 0.95,  # the asset's CPE has no version: the inventory's is used
    "purl": 0.95,
    "name_vendor": 0.9,  # name+version, both sides name the same vendor
    "name": 0.85,  # name+version, one side names no vendor
    "undecided_identifier": 0.5,  # a CPE or purl matched, the version is undecided
    "undecided_vendor": 0.45,
    "undecided": 0.4,
}
# A release named on one side only ("Windows 11 Version 24H2" for a "Windows 11 Pro" asset)
# that the asset's version cannot confirm: the name may be another release.
RELEASE_UNCONFIRMED = 0.8


_RANK = {kind: kind.rank for kind in MatchKind}


@dataclass(slots=True, eq=False)  # never changed once made; not frozen: made by the million
class Hit:
    """Why one advisory applies to one asset profile.

    A name match keeps its ``entry``, ``rng`` and ``version``: its evidence and fixed version
    are written only for the hits that win (an advisory may test thousands of profiles).
    """

    kind: MatchKind
    confidence: float
    note: str  # the evidence; for a name match, why the version is undecided
    fixed_version: str | None = None
    entry: AffectedProduct | None = None
    rng: VersionRange | None = None
    version: str | None = None
    # The entry's phrase for ``rng``, written once for all the profiles the hit is shared by.
    phrase: str | None = field(default=None, init=False, repr=False)

    @property
    def evidence(self) -> str:
        return self._evidence(self.version)

    @property
    def fixed(self) -> str | None:
        return self._fixed(self.version)

    def _evidence(self, version: str | None) -> str:
        if self.entry is None:
            return self.note
        if self.rng is not None:
            if self.phrase is None:
                self.phrase = _phrase(self.entry, self.rng)
            return _with_version(self.phrase, version)
        return f"{_phrase(self.entry, None)}; name only: {self.note}"

    def _fixed(self, version: str | None) -> str | None:
        if self.entry is None:
            return self.fixed_version
        return _fixed(self.rng, self.entry, version)

    def settled(self, version: str | None = None) -> Hit:
        """The same hit with its evidence and fixed version written out. ``version`` is the
        inventory version of a hit shared by the profiles of one range (made without it)."""
        if self.entry is None:
            return self
        return Hit(self.kind, self.confidence, *self.written(version))

    def written(self, version: str | None = None) -> tuple[str, str | None]:
        """The evidence and the fixed version, written out (``version``: as :meth:`settled`)."""
        if self.entry is None:
            return self.note, self.fixed_version
        if self.version is not None:
            version = self.version
        return self._evidence(version), self._fixed(version)

    def beats(self, other: Hit | None) -> bool:
        if other is None:
            return True
        mine, theirs = _RANK[self.kind], _RANK[other.kind]
        return mine > theirs or (mine == theirs and self.confidence > other.confidence)


@dataclass
class Profile:
    """Assets that every advisory sees alike; ``forms`` are the name forms they are indexed
    under, by key (:mod:`tocsin.watch.match.names`)."""

    vendor: str | None
    product: str | None
    version: str | None
    cpe: Cpe | None  # the assets' own CPE
    cpe_text: str | None
    purl: str | None
    cpes: CpeSet  # the own CPE, or one built from the keys (``synthetic``)
    synthetic: bool
    assets: list[Asset] = field(default_factory=list)
    forms: dict[str, NameForm] = field(default_factory=dict)

    @property
    def cpe_versioned(self) -> bool:
        return self.cpe is not None and self.cpe.version not in (ANY, "-")


def cpe_or_none(text: str | None) -> Cpe | None:
    if not text or not text.strip():
        return None
    try:
        return parse_cpe(text)
    except InputError:
        return None


def plain(value: str) -> bool:
    """A vendor or product value that names one thing (no '*', '?' or '-')."""
    return value not in (ANY, "-") and "*" not in value and "?" not in value


@lru_cache(maxsize=1 << 16)
def cpe_names(text: str) -> tuple[str, str] | None:
    """The plain (vendor, product) of a CPE name, or None when either is a wildcard or the
    name is unreadable. Cheap: most names are split without a full parse."""
    parts = text.strip().split(":")
    if "\\" not in text and len(parts) == 13 and parts[0].lower() == "cpe" and parts[1] == "2.3":
        vendor, product = parts[3].lower(), parts[4].lower()
    else:
        cpe = cpe_or_none(text)
        if cpe is None:
            return None
        vendor, product = literal(cpe.vendor), literal(cpe.product)
    return (vendor, product) if plain(vendor) and plain(product) else None


# --- version statements ----------------------------------------------------------------------


@lru_cache(maxsize=1 << 14)
def _says_missing_patch(text: str) -> bool:
    return MISSING_PATCH.search(fold(normalise(text)[0])) is not None


def _range_factor(rng: VersionRange, entry: AffectedProduct) -> float:
    """The free-text factor: "sans les derniers correctifs" lists versions as affected
    ("toutes versions", or "version 8.4") though a patched install of them is not."""
    return _texts_factor(rng.text, entry.text)


@lru_cache(maxsize=1 << 14)
def _texts_factor(*texts: str | None) -> float:
    for text in texts:
        if text and _says_missing_patch(text):
            return CONFIDENCE_MISSING_PATCH
    return 1.0


_DOTTED = re.compile(r"^\d+(?:\.\d+)+$")
_LEADING_NUMBERS = re.compile(r"\d+(?:\.\d+)*")


def _numbers(version: str) -> tuple[int, ...]:
    found = _LEADING_NUMBERS.match(version.strip().lstrip("vV"))
    return tuple(int(part) for part in found.group(0).split(".")) if found else ()


def _branch_fits(rng: VersionRange, version: str) -> bool | None:
    """Whether the version is on the branch of the range's bound: every component but the
    last (10.0.22631.x for "< 10.0.22631.4037", 15.2.1544.x for "< 15.02.1544.039")."""
    bound = rng.fixed or rng.last_affected or rng.exact
    if not bound or wildcard_prefix(bound) is not None:
        return None
    want, have = _numbers(bound), _numbers(version)
    if len(want) < 3 or len(have) < len(want) - 1:
        return None
    return have[: len(want) - 1] == want[:-1]


def release_fits(
    release: str, ranges: tuple[VersionRange, ...], version: str | None
) -> bool | None:
    """Whether the asset's version shows it is on ``release``, named by one side only:
    a dotted release ("4.14") confirms a version of its series (vendors also number
    releases apart from builds: "WS_FTP Server 2022.0.2" is 8.8.2, so another version is
    not a refusal); another ("24H2", "CU14") is shown by the branch of the stated fixes.
    None when the version cannot tell."""
    if version is None:
        return None
    if _DOTTED.match(release):  # "WS_FTP Server 2022.0.2" is build 8.8.2: not a refusal
        return True if matches_prefix(version, release) else None
    verdicts = [_branch_fits(rng, version) for rng in ranges]
    if True in verdicts:
        return True
    return False if verdicts and all(v is False for v in verdicts) else None


def _fixed(rng: VersionRange | None, entry: AffectedProduct, version: str | None) -> str | None:
    """The first version that is not affected: the range's end, else the lowest of the
    entry's fixed versions above the asset's (the first stated when they cannot be
    compared, or none is above)."""
    if rng is not None and rng.fixed and wildcard_prefix(rng.fixed) is None:
        return rng.fixed
    candidates = entry.fixed_versions
    if not candidates:
        return None
    if version is None or len(candidates) == 1:
        return candidates[0]
    scheme = rng.scheme if rng is not None else VersionScheme.GENERIC
    ordered = _ordered_fixes(candidates, scheme)
    key = key_of(version, scheme)
    if ordered is None or key is None:
        return candidates[0]
    keys, texts = ordered
    above = bisect_right(keys, key)
    return texts[above] if above < len(texts) else candidates[0]


@lru_cache(maxsize=1 << 14)
def _ordered_fixes(
    fixes: tuple[str, ...], scheme: VersionScheme
) -> tuple[list[VersionKey], list[str]] | None:
    """An entry's fixed versions sorted (stable), with their keys; None if one is unreadable."""
    keyed: list[tuple[VersionKey, str]] = []
    for text in fixes:
        key = key_of(text, scheme)
        if key is None:
            return None
        keyed.append((key, text))
    keyed.sort(key=lambda pair: pair[0])
    return [k for k, _ in keyed], [t for _, t in keyed]


@lru_cache(maxsize=1 << 12)
def _range_set(ranges: tuple[VersionRange, ...]) -> RangeSet:
    """The ranges of an entry compiled (a prepared corpus passes its own, compiled once)."""
    return RangeSet.of(ranges)


def _ranges_outcome(
    entry: AffectedProduct, version: str | None, ranges: RangeSet | None = None
) -> tuple[bool | None, VersionRange | None, str]:
    """(in a range?, the range that decided, why undecided)."""
    if not entry.ranges:
        return None, None, "no version stated"
    return (ranges or _range_set(entry.ranges)).decide(version)


def _phrase(entry: AffectedProduct, rng: VersionRange | None) -> str:
    if entry.text:
        return entry.text
    name = " ".join(part for part in (entry.vendor, entry.product) if part)
    if rng is None:
        return name
    return f"{name}: {rng.text or describe_range(rng)}"


# --- evidence of each kind -------------------------------------------------------------------

Outcome = Hit | bool | None
"""A statement about one profile: a Hit (decided or name-only), False (not affected), or
None (says nothing about it)."""


def _undecided(evidence: str, confidence: float, fixed: str | None = None) -> Hit:
    return Hit(MatchKind.NAME_ONLY, confidence, evidence, fixed)


def _with_version(text: str, version: str | None) -> str:
    return text if version is None else f"{text} (inventory version {version})"


def config_hit(result: MatchResult, profile: Profile) -> Hit:
    fixed = result.criterion.version_end_excluding
    if not profile.synthetic:
        if not result.certain:
            return _undecided(result.evidence, CONFIDENCE["undecided_identifier"], fixed)
        level = "cpe" if profile.cpe_versioned else "cpe_inventory_version"
        return Hit(MatchKind.CPE, CONFIDENCE[level], result.evidence, fixed)
    name = f"inventory name {profile.vendor}:{profile.product}"
    evidence = f"{describe_criterion(result.criterion)} matched {name}"
    evidence = _with_version(evidence, profile.version)
    if result.platform_cpe:
        evidence += f"; with {result.platform_cpe}"
    if not result.certain:
        return _undecided(evidence + "; version undecided", CONFIDENCE["undecided_vendor"], fixed)
    return Hit(MatchKind.NAME_VERSION, CONFIDENCE["name_vendor"], evidence, fixed)


def _wild_criterion(match: CpeMatch) -> bool:
    cpe = cpe_or_none(match.criteria)
    return cpe is None or not (plain(cpe.vendor) and plain(cpe.product))


def without_wildcards(configs: tuple[CpeConfiguration, ...]) -> tuple[CpeConfiguration, ...]:
    """The configurations without vulnerable criteria naming any vendor or product ('*')."""
    if not any(
        m.vulnerable and _wild_criterion(m) for c in configs for n in c.nodes for m in n.matches
    ):
        return configs
    return tuple(
        replace(config, nodes=tuple(_plain_node(node) for node in config.nodes))
        for config in configs
    )


def _plain_node(node: CpeNode) -> CpeNode:
    kept = tuple(m for m in node.matches if not (m.vulnerable and _wild_criterion(m)))
    return node if len(kept) == len(node.matches) else replace(node, matches=kept)


def versions_ruled_out(configs: tuple[CpeConfiguration, ...], profile: Profile) -> bool:
    """Whether no vulnerable criterion accepts the profile, platforms and AND/negate aside:
    then a configuration that does not apply says the version is not affected. When some
    criterion accepts it and the configuration still fails (a platform missing from the
    inventory), the configuration says nothing about the asset."""
    for config in configs:
        for node in config.nodes:
            for m in node.matches:
                if m.vulnerable and any(
                    criterion_matches(m, target, profile.version) is not False
                    for _, target in profile.cpes.names
                ):
                    return False
    return True


def vulnerable_products(configs: tuple[CpeConfiguration, ...]) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for config in configs:
        for node in config.nodes:
            for m in node.matches:
                cpe = cpe_or_none(m.criteria) if m.vulnerable else None
                if cpe is not None and plain(cpe.vendor) and plain(cpe.product):
                    keys.add((literal(cpe.vendor), literal(cpe.product)))
    return keys


def name_outcome(
    entry: AffectedProduct,
    key: str,
    agreement: bool | None,
    profile: Profile,
    release: str | None = None,
    factor: float = 1.0,
    needs_version: bool = False,
    ranges: RangeSet | None = None,
) -> Outcome:
    """The entry's ranges against the profile's version, under the collision guards.

    ``release`` is a release only one side names: an entry about another release says
    nothing about the asset, and one the version cannot confirm counts less
    (:data:`RELEASE_UNCONFIRMED`). ``factor`` is the name's own (a described product).
    With ``needs_version`` (a family name met by one of its models) an entry whose
    versions cannot decide says nothing: "Microsoft Windows" in KEV is not a review item
    for every Windows release of the inventory."""
    if agreement is None and is_generic(key):
        return None
    version = profile.version
    inside, rng, why = _ranges_outcome(entry, version, ranges)
    if release is not None:
        fits = release_fits(release, (rng,) if rng is not None else entry.ranges, version)
        if fits is False:
            return None
        if fits is None:
            factor *= RELEASE_UNCONFIRMED
    if inside is False:
        return False
    if inside is True and rng is not None:
        return range_hit(entry, rng, version, agreement, factor)
    if needs_version or (agreement is None and not is_distinctive(key)):
        return None
    confidence = CONFIDENCE["undecided_vendor" if agreement else "undecided"]
    if factor != 1.0:
        confidence = round(confidence * factor, 3)
    return Hit(MatchKind.NAME_ONLY, confidence, why, None, entry, None, version)


def range_hit(
    entry: AffectedProduct,
    rng: VersionRange,
    version: str | None,
    agreement: bool | None,
    factor: float = 1.0,
) -> Hit:
    """The name+version evidence of an entry whose range ``rng`` holds the version."""
    confidence = CONFIDENCE["name_vendor" if agreement else "name"]
    factor *= _range_factor(rng, entry)
    if factor != 1.0:
        confidence = round(confidence * factor, 3)
    return Hit(MatchKind.NAME_VERSION, confidence, "", None, entry, rng, version)


def entry_cpe_outcome(
    entry: AffectedProduct,
    text: str,
    crit: Cpe,
    profile: Profile,
    ranges: RangeSet | None = None,
) -> Outcome:
    """One CPE of an affected entry (CVE 5, CISA ADP, CSAF) against the asset's own CPE.

    When the entry also states versions, they govern and the CPE only names the product:
    Microsoft writes the fixed build in its CPE next to "lessThan" that build, CISA's ADP
    writes '-' next to its ranges."""
    assert profile.cpe is not None and profile.cpe_text is not None
    if entry.ranges and crit.version != ANY:
        crit = crit._replace(version=ANY, update=ANY)
    value = criterion_matches(CpeMatch(str(crit)), profile.cpe, profile.version)
    if value is False:
        return False
    level = "cpe" if profile.cpe_versioned else "cpe_inventory_version"
    matched = f"{text} matched {profile.cpe_text}"
    if crit.version != ANY or value is None:
        if value is None:
            return _undecided(matched + "; version undecided", CONFIDENCE["undecided_identifier"])
        return Hit(MatchKind.CPE, CONFIDENCE[level], matched)
    inside, rng, why = _ranges_outcome(entry, profile.version, ranges)
    if inside is False:
        return False
    if inside is True and rng is not None:
        evidence = f"{text} [{rng.text or describe_range(rng)}] matched {profile.cpe_text}"
        confidence = round(CONFIDENCE[level] * _range_factor(rng, entry), 3)
        return Hit(MatchKind.CPE, confidence, evidence, _fixed(rng, entry, profile.version))
    return _undecided(f"{matched} ({why})", CONFIDENCE["undecided_identifier"])


def purl_outcome(entry: AffectedProduct, package: str, profile: Profile) -> Outcome:
    assert profile.purl is not None
    matched = f"{package} matched {profile.purl}"
    if not entry.ranges:
        return _undecided(matched + " (no version stated)", CONFIDENCE["undecided_identifier"])
    try:
        value = purl_affected(profile.purl, package, entry.ranges)
    except InputError:
        value = None
    if value is False:
        return False
    if value is None:
        return _undecided(matched + " (version undecided)", CONFIDENCE["undecided_identifier"])
    rng = next((r for r in entry.ranges if in_range(profile.version, r)), entry.ranges[0])
    evidence = f"{package} [{rng.text or describe_range(rng)}] matched {profile.purl}"
    return Hit(MatchKind.PURL, CONFIDENCE["purl"], evidence, _fixed(rng, entry, profile.version))
