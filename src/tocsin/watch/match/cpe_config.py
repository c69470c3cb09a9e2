"""Sets of CPE names and NVD applicability statements (configurations).

:class:`CpeSet` indexes the CPEs of an asset or of a whole establishment by vendor and
product. :func:`evaluate_configuration` decides whether an NVD configuration (nodes of
``cpeMatch`` criteria joined by AND/OR, ``negate``, platform criteria satisfied by any CPE
of the establishment) applies to an asset, criterion by criterion through
:func:`tocsin.watch.match.cpe.criterion_matches`; unknown versions make the answer
uncertain rather than false (docs/matching-versions.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from tocsin.model.advisory import CpeConfiguration, CpeMatch, CpeNode
from tocsin.watch.match.cpe import (
    ANY,
    NA,
    Cpe,
    InvalidCpeError,
    criterion_test,
    describe_criterion,
    is_wildcard,
    parse_cpe,
    vendor_product,
)

__all__ = [
    "CpeSet",
    "MatchResult",
    "configuration_products",
    "evaluate_configuration",
    "evaluate_configurations",
]


@lru_cache(maxsize=1 << 16)
def _plain_name(crit: Cpe) -> bool:
    return all(v not in (ANY, NA) and not is_wildcard(v) for v in (crit.vendor, crit.product))


class CpeSet:
    """Parsed CPEs indexed by vendor and product; unreadable ones are kept in ``invalid``.

    Build one per asset and one per establishment (for platform entries) and reuse them.
    """

    def __init__(self, cpes: Iterable[str]) -> None:
        self.names: list[tuple[str, Cpe]] = []
        self.invalid: list[str] = []
        self._index: dict[tuple[str, str], list[tuple[str, Cpe]]] = {}
        for text in cpes:
            try:
                cpe = parse_cpe(text)
            except InvalidCpeError:
                self.invalid.append(text)
                continue
            self.names.append((text, cpe))
            self._index.setdefault((cpe.vendor, cpe.product), []).append((text, cpe))

    def candidates(self, crit: Cpe) -> Iterable[tuple[str, Cpe]]:
        """The names that may match ``crit`` (all of them when it has wildcards)."""
        if _plain_name(crit):
            return self._index.get((crit.vendor, crit.product), ())
        return self.names

    def __iter__(self) -> Iterator[str]:
        return (text for text, _ in self.names)

    def __len__(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class MatchResult:
    """Why a configuration applies to an asset.

    ``certain`` is False when names agree but a version could not be decided (unknown
    asset version, unreadable version, a '-' criterion): callers lower their confidence.
    """

    criterion: CpeMatch
    asset_cpe: str
    certain: bool
    evidence: str
    platform_cpe: str | None = None


@dataclass(frozen=True)
class _Hit:
    match: CpeMatch
    cpe: str
    value: bool | None


def _combine(operator: str, values: list[bool | None]) -> bool | None:
    """Kleene AND/OR; None is "unknown". An empty node is false."""
    if operator.upper() == "AND":
        if not values or False in values:
            return False
        return True if all(values) else None
    return True if True in values else None if None in values else False


def _negate(value: bool | None) -> bool | None:
    return None if value is None else not value


class _Evaluation:
    def __init__(self, assets: CpeSet, version: str | None, platforms: CpeSet | None) -> None:
        self.assets, self.version, self.platforms = assets, version, platforms

    def test(self, match: CpeMatch) -> tuple[bool | None, _Hit | None]:
        try:
            crit = parse_cpe(match.criteria)
        except InvalidCpeError:
            return False, None
        pools: list[tuple[CpeSet, str | None]] = [(self.assets, self.version)]
        if not match.vulnerable and self.platforms is not None:
            pools.append((self.platforms, None))
        found: _Hit | None = None
        for pool, version in pools:
            for text, target in pool.candidates(crit):
                value = criterion_test(match, crit, target, version)
                if value is True:
                    return True, _Hit(match, text, True)
                if value is None and found is None:
                    found = _Hit(match, text, None)
        return (None, found) if found else (False, None)

    def node(self, node: CpeNode) -> tuple[bool | None, list[_Hit]]:
        values: list[bool | None] = []
        hits: list[_Hit] = []
        for match in node.matches:
            value, hit = self.test(match)
            values.append(value)
            if hit is not None:
                hits.append(hit)
        value = _combine(node.operator, values)
        if node.negate:  # what a negated node matched is never evidence
            return _negate(value), []
        if value is True and node.operator.upper() != "AND":
            hits = [hit for hit in hits if hit.value is True]
        return value, hits if value is not False else []


def _as_set(cpes: Iterable[str] | CpeSet) -> CpeSet:
    return cpes if isinstance(cpes, CpeSet) else CpeSet(cpes)


def evaluate_configuration(
    config: CpeConfiguration,
    asset_cpes: Iterable[str] | CpeSet,
    asset_version: str | None = None,
    *,
    platform_cpes: Iterable[str] | CpeSet | None = None,
) -> MatchResult | None:
    """Whether an NVD configuration makes the asset vulnerable, and why.

    Vulnerable entries must match one of ``asset_cpes`` (``asset_version`` replaces a '*'
    version there). Platform entries (``vulnerable=false``) may be satisfied by the asset or
    by anything in ``platform_cpes`` — pass every CPE of the establishment for "running
    on/with" configurations. AND/OR and ``negate`` follow three-valued logic, where unknown
    means "the names match but a version could not be decided". Returns None when the
    configuration does not apply or no vulnerable entry matched the asset.
    """
    ev = _Evaluation(
        _as_set(asset_cpes),
        asset_version,
        None if platform_cpes is None else _as_set(platform_cpes),
    )
    values: list[bool | None] = []
    hits: list[_Hit] = []
    for node in config.nodes:
        value, node_hits = ev.node(node)
        values.append(value)
        hits.extend(node_hits)
    value = _combine(config.operator, values)
    if config.negate:
        value, hits = _negate(value), []
    vulnerable = [hit for hit in hits if hit.match.vulnerable]
    if value is False or not vulnerable:
        return None
    best = next((hit for hit in vulnerable if hit.value is True), vulnerable[0])
    platform = next((h for h in hits if not h.match.vulnerable and h.value is True), None)
    evidence = f"{describe_criterion(best.match)} matched {best.cpe}"
    if asset_version and parse_cpe(best.cpe).version == ANY:
        evidence += f" (inventory version {asset_version})"
    if platform is not None:
        evidence += f"; with {platform.cpe}"
    certain = value is True and best.value is True
    if not certain:
        evidence += "; version undecided"
    return MatchResult(
        criterion=best.match,
        asset_cpe=best.cpe,
        certain=certain,
        evidence=evidence,
        platform_cpe=None if platform is None else platform.cpe,
    )


def evaluate_configurations(
    configs: Iterable[CpeConfiguration],
    asset_cpes: Iterable[str] | CpeSet,
    asset_version: str | None = None,
    *,
    platform_cpes: Iterable[str] | CpeSet | None = None,
) -> MatchResult | None:
    """The first certain result over an advisory's configurations, else the first uncertain."""
    assets = _as_set(asset_cpes)
    platforms = None if platform_cpes is None else _as_set(platform_cpes)
    fallback: MatchResult | None = None
    for config in configs:
        result = evaluate_configuration(config, assets, asset_version, platform_cpes=platforms)
        if result is not None and result.certain:
            return result
        fallback = fallback or result
    return fallback


def configuration_products(config: CpeConfiguration) -> frozenset[tuple[str, str]]:
    """(vendor, product) of every vulnerable criterion, to index advisories by name."""
    keys: set[tuple[str, str]] = set()
    for node in config.nodes:
        for match in node.matches:
            if match.vulnerable:
                try:
                    keys.add(vendor_product(match.criteria))
                except InvalidCpeError:
                    continue
    return frozenset(keys)
