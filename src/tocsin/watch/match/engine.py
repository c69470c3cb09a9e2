"""The matching engine: which advisories hit which assets, with what evidence.

:func:`match` takes the inventory and the advisories (already parsed, in memory) and returns
one :class:`~tocsin.model.finding.Finding` per (asset, advisory), ranked by the priority
model. Pure: no I/O.

It scales by indexing once. Assets that look the same to an advisory (same vendor, product,
version, CPE and purl: the 2,000 workstations of one Windows build) form one *profile*,
matched once; profiles are indexed by product key, by CPE vendor/product and by purl, so
each advisory only looks at the profiles its products name.

Evidence, strongest first (docs/matching.md has examples):

1. ``cpe``: the advisory's NVD configurations (AND/OR, negate, platforms satisfied by any
   CPE of the establishment) or the CPEs of its affected products (CVE 5 / CISA ADP, with
   their version ranges), against the asset's own CPE;
2. ``purl``: the asset's package URL is the advisory's package at an affected version;
3. ``name+version``: vendor and product names meet (alias table, then the name forms of
   :mod:`tocsin.watch.match.names`: the whole name, its base without editions and release,
   its family and model) and the asset's version is in a stated range — NVD configurations
   count here for assets without a CPE, through a CPE built from their keys;
4. ``name-only``: names agree but the version cannot be decided (no range, unreadable
   range, no inventory version): lower confidence, never dropped.

A statement that the asset's version is *not* affected removes the weaker name-only
evidence of the same advisory, and an ``affected=False`` entry whose range holds the
asset's version removes the finding altogether.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tocsin.errors import InputError
from tocsin.inventory.normalise import AliasTable
from tocsin.model.advisory import Advisory, AffectedProduct, Exploitation
from tocsin.model.finding import Finding, MatchKind
from tocsin.model.inventory import Asset
from tocsin.watch.match.cpe import (
    ANY,
    Cpe,
    CpeSet,
    cpe_from_parts,
    evaluate_configurations,
    literal,
)
from tocsin.watch.match.evidence import (
    CONFIDENCE,
    Hit,
    Outcome,
    Profile,
    config_hit,
    cpe_names,
    cpe_or_none,
    entry_cpe_outcome,
    name_outcome,
    purl_outcome,
    versions_ruled_out,
    vulnerable_products,
    without_wildcards,
)
from tocsin.watch.match.merge import merge_advisories, signals_for
from tocsin.watch.match.names import (
    Kind,
    Meeting,
    NameForm,
    NameResolver,
    ProductName,
    exact_meeting,
    is_distinctive,
    meet,
    vendor_agreement,
    vendors_close,
)
from tocsin.watch.match.purl import PurlKey, purl_key
from tocsin.watch.priority import DEFAULT_POLICY, Priority, PriorityPolicy, Signals, prioritise

__all__ = ["CONFIDENCE", "Hit", "Matcher", "make_finding", "match"]


@dataclass(slots=True)
class _Verdict:
    """What the statements of one advisory say about one profile."""

    hit: Hit | None = None  # the best decided evidence
    maybe: Hit | None = None  # the best undecided (name-only) evidence
    denied: bool = False  # some statement says the version is not affected
    excluded: bool = False  # an affected=False entry holds the version

    def offer(self, outcome: Hit | bool | None) -> None:
        if outcome is False:
            self.denied = True
        elif isinstance(outcome, Hit):
            if outcome.kind is MatchKind.NAME_ONLY:
                if outcome.beats(self.maybe):
                    self.maybe = outcome
            elif outcome.beats(self.hit):
                self.hit = outcome

    def result(self) -> Hit | None:
        if self.excluded:
            return None
        if self.hit is not None:
            return self.hit
        return None if self.denied else self.maybe


class _Index:
    """The inventory, indexed for advisories: profiles by product key, CPE and purl."""

    def __init__(self, assets: Iterable[Asset], resolver: NameResolver) -> None:
        self.profiles: list[Profile] = []
        self.by_product: dict[str, list[int]] = {}
        self.by_cpe: dict[tuple[str, str], list[int]] = {}
        self.by_own_cpe: dict[tuple[str, str], list[int]] = {}
        self.by_purl: dict[PurlKey, list[int]] = {}
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
        platforms = [text for p in self.profiles for text in p.cpes]
        self.platforms = CpeSet(platforms)

    def _add(self, asset: Asset, own: Cpe | None, version: str | None) -> int:
        pid = len(self.profiles)
        cpe_text = asset.cpe.strip() if own is not None and asset.cpe else None
        synthetic = own is None and bool(asset.vendor_key and asset.product_key)
        texts: list[str] = []
        if cpe_text is not None:
            texts.append(cpe_text)
        elif synthetic and asset.vendor_key and asset.product_key:
            texts.append(cpe_from_parts(ANY, asset.vendor_key, asset.product_key))
        purl = asset.purl.strip() if asset.purl and asset.purl.strip() else None
        cpes = CpeSet(texts)
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


# --- the matcher -----------------------------------------------------------------------------


class Matcher:
    """The inventory, indexed once, matched against any number of advisories."""

    def __init__(self, assets: Iterable[Asset], aliases: AliasTable) -> None:
        self.resolver = NameResolver(aliases)
        self.index = _Index(assets, self.resolver)

    @property
    def profiles(self) -> int:
        return len(self.index.profiles)

    def findings(
        self,
        advisories: Iterable[Advisory],
        *,
        enrichments: Mapping[str, Exploitation] | None = None,
        policy: PriorityPolicy = DEFAULT_POLICY,
    ) -> list[Finding]:
        """Merge the advisories, match each, rank the findings (most urgent first)."""
        merged = merge_advisories(advisories)
        related = {a.id: a for a in merged if a.id.upper().startswith("CVE-")}
        found: list[Finding] = []
        for advisory in merged:
            hits = self.advisory(advisory)
            if not hits:
                continue
            signals = signals_for(advisory, enrichments or {}, related)
            # Priority depends on the asset only through these: compute it once for each.
            memo: dict[tuple[object, ...], Priority] = {}
            for asset, hit in hits:
                key = (asset.criticality, asset.exposure, asset.function, hit.confidence)
                if key not in memo:
                    memo[key] = prioritise(asset, signals, hit.confidence, policy)
                found.append(make_finding(asset, advisory, hit, signals, policy, memo[key]))
        found.sort(key=lambda f: (-f.decision.rank, -f.score, f.asset, f.advisory))
        return found

    def advisory(self, advisory: Advisory) -> list[tuple[Asset, Hit]]:
        """Each asset the advisory applies to, with the best evidence."""
        if advisory.withdrawn:
            return []
        verdicts: dict[int, _Verdict] = {}
        self._configurations(advisory, verdicts)
        for entry in advisory.affected:
            for pid, outcome in self._entry(entry):
                verdict = verdicts.setdefault(pid, _Verdict())
                if entry.affected:
                    verdict.offer(outcome)
                elif isinstance(outcome, Hit) and outcome.kind is not MatchKind.NAME_ONLY:
                    verdict.excluded = True
        found: list[tuple[Asset, Hit]] = []
        for pid, verdict in verdicts.items():
            hit = verdict.result()
            if hit is not None:
                hit = hit.settled()
                found.extend((asset, hit) for asset in self.index.profiles[pid].assets)
        return found

    def _configurations(self, advisory: Advisory, verdicts: dict[int, _Verdict]) -> None:
        if not advisory.configurations:
            return
        configs = without_wildcards(advisory.configurations)
        candidates: set[int] = set()
        for key in vulnerable_products(configs):
            candidates.update(self.index.by_cpe.get(key, ()))
        for pid in sorted(candidates):
            profile = self.index.profiles[pid]
            result = evaluate_configurations(
                configs, profile.cpes, profile.version, platform_cpes=self.index.platforms
            )
            if result is not None:
                verdicts.setdefault(pid, _Verdict()).offer(config_hit(result, profile))
            elif versions_ruled_out(configs, profile):
                verdicts.setdefault(pid, _Verdict()).offer(False)

    def _entry(self, entry: AffectedProduct) -> list[tuple[int, Outcome]]:
        out: list[tuple[int, Outcome]] = []
        index = self.index
        if entry.purl and index.by_purl:
            try:
                package = purl_key(entry.purl)
            except InputError:
                package = None
            for pid in index.by_purl.get(package, ()) if package else ():
                out.append((pid, purl_outcome(entry, entry.purl, index.profiles[pid])))
        keys = [(text, key) for text in entry.cpes if (key := cpe_names(text)) is not None]
        for text, key in keys:
            crit = cpe_or_none(text) if key in index.by_own_cpe else None
            if crit is not None:
                for pid in index.by_own_cpe[key]:
                    out.append((pid, entry_cpe_outcome(entry, text, crit, index.profiles[pid])))
        own = self.resolver.resolve(entry.vendor, entry.product)
        names = [own] if own is not None else []
        for _, (vendor, product) in keys:
            name = self.resolver.resolve(vendor, product)
            # A CPE of another release than the entry's own name is the record's mistake
            # (Microsoft lists windows_10_1809 under "Windows 10 Version 1803").
            if name is not None and not (
                own is not None and own.release and name.release and own.release != name.release
            ):
                names.append(name)
        out.extend(self._names(entry, names))
        return [(pid, outcome) for pid, outcome in out if outcome is not None]

    def _names(self, entry: AffectedProduct, names: list[ProductName]) -> list[tuple[int, Outcome]]:
        out: list[tuple[int, Outcome]] = []
        done: set[int] = set()
        for name in names:
            tried: set[int] = set()  # a profile is read once per name, by its strongest form
            for form in name.forms:
                for pid in self.index.by_product.get(form.key, ()):
                    if pid in done or pid in tried:
                        continue
                    tried.add(pid)
                    profile = self.index.profiles[pid]
                    have = profile.forms[form.key]
                    if form.kind is Kind.EXACT and have.kind is Kind.EXACT:
                        meeting: Meeting | None = exact_meeting(form.label)
                    else:
                        meeting = meet(form, have)
                    if meeting is None:
                        continue
                    agreement = vendor_agreement(name.vendor, profile.vendor)
                    if agreement is False and _close_enough(name, profile.vendor, form, meeting):
                        agreement = None  # "Phillips" for Philips, on a distinctive name
                    if agreement is False or (meeting.family and agreement is not True):
                        continue
                    if name.excluded and _excluded(name.excluded, profile.forms):
                        continue
                    outcome = name_outcome(
                        entry,
                        meeting.label,
                        agreement,
                        profile,
                        meeting.release,
                        meeting.factor,
                        meeting.needs_version,
                    )
                    if outcome is not None:
                        done.add(pid)
                        out.append((pid, outcome))
        return out


def _close_enough(name: ProductName, vendor: str | None, form: NameForm, meeting: Meeting) -> bool:
    """A vendor one letter away agrees only for a distinctive name met whole."""
    return (
        name.vendor is not None
        and vendor is not None
        and form.kind >= Kind.BASE
        and not meeting.family
        and vendors_close(name.vendor, vendor)
        and is_distinctive(form.label)
    )


def _excluded(excluded: tuple[NameForm, ...], forms: dict[str, NameForm]) -> bool:
    """Whether the asset is one of the products an advisory excludes ("not including …")."""
    for form in excluded:
        have = forms.get(form.key)
        if have is not None and meet(form, have) is not None:
            return True
    return False


def make_finding(
    asset: Asset,
    advisory: Advisory,
    hit: Hit,
    signals: Signals,
    policy: PriorityPolicy = DEFAULT_POLICY,
    priority: Priority | None = None,
) -> Finding:
    """A finding with its priority (computed unless given)."""
    if priority is None:
        priority = prioritise(asset, signals, hit.confidence, policy)
    cves = advisory.cves or ((advisory.id,) if advisory.id.upper().startswith("CVE-") else ())
    return Finding(
        asset=asset.id,
        advisory=advisory.id,
        cves=cves,
        match=hit.kind,
        confidence=round(hit.confidence, 3),
        evidence=hit.evidence,
        fixed=hit.fixed,
        kev=signals.exploitation.kev,
        epss=signals.exploitation.epss,
        decision=priority.decision,
        score=priority.score,
        reasons=priority.reasons,
        asset_name=asset.name,
        title=advisory.title,
        source=advisory.source,
        due_days=priority.due_days,
    )


def match(
    assets: Sequence[Asset],
    advisories: Iterable[Advisory],
    *,
    aliases: AliasTable,
    enrichments: Mapping[str, Exploitation] | None = None,
    policy: PriorityPolicy = DEFAULT_POLICY,
) -> list[Finding]:
    """Every (asset, advisory) finding, most urgent first.

    Advisories with the same id (a CVE from NVD, CVE 5 and KEV) are merged first: one finding
    per (asset, advisory id) with the best evidence. ``enrichments`` maps CVE ids to the
    exploitation signals of feeds that are not advisories (KEV, EPSS).
    """
    matcher = Matcher(assets, aliases)
    return matcher.findings(advisories, enrichments=enrichments, policy=policy)
