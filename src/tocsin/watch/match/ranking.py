"""Ranking the engine's findings: priorities and :class:`~tocsin.model.finding.Finding`
objects, made by the hundred thousand.

A finding's priority depends on the asset only through its criticality, exposure and
function, and on the advisory only through its signals: :class:`Ranks` computes it once
per (signals, kind of asset, confidence), what it reads from the signals alone once per
signals (:func:`~tocsin.watch.priority.assess`), and keeps the findings with their sort
keys.
Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

from tocsin.model.advisory import Advisory
from tocsin.model.finding import Decision, Finding
from tocsin.model.inventory import Asset
from tocsin.watch.match.evidence import Hit
from tocsin.watch.priority import (
    DEFAULT_POLICY,
    Assessment,
    Priority,
    PriorityPolicy,
    Signals,
    assess,
    prioritise,
)

__all__ = ["Found", "Ranks", "make_finding"]

# The assets of a profile, the evidence that wins for them, their version, and that
# evidence and fixed version written out for it (:meth:`Hit.written`): a list of these is
# shared by the advisories whose entries are the same (engine._Memo), written once.
Found = tuple[list[Asset], Hit, str | None, str, str | None]


class Ranks:
    """Priorities, computed once for each (signals, criticality, exposure, function,
    confidence): priority depends on nothing else, and many advisories share signals.
    Each finding is kept with its sort key (most urgent first), made with it."""

    def __init__(self, policy: PriorityPolicy) -> None:
        self.policy = policy
        self.ranked: list[tuple[_SortKey, Finding]] = []
        self._memo: dict[Signals, _SignalsMemo] = {}
        # The same by the id of each signals object met (a corpus shares equal signals;
        # the memo keeps them alive, so no id is reused): a lookup without hashing them.
        self._by_id: dict[int, _SignalsMemo] = {}
        self._kinds: dict[tuple[object, ...], int] = {}  # (criticality, exposure, function)
        self._kind_of: dict[int, int] = {}  # by id of the assets of this call (all alive)

    def add(self, advisory: Advisory, hits: list[Found], signals: Signals) -> None:
        """The findings of one advisory: ``hits`` gives the assets of each profile it
        applies to, with the evidence, the profile's version and the evidence written."""
        known = self._by_id.get(id(signals))
        if known is None:
            known = self._memo.get(signals)
            if known is None:
                known = self._memo[signals] = _SignalsMemo(signals)
            self._by_id[id(signals)] = known
        memo = known.ranks
        said = _AdvisoryFacts(advisory, signals)
        kind_of, ranked = self._kind_of, self.ranked
        for assets, hit, _, evidence, fixed in hits:
            confidence = hit.confidence
            ranks = memo.get(confidence)
            if ranks is None:
                ranks = memo[confidence] = {}
            for asset in assets:
                kind = kind_of.get(id(asset))
                if kind is None:
                    mark = (asset.criticality, asset.exposure, asset.function)
                    kind = kind_of[id(asset)] = self._kinds.setdefault(mark, len(self._kinds))
                rank = ranks.get(kind)
                if rank is None:
                    if known.assessed is None:
                        known.assessed = assess(signals, self.policy)
                    priority = prioritise(asset, signals, confidence, self.policy, known.assessed)
                    rank = ranks[kind] = _Ranked.of(priority, confidence)
                finding = _make(asset, said, hit, rank, evidence, fixed)
                ranked.append(((rank.order, asset.id, said.id), finding))

    def findings(self) -> list[Finding]:
        """The findings, most urgent first (then by asset and advisory)."""
        self.ranked.sort(key=_first)
        return list(map(_second, self.ranked))


_SortKey = tuple[int, str, str]


_first = itemgetter(0)
_second = itemgetter(1)


_SCORES = 101  # scores are 0-100


@dataclass(frozen=True, slots=True)
class _Ranked:
    """A priority as findings keep it, with the rounded confidence it was made for."""

    decision: Decision
    score: int
    reasons: tuple[str, ...]
    due_days: int | None
    confidence: float
    # (-decision rank, -score) as one number, most urgent first: findings are sorted by
    # (order, asset, advisory), and a sort whose keys start with an int compares faster.
    order: int

    @classmethod
    def of(cls, priority: Priority, confidence: float) -> _Ranked:
        if not 0 <= priority.score < _SCORES:
            raise ValueError(f"a priority score is 0-100, not {priority.score}")
        order = -(priority.decision.rank * _SCORES + priority.score)
        return cls(
            priority.decision,
            priority.score,
            priority.reasons,
            priority.due_days,
            round(confidence, 3),
            order,
        )


class _SignalsMemo:
    """For one advisory's signals: the ranks made (by confidence, then kind of asset) and
    what the priority model reads from the signals alone (made when first needed)."""

    __slots__ = ("assessed", "ranks", "signals")

    def __init__(self, signals: Signals) -> None:
        self.signals = signals  # alive as long as the memo: ids stay unique
        self.ranks: dict[float, dict[int, _Ranked]] = {}
        self.assessed: Assessment | None = None


class _AdvisoryFacts:
    """What every finding of one advisory repeats: its id, CVEs, title, source, signals.
    Made once per advisory and never changed (a plain class: made by the ten thousand)."""

    __slots__ = ("cves", "epss", "id", "kev", "source", "title")

    def __init__(self, advisory: Advisory, signals: Signals) -> None:
        self.id = advisory.id
        self.cves = _cves(advisory)
        self.title = advisory.title
        self.source = advisory.source
        exploitation = signals.exploitation
        self.kev = exploitation.kev
        self.epss = exploitation.epss


def _cves(advisory: Advisory) -> tuple[str, ...]:
    return advisory.cves or ((advisory.id,) if advisory.id.upper().startswith("CVE-") else ())


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
    rank = _Ranked.of(priority, hit.confidence)
    return _make(asset, _AdvisoryFacts(advisory, signals), hit, rank, *hit.written())


_new = object.__new__
_set_attribute = object.__setattr__


def _make(
    asset: Asset, said: _AdvisoryFacts, hit: Hit, rank: _Ranked, evidence: str, fixed: str | None
) -> Finding:
    """A :class:`Finding` of a hit, its evidence and fixed version written out, made by
    the hundred thousand: its fields are set at once rather than one
    ``object.__setattr__`` each by the frozen dataclass's ``__init__`` (half the cost). The
    result is an ordinary ``Finding``, equal to, hashed and compared as one made by
    ``Finding(...)`` (tests/watch/test_engine.py checks it)."""
    finding = _new(Finding)
    _set_attribute(
        finding,
        "__dict__",
        {
            "asset": asset.id,
            "advisory": said.id,
            "cves": said.cves,
            "match": hit.kind,
            "confidence": rank.confidence,
            "evidence": evidence,
            "fixed": fixed,
            "kev": said.kev,
            "epss": said.epss,
            "decision": rank.decision,
            "score": rank.score,
            "reasons": rank.reasons,
            "asset_name": asset.name,
            "title": said.title,
            "source": said.source,
            "due_days": rank.due_days,
        },
    )
    return finding
