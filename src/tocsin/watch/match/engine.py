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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tocsin.inventory.normalise import AliasTable
from tocsin.model.advisory import Advisory, Exploitation
from tocsin.model.finding import Finding, MatchKind
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
    Outcome,
    Profile,
    config_hit,
    cpe_or_none,
    entry_cpe_outcome,
    name_outcome,
    purl_outcome,
    range_hit,
    versions_ruled_out,
)
from tocsin.watch.match.index import InventoryIndex
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
from tocsin.watch.match.ranking import Ranks, make_finding
from tocsin.watch.priority import DEFAULT_POLICY, PriorityPolicy

__all__ = ["CONFIDENCE", "Corpus", "Hit", "Matcher", "make_finding", "match"]


_Gate = tuple[Meeting, bool | None]
# Keyed by the ids of a corpus's names and forms: live for one matching call only.
_Gates = dict[tuple[int, int, int], "_Gate | None"]


@dataclass(slots=True)
class _Verdict:
    """What the statements of one advisory say about one profile (besides denials)."""

    hit: Hit | None = None  # the best decided evidence
    maybe: Hit | None = None  # the best undecided (name-only) evidence
    excluded: bool = False  # an affected=False entry holds the version

    def offer(self, outcome: Hit) -> None:
        if outcome.kind is MatchKind.NAME_ONLY:
            if outcome.beats(self.maybe):
                self.maybe = outcome
        elif outcome.beats(self.hit):
            self.hit = outcome

    def result(self, denied: bool) -> Hit | None:
        """The evidence that wins; ``denied``: some statement says the version is not
        affected, which overrides undecided evidence."""
        if self.excluded:
            return None
        if self.hit is not None:
            return self.hit
        return None if denied else self.maybe


class _Said:
    """What the entries of one advisory say about the profiles: hits by profile, and the
    profiles some statement says are not affected."""

    __slots__ = ("denied", "hits")

    def __init__(self) -> None:
        self.hits: list[tuple[int, Hit]] = []
        self.denied: set[int] = set()

    def add(self, pid: int, outcome: Outcome) -> None:
        if outcome is False:
            self.denied.add(pid)
        elif isinstance(outcome, Hit):
            self.hits.append((pid, outcome))


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
    ) -> list[Finding]:
        """Match a prepared corpus (or advisories, prepared here), rank the findings (most
        urgent first). Only the advisories that state one of the inventory's keys are read."""
        corpus = self.prepare(advisories)
        index = self.index
        chosen = corpus.candidates(index.by_product, index.by_cpe, index.by_own_cpe, index.by_purl)
        gates: _Gates = {}  # name guards, per (name, form, group): the same for every entry
        ranks = Ranks(policy)
        for prepared, positions in chosen:
            hits = self._hits(prepared, gates, positions)
            if hits:
                signals = signals_for(prepared.advisory, enrichments or {}, corpus.related)
                ranks.add(prepared.advisory, hits, signals)
        return ranks.findings()

    def advisory(self, advisory: Advisory) -> list[tuple[Asset, Hit]]:
        """Each asset the advisory applies to, with the best evidence."""
        if advisory.withdrawn:
            return []
        hits = self._hits(prepare_advisory(advisory, self.resolver), {})
        return [(asset, hit) for assets, hit in hits for asset in assets]

    def _hits(
        self, prepared: PreparedAdvisory, gates: _Gates, positions: Iterable[int] | None = None
    ) -> list[tuple[list[Asset], Hit]]:
        """The assets of each profile an advisory applies to, with the evidence (settled);
        ``positions`` are the entries that may speak of one (all by default), in order."""
        verdicts: dict[int, _Verdict] = {}
        denied: set[int] = set()
        if prepared.configurations:
            said = _Said()
            self._configurations(prepared, said)
            self._weigh(said, True, verdicts, denied)
        entries = prepared.entries
        for entry in entries if positions is None else (entries[i] for i in positions):
            said = _Said()
            self._entry(entry, gates, said)
            self._weigh(said, entry.entry.affected, verdicts, denied)
        found: list[tuple[list[Asset], Hit]] = []
        profiles = self.index.profiles
        for pid, verdict in verdicts.items():
            hit = verdict.result(pid in denied)
            if hit is not None:
                profile = profiles[pid]
                found.append((profile.assets, hit.settled(profile.version)))
        return found

    @staticmethod
    def _weigh(
        said: _Said, affected: bool, verdicts: dict[int, _Verdict], denied: set[int]
    ) -> None:
        """Fold what one statement says into the advisory's verdicts."""
        if affected:
            denied |= said.denied
        for pid, hit in said.hits:
            verdict = verdicts.get(pid)
            if verdict is None:
                verdict = verdicts[pid] = _Verdict()
            if affected:
                verdict.offer(hit)
            elif hit.kind is not MatchKind.NAME_ONLY:
                verdict.excluded = True

    def _configurations(self, prepared: PreparedAdvisory, said: _Said) -> None:
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

    def _entry(self, prepared: PreparedEntry, gates: _Gates, said: _Said) -> None:
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
            self._names(prepared, gates, said)

    def _names(self, prepared: PreparedEntry, gates: _Gates, said: _Said) -> None:
        """The entry's names against the groups indexed under their forms. A profile is
        read once per entry, by the first name and form that say something about it."""
        done: set[int] = set()
        groups = self.index.groups
        profiles = self.index.profiles
        for name in prepared.names:
            tried: set[int] = set()  # a group is read once per name, by its strongest form
            for form in name.forms:
                for gid, pids in groups.get(form.key, ()):
                    if gid in tried:
                        continue
                    tried.add(gid)
                    mark = (id(name), id(form), gid)
                    if mark in gates:
                        gate = gates[mark]
                    else:
                        gate = gates[mark] = self._gate(name, form, profiles[pids[0]])
                    if gate is not None:
                        self._group(prepared, gate, gid, pids, done, said)

    def _group(
        self,
        prepared: PreparedEntry,
        gate: _Gate,
        gid: int,
        pids: list[int],
        done: set[int],
        said: _Said,
    ) -> None:
        """The entry's versions against one group whose names it meets: by bisection over
        the group's sorted versions when its ranges are plain generic, else one by one."""
        meeting, agreement = gate
        rest: Iterable[int] = pids
        entry = prepared.entry
        if meeting.release is None and entry.ranges:
            versions = self.index.versions[gid]
            held, unknown = versions.held(prepared.ranges)
            made: dict[int, Hit] = {}  # one hit per range, shared by the versions it holds
            for pid in versions.pids:
                if pid in done:
                    continue
                rng = held.get(pid)
                if rng is None:
                    if pid not in unknown:  # in no range; else read below
                        done.add(pid)
                        said.denied.add(pid)
                    continue
                done.add(pid)
                hit = made.get(id(rng))
                if hit is None:
                    hit = made[id(rng)] = range_hit(entry, rng, None, agreement, meeting.factor)
                said.hits.append((pid, hit))  # its version is the profile's (settled below)
            rest = versions.others
            if unknown:  # read one by one, unless a range holds them
                rest = (*rest, *(unknown - held.keys()))
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
