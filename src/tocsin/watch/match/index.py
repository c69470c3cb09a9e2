"""The inventory, indexed once for any number of advisories.

Assets that look the same to an advisory (same vendor, product, version, CPE and purl: the
2,000 workstations of one Windows build) form one *profile*, matched once. Profiles are
indexed by the keys advisories are looked up with: name form keys (:mod:`.names`), the CPE
vendor/product of their own or synthetic CPE (for NVD configurations), their own CPE's (for
the CPEs of affected entries) and their package (purl).

Profiles that names cannot tell apart (same vendor and name forms, other versions: the 30
Linux kernel versions of an inventory) form a *group*: the name guards are decided once
per group (:class:`~tocsin.watch.match.engine.Matcher`), and the group's versions are kept
sorted by their generic key (:class:`GroupVersions`), so that the generic ranges of an
entry find the versions they hold by bisection instead of one comparison per profile.
Pure: no I/O.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from tocsin.errors import InputError
from tocsin.model.advisory import VersionRange
from tocsin.model.inventory import Asset
from tocsin.watch.match.cpe import ANY, Cpe, cpe_from_parts, literal
from tocsin.watch.match.cpe_config import CpeSet
from tocsin.watch.match.evidence import Profile, cpe_or_none
from tocsin.watch.match.names import NameResolver
from tocsin.watch.match.purl import PurlKey, purl_key
from tocsin.watch.match.versions import (
    KeySpan,
    Point,
    RangeSet,
    RangeTest,
    Segments,
    SpanBounds,
    VersionKey,
    generic_key,
)

__all__ = ["GroupVersions", "InventoryIndex"]


class InventoryIndex:
    """The inventory, indexed for advisories: profiles by product key, CPE and purl."""

    def __init__(self, assets: Iterable[Asset], resolver: NameResolver) -> None:
        self.profiles: list[Profile] = []
        self.by_product: dict[str, list[int]] = {}
        self.by_cpe: dict[tuple[str, str], list[int]] = {}
        self.by_own_cpe: dict[tuple[str, str], list[int]] = {}
        self.by_purl: dict[PurlKey, list[int]] = {}
        self._cpe_sets: dict[str | None, CpeSet] = {}
        seen: dict[tuple[object, ...], int] = {}
        for asset in assets:
            if asset.vendor_key is None and asset.product_key is None:
                asset = resolver.aliases.normalise(asset)
            own = cpe_or_none(asset.cpe)
            version = asset.version.strip() if asset.version and asset.version.strip() else None
            if version is None and own is not None and own.version not in (ANY, "-"):
                version = literal(own.version)
            key = (asset.vendor_key, asset.product_key, version, asset.cpe, asset.purl)
            if key not in seen:
                seen[key] = self._add(asset, own, version)
            profile = self.profiles[seen[key]]
            profile.assets.append(asset)
            forms = resolver.asset_forms(asset.vendor_key, asset.product, asset.product_key)
            for form in forms:
                if form.key not in profile.forms:
                    profile.forms[form.key] = form
                    self.by_product.setdefault(form.key, []).append(seen[key])
        self.groups = self._group()
        self.versions = [GroupVersions.of(pids, self.profiles) for pids in self.members]
        self._platforms: CpeSet | None = None

    @property
    def platforms(self) -> CpeSet:
        """Every CPE of the establishment (for NVD platform criteria), built when needed."""
        if self._platforms is None:
            self._platforms = CpeSet(text for p in self.profiles for text in p.cpes)
        return self._platforms

    def _group(self) -> dict[str, list[tuple[int, list[int]]]]:
        """``by_product`` with the profiles of each key in groups that names cannot tell
        apart (same vendor and name forms, other versions): a name is met once per group."""
        ids: dict[tuple[object, ...], int] = {}
        self.members: list[list[int]] = []
        group_of: dict[int, int] = {}
        for pid, profile in enumerate(self.profiles):
            if profile.forms:
                mark = (profile.vendor, *profile.forms.values())
                gid = group_of[pid] = ids.setdefault(mark, len(ids))
                if gid == len(self.members):
                    self.members.append([])
                self.members[gid].append(pid)
        grouped: dict[str, dict[int, list[int]]] = {}
        for key, pids in self.by_product.items():
            for pid in pids:
                grouped.setdefault(key, {}).setdefault(group_of[pid], []).append(pid)
        return {key: list(groups.items()) for key, groups in grouped.items()}

    def _add(self, asset: Asset, own: Cpe | None, version: str | None) -> int:
        pid = len(self.profiles)
        cpe_text = asset.cpe.strip() if own is not None and asset.cpe else None
        synthetic = own is None and bool(asset.vendor_key and asset.product_key)
        text: str | None = cpe_text
        if text is None and synthetic and asset.vendor_key and asset.product_key:
            text = _synthetic_cpe(asset.vendor_key, asset.product_key)
        purl = asset.purl.strip() if asset.purl and asset.purl.strip() else None
        cpes = self._cpe_sets.get(text)
        if cpes is None:  # shared by the profiles of one product (read-only)
            cpes = self._cpe_sets[text] = CpeSet(() if text is None else (text,))
        profile = Profile(
            asset.vendor_key, asset.product_key, version, own, cpe_text, purl, cpes, synthetic
        )
        self.profiles.append(profile)
        for _, cpe in cpes.names:
            self.by_cpe.setdefault((literal(cpe.vendor), literal(cpe.product)), []).append(pid)
        if own is not None:
            self.by_own_cpe.setdefault((literal(own.vendor), literal(own.product)), []).append(pid)
        if purl is not None:
            try:
                self.by_purl.setdefault(purl_key(purl), []).append(pid)
            except InputError:
                pass
        return pid


@lru_cache(maxsize=1 << 14)
def _synthetic_cpe(vendor_key: str, product_key: str) -> str:
    """The CPE built from an asset's keys, for NVD configurations (once per product)."""
    return cpe_from_parts(ANY, vendor_key, product_key)


