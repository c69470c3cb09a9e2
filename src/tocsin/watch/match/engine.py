"""The matching engine: which advisories hit which assets, with what evidence.

:func:`match` takes the inventory and the advisories (already parsed, in memory, or a
prepared :class:`~tocsin.watch.match.corpus.Corpus`) and returns one
:class:`~tocsin.model.finding.Finding` per (asset, advisory), ranked by the priority model.
Pure: no I/O.

It scales by doing each kind of work once. The corpus is prepared once, whatever the
inventory (:mod:`.corpus`: merged, names resolved, ranges compiled, keys posted); the
inventory is indexed once (:mod:`.index`: profiles of assets that look alike, groups of
profiles that differ only by version, sorted by version). :class:`Matcher` then looks up
the inventory's keys in the corpus and reads only the entries that state one; each entry's
name meets a group once (the name guards), and its ranges find the group's versions by
bisection when they are plain generic ranges.

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

import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from tocsin.inventory.normalise import AliasTable
from tocsin.model.advisory import Advisory, Exploitation
from tocsin.model.finding import Finding
from tocsin.model.inventory import Asset
from tocsin.watch.match.corpus import (
    Corpus,
    PreparedAdvisory,
    PreparedEntry,
    prepare_advisory,
)
from tocsin.watch.match.cpe_config import evaluate_configurations
from tocsin.watch.match.evidence import (
    CONFIDENCE,
    Hit,
    Profile,
    config_hit,
    cpe_or_none,
    entry_cpe_outcome,
    name_outcome,
    purl_outcome,
    range_hit,
    versions_ruled_out,
)
from tocsin.watch.match.index import GroupVersions, InventoryIndex
from tocsin.watch.match.merge import signals_for
from tocsin.watch.match.names import (
    Kind,
    Meeting,
    NameForm,
    NameResolver,
    ProductName,
    exact_meeting,
    is_distinctive,
    is_generic,
    meet,
    vendor_agreement,
    vendors_close,
)
from tocsin.watch.match.ranking import Found, Ranks, make_finding
from tocsin.watch.match.verdicts import Said, Verdicts
from tocsin.watch.priority import DEFAULT_POLICY, PriorityPolicy

__all__ = ["CONFIDENCE", "Corpus", "Hit", "Matcher", "make_finding", "match"]


_Gate = tuple[Meeting, bool | None]
# The groups a name may speak of, with its gate; keyed by the id of a corpus's name:
# live for one matching call only.
_Reach = dict[int, list[tuple[int, list[int], _Gate]]]


class _Memo:
    """What one match has read already, by the identity of the corpus's prepared entries
    (alive for the whole match): what each entry says, and the profiles a list of entries
    gives. Equal entries are one object in a corpus, so an entry repeated over many CVEs
    (a CNA's product and ranges) is matched once. Neither is changed once made."""

    __slots__ = ("found", "said")

    def __init__(self) -> None:
        self.said: dict[int, Said] = {}
        self.found: dict[tuple[int, ...], list[Found]] = {}


# --- the matcher -----------------------------------------------------------------------------


class Matcher:
    """The inventory, indexed once, matched against any number of advisories or corpora."""

    def __init__(self, assets: Iterable[Asset], aliases: AliasTable) -> None:
        self.resolver = NameResolver(aliases)
        self.index = InventoryIndex(assets, self.resolver)

    @property
    def profiles(self) -> int:
        return len(self.index.profiles)

    def prepare(self, advisories: Iterable[Advisory] | Corpus) -> Corpus:
        """The advisories as a corpus read with this matcher's alias table."""
        if isinstance(advisories, Corpus):
            if advisories.aliases is not self.resolver.aliases:
                raise ValueError("the corpus was prepared with another alias table")
            return advisories
        return Corpus(advisories, self.resolver.aliases, resolver=self.resolver)

    def findings(
        self,
        advisories: Iterable[Advisory] | Corpus,
        *,
        enrichments: Mapping[str, Exploitation] | None = None,
        policy: PriorityPolicy = DEFAULT_POLICY,
        freeze: bool = False,
    ) -> list[Finding]:
        """Match a prepared corpus (or advisories, prepared here), rank the findings (most
        urgent first). Only the advisories that state one of the inventory's keys are read.
        ``freeze``: see :func:`collector_paused` (for a run whose heap is frozen anyway)."""
        corpus = self.prepare(advisories)
        with collector_paused(freeze):
            # Everything but the findings is gone when the collector is back (the memos
            # and sort keys die with _ranked's frame): it has only the findings to walk.
            return self._ranked(corpus, enrichments or {}, policy)

    def _ranked(
        self, corpus: Corpus, enrichments: Mapping[str, Exploitation], policy: PriorityPolicy
    ) -> list[Finding]:
        index = self.index
        chosen = corpus.candidates(index.by_product, index.by_cpe, index.by_own_cpe, index.by_purl)
        reach: _Reach = {}  # name guards, per name and group: the same for every entry
        memo = _Memo()
        ranks = Ranks(policy)
        for prepared, positions in chosen:
            hits = self._hits(prepared, reach, positions, memo)
            if hits:
                signals = prepared.signals  # unless an enrichment speaks of its CVEs
                if enrichments and not enrichments.keys().isdisjoint(prepared.advisory.cves):
                    signals = signals_for(prepared.advisory, enrichments, corpus.related)
                ranks.add(prepared.advisory, hits, signals)
        return ranks.findings()

    def advisory(self, advisory: Advisory) -> list[tuple[Asset, Hit]]:
        """Each asset the advisory applies to, with the best evidence."""
        if advisory.withdrawn:
            return []
        hits = self._hits(prepare_advisory(advisory, self.resolver), {})
        return [
            (asset, hit.settled(version)) for assets, hit, version, _, _ in hits for asset in assets
        ]

    def _hits(
        self,
        prepared: PreparedAdvisory,
        reach: _Reach,
        positions: Sequence[int] | None = None,
        memo: _Memo | None = None,
    ) -> list[Found]:
        """The assets of each profile an advisory applies to, with the evidence, their
        version and the evidence written for it (:meth:`Hit.written`); ``positions`` are
        the entries that may speak of one (all by default), in order. With ``memo``, what
        an entry says and what a list of entries gives (written once) are read once per
        corpus (the corpus shares equal entries)."""
        entries = prepared.entries
        chosen = entries
        whole = positions is None or len(positions) == len(entries)  # (in order, distinct)
        if positions is not None and not whole:
            chosen = tuple(map(entries.__getitem__, positions))
        shape: tuple[int, ...] | None = None
        if memo is not None and not prepared.configurations:
            shape = prepared.shape if whole else tuple(map(id, chosen))
            known = memo.found.get(shape)
            if known is not None:
                return known
        verdicts = Verdicts()
        if prepared.configurations:
            configured = Said()
            self._configurations(prepared, configured)
            verdicts.weigh(configured, True)
        for entry in chosen:
            said = memo.said.get(id(entry)) if memo is not None else None
            if said is None:
                said = Said()
                self._entry(entry, reach, said)
                if memo is not None:
                    memo.said[id(entry)] = said
            verdicts.weigh(said, entry.entry.affected)
        profiles = self.index.profiles
        found: list[Found] = []
        for pid, hit in verdicts.winners():
            version = profiles[pid].version
            found.append((profiles[pid].assets, hit, version, *hit.written(version)))
        if shape is not None and memo is not None:
            memo.found[shape] = found
        return found

    def _configurations(self, prepared: PreparedAdvisory, said: Said) -> None:
        configs = prepared.configurations
        candidates: set[int] = set()
        for key in prepared.products:
            candidates.update(self.index.by_cpe.get(key, ()))
        for pid in sorted(candidates):
            profile = self.index.profiles[pid]
            result = evaluate_configurations(
                configs, profile.cpes, profile.version, platform_cpes=self.index.platforms
            )
            if result is not None:
                said.add(pid, config_hit(result, profile))
            elif versions_ruled_out(configs, profile):
                said.add(pid, False)

    def _entry(self, prepared: PreparedEntry, reach: _Reach, said: Said) -> None:
        index = self.index
        entry = prepared.entry
        if prepared.package is not None and entry.purl:
            for pid in index.by_purl.get(prepared.package, ()):
                said.add(pid, purl_outcome(entry, entry.purl, index.profiles[pid]))
        for text, key in prepared.cpes:
            crit = cpe_or_none(text) if key in index.by_own_cpe else None
            if crit is not None:
                for pid in index.by_own_cpe[key]:
                    profile = index.profiles[pid]
                    said.add(pid, entry_cpe_outcome(entry, text, crit, profile, prepared.ranges))
        if prepared.names:
            self._names(prepared, reach, said)

    def _names(self, prepared: PreparedEntry, reach: _Reach, said: Said) -> None:
        """The entry's names against the groups indexed under their forms. A profile is
        read once per entry, by the first name that says something about it."""
        done: set[int] = set()
        for name in prepared.names:
            groups = reach.get(id(name))
            if groups is None:
                groups = reach[id(name)] = self._reach(name)
            for gid, pids, gate in groups:
                self._group(prepared, gate, gid, pids, done, said)

    def _reach(self, name: ProductName) -> list[tuple[int, list[int], _Gate]]:
        """The groups a name may speak of, each read by the strongest of the name's forms
        it is indexed under, with how they meet (the name guards, whatever the version)."""
        tried: set[int] = set()
        found: list[tuple[int, list[int], _Gate]] = []
        profiles = self.index.profiles
        for form in name.forms:
            for gid, pids in self.index.groups.get(form.key, ()):
                if gid not in tried:
                    tried.add(gid)
                    gate = self._gate(name, form, profiles[pids[0]])
                    if gate is not None:
                        found.append((gid, pids, gate))
        return found

    def _group(
        self,
        prepared: PreparedEntry,
        gate: _Gate,
        gid: int,
        pids: list[int],
        done: set[int],
        said: Said,
    ) -> None:
        """The entry's versions against one group whose names it meets: by bisection over
        the group's sorted versions when its ranges are plain generic, else one by one."""
        meeting, agreement = gate
        rest: Iterable[int] = pids
        if meeting.release is None and prepared.entry.ranges:
            versions = self.index.versions[gid]
            fresh = done.isdisjoint(versions.pids)
            blocks = versions.blocks(prepared.ranges) if fresh else None
            if not fresh and done.issuperset(versions.pids):
                rest = versions.others  # met by an earlier name of the entry
            elif blocks is not None:  # every keyed profile decided by bisection
                held, free = blocks
                for rng, block in held:
                    hit = range_hit(prepared.entry, rng, None, agreement, meeting.factor)
                    said.hits.append((block, hit))  # the versions are the profiles' (settled)
                said.denied.update(free)
                done.update(versions.pids)
                rest = versions.others
            else:
                rest = self._held(prepared, gate, versions, done, said)
        for pid in rest:
            if pid in done:
                continue
            outcome = name_outcome(
                prepared.entry,
                meeting.label,
                agreement,
                self.index.profiles[pid],
                meeting.release,
                meeting.factor,
                meeting.needs_version,
                prepared.ranges,
            )
            if outcome is not None:
                done.add(pid)
                said.add(pid, outcome)

    @staticmethod
    def _held(
        prepared: PreparedEntry, gate: _Gate, versions: GroupVersions, done: set[int], said: Said
    ) -> Iterable[int]:
        """The group's keyed profiles that the entry's ranges decide (some reading versions
        one by one); the profiles left to read one by one."""
        meeting, agreement = gate
        held, unknown = versions.held(prepared.ranges)
        made: dict[int, Hit] = {}  # one hit per range, shared by the versions it holds
        for pid in versions.pids:
            if pid in done:
                continue
            rng = held.get(pid)
            if rng is None:
                if pid not in unknown:  # in no range; else read one by one
                    done.add(pid)
                    said.denied.add(pid)
                continue
            done.add(pid)
            hit = made.get(id(rng))
            if hit is None:
                hit = range_hit(prepared.entry, rng, None, agreement, meeting.factor)
                made[id(rng)] = hit
            said.hits.append((pid, hit))  # its version is the profile's (settled below)
        if unknown:  # read one by one, unless a range holds them
            return (*versions.others, *(unknown - held.keys()))
        return versions.others

    @staticmethod
    def _gate(name: ProductName, form: NameForm, profile: Profile) -> _Gate | None:
        """Whether an entry's name form may speak of a group's profiles (the name guards,
        whatever the version): how the forms meet and whether the vendors agree."""
        have = profile.forms[form.key]
        if form.kind is Kind.EXACT and have.kind is Kind.EXACT:
            meeting: Meeting | None = exact_meeting(form.label)
        else:
            meeting = meet(form, have)
        if meeting is None:
            return None
        agreement = vendor_agreement(name.vendor, profile.vendor)
        if agreement is False and _close_enough(name, profile.vendor, form, meeting):
            agreement = None  # "Phillips" for Philips, on a distinctive name
        if agreement is False or (meeting.family and agreement is not True):
            return None
        if name.excluded and _excluded(name.excluded, profile.forms):
            return None
        if agreement is None and is_generic(meeting.label):
            return None  # a generic name says nothing without the vendor
        return meeting, agreement


@contextmanager
def collector_paused(freeze: bool = False) -> Iterator[None]:
    """Keep Python's cyclic garbage collector from running while the findings are made.

    Matching makes a few objects per finding (hundreds of thousands) that all live until
    the end, and no reference cycles: each automatic full collection would walk every one
    of them again, for nothing (5 or 6 of them in a 5,000-asset match, bench/README.md).
    The collector is back, as it was, afterwards; collecting is deferred, not skipped:
    its first run walks every object made meanwhile (the findings, ~0.15 s for 100,000).
    With ``freeze``, what was made is moved to the permanent generation instead
    (``gc.freeze``), which no collection walks; reference counting still frees it. That is
    for a run whose heap is frozen already and unfrozen afterwards (``tocsin watch match``,
    stateless.py), where cyclic garbage made meanwhile by other threads is none; in a
    long-lived server it could stay uncollected until ``gc.unfreeze``."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        gc.enable()


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


def match(
    assets: Sequence[Asset],
    advisories: Iterable[Advisory] | Corpus,
    *,
    aliases: AliasTable,
    enrichments: Mapping[str, Exploitation] | None = None,
    policy: PriorityPolicy = DEFAULT_POLICY,
) -> list[Finding]:
    """Every (asset, advisory) finding, most urgent first.

    Advisories with the same id (a CVE from NVD, CVE 5 and KEV) are merged first: one finding
    per (asset, advisory id) with the best evidence. ``enrichments`` maps CVE ids to the
    exploitation signals of feeds that are not advisories (KEV, EPSS). ``advisories`` may
    be a :class:`~tocsin.watch.match.corpus.Corpus` prepared beforehand (with the same
    alias table): then the corpus-bound work is not done again.
    """
    matcher = Matcher(assets, aliases)
    return matcher.findings(advisories, enrichments=enrichments, policy=policy)