@dataclass(frozen=True, slots=True)
class GroupVersions:
    """The profiles of a group: those with a generic version key sorted by it, the others
    (no version, or one generic cannot read) apart."""

    keys: tuple[VersionKey, ...]
    pids: tuple[int, ...]
    texts: tuple[str, ...]  # the versions as written
    others: tuple[int, ...]
    points: tuple[Point, ...]  # the keys as points of RangeSet.segments: (key, 1)

    @classmethod
    def of(cls, pids: Sequence[int], profiles: Sequence[Profile]) -> GroupVersions:
        keyed: list[tuple[VersionKey, int, str]] = []
        others: list[int] = []
        for pid in pids:
            version = profiles[pid].version
            # A version with an epoch ("1:2.3") is read one by one (see KeySpan).
            key = generic_key(version) if version is not None and ":" not in version else None
            if key is None or version is None:
                others.append(pid)
            else:
                keyed.append((key, pid, version))
        keyed.sort(key=lambda item: item[0])  # stable: equal keys keep the profiles' order
        return cls(
            tuple(k for k, _, _ in keyed),
            tuple(p for _, p, _ in keyed),
            tuple(v for _, _, v in keyed),
            tuple(others),
            tuple((k, 1) for k, _, _ in keyed),
        )

    def blocks(
        self, ranges: RangeSet
    ) -> tuple[list[tuple[VersionRange, Sequence[int]]], Sequence[int]] | None:
        """What :meth:`held` says, by blocks, when every range is plain generic: each range
        with the keyed profiles it is the first to hold (ranges without any left out), and
        the profiles no range holds. Each range costs a bisection and slices of the sorted
        versions, whatever the number of profiles; None when a range must read the
        versions one by one. A group with fewer versions than ranges looks each version
        up in the ranges' segments (one bisection per version) instead."""
        bounds = ranges.bounds
        if bounds is None:
            return None
        if len(self.keys) <= len(bounds) and ranges.segments is not None:
            return self._blocks_by_version(bounds, ranges.segments)
        return self._blocks_by_range(bounds)

    def _blocks_by_range(
        self, bounds: tuple[SpanBounds, ...]
    ) -> tuple[list[tuple[VersionRange, Sequence[int]]], Sequence[int]]:
        keys, pids = self.keys, self.pids
        size = len(keys)
        taken = bytearray(size)  # 1: held by an earlier range
        found: list[tuple[VersionRange, Sequence[int]]] = []
        for rng, low, low_exclusive, below, up_to in bounds:  # _bisect, inline (hot)
            if low is None:
                lo = 0
            else:
                lo = (bisect_right if low_exclusive else bisect_left)(keys, low)
            hi = size if below is None else bisect_left(keys, below)
            if up_to is not None:
                hi = min(hi, bisect_right(keys, up_to))
            if lo >= hi:
                continue
            part = taken[lo:hi]
            if not any(part):  # none taken yet: the whole slice
                found.append((rng, pids[lo:hi]))
            elif 0 in part:
                found.append((rng, [pids[i] for i in range(lo, hi) if not taken[i]]))
            else:
                continue
            taken[lo:hi] = b"\x01" * (hi - lo)
        if not found:
            return found, pids
        rest = [pid for pid, held in zip(pids, taken, strict=True) if not held]
        return found, rest

    def _blocks_by_version(
        self, bounds: tuple[SpanBounds, ...], segments: Segments
    ) -> tuple[list[tuple[VersionRange, Sequence[int]]], Sequence[int]]:
        cuts, first = segments
        pids = self.pids
        held: dict[int, list[int]] = {}
        rest: list[int] = []
        for pid, point in zip(pids, self.points, strict=True):
            rank = first[bisect_right(cuts, point)]
            if rank < 0:
                rest.append(pid)
            elif rank in held:
                held[rank].append(pid)
            else:
                held[rank] = [pid]
        if not held:
            return [], pids
        return [(bounds[rank][0], held[rank]) for rank in sorted(held)], rest

    def held(self, ranges: RangeSet) -> tuple[dict[int, VersionRange], set[int]]:
        """Which keyed profiles the ranges hold, each with the first range that holds it,
        and those some range cannot decide (unreadable in its scheme); the others are in no
        range. Plain generic ranges are bisected; the others (another scheme, a series, a
        build) read the versions one by one."""
        found: dict[int, VersionRange] = {}
        unknown: set[int] = set()
        keys, pids = self.keys, self.pids
        for test in ranges.tests:
            span = test.plain
            if test.always:
                lo, hi = 0, len(keys)
            elif span is None:
                self._one_by_one(test, found, unknown)
                continue
            else:
                lo, hi = _bisect(keys, span)
            rng = test.rng
            if found:  # the first range that holds a version is its evidence
                for pid in pids[lo:hi]:
                    if pid not in found:
                        found[pid] = rng
            elif lo < hi:
                found.update(dict.fromkeys(pids[lo:hi], rng))
        return found, unknown

    def _one_by_one(
        self, test: RangeTest, found: dict[int, VersionRange], unknown: set[int]
    ) -> None:
        for pid, version in zip(self.pids, self.texts, strict=True):
            if pid not in found:
                inside = test.contains(version)
                if inside is True:
                    found[pid] = test.rng
                elif inside is None:
                    unknown.add(pid)


def _bisect(keys: Sequence[VersionKey], span: KeySpan) -> tuple[int, int]:
    """The slice of sorted ``keys`` that ``span`` holds."""
    lo, hi = 0, len(keys)
    if span.low is not None:
        bisect = bisect_right if span.low_exclusive else bisect_left
        lo = bisect(keys, span.low)
    if span.below is not None:
        hi = bisect_left(keys, span.below)
    if span.up_to is not None:
        hi = min(hi, bisect_right(keys, span.up_to))
    return lo, hi
