"""Ranking the engine's findings: priorities and :class:`~tocsin.model.finding.Finding`
objects, made by the hundred thousand.

A finding's priority depends on the asset only through its criticality, exposure and
function, and on the advisory only through its signals: :class:`Ranks` computes it once
per (signals, kind of asset, confidence) and keeps the findings with their sort keys.
Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

from tocsin.model.advisory import Advisory
from tocsin.model.finding import Decision, Finding
from tocsin.model.inventory import Asset
from tocsin.watch.match.evidence import Hit
from tocsin.watch.priority import DEFAULT_POLICY, Priority, PriorityPolicy, Signals, prioritise

__all__ = ["Found", "Ranks", "make_finding"]

# The assets of a profile, the evidence that wins for them and their version.
Found = tuple[list[Asset], Hit, str | None]


class Ranks:
    """Priorities, computed once for each (signals, criticality, exposure, function,
    confidence): priority depends on nothing else, and many advisories share signals.
    Each finding is kept with its sort key (most urgent first), made with it."""

    def __init__(self, policy: PriorityPolicy) -> None:
        self.policy = policy
        self.ranked: list[tuple[_SortKey, Finding]] = []
        self._memo: dict[Signals, dict[float, dict[int, _Ranked]]] = {}  # by kind of asset
        self._kinds: dict[tuple[object, ...], int] = {}  # (criticality, exposure, function)
        self._kind_of: dict[int, int] = {}  # by id of the assets of this call (all alive)

    def add(self, advisory: Advisory, hits: list[Found], signals: Signals) -> None:
        """The findings of one advisory: ``hits`` gives the assets of each profile it
        applies to, with the evidence and the profile's version."""
        memo = self._memo.setdefault(signals, {})
        said = _AdvisoryFacts(advisory, signals)
        kind_of, ranked = self._kind_of, self.ranked
        for assets, hit, version in hits:
            confidence = hit.confidence
            ranks = memo.get(confidence)
            if ranks is None:
                ranks = memo[confidence] = {}
            evidence, fixed = hit.written(version)
            for asset in assets:
                kind = kind_of.get(id(asset))
                if kind is None:
                    mark = (asset.criticality, asset.exposure, asset.function)
                    kind = kind_of[id(asset)] = self._kinds.setdefault(mark, len(self._kinds))
                rank = ranks.get(kind)
                if rank is None:
                    priority = prioritise(asset, signals, confidence, self.policy)
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


@dataclass(frozen=True, slots=True)
class _AdvisoryFacts:
    """What every finding of one advisory repeats: its id, CVEs, title, source, signals."""

    id: str
    cves: tuple[str, ...]
    title: str
    source: str
    kev: bool
    epss: float | None

    def __init__(self, advisory: Advisory, signals: Signals) -> None:
        _set = object.__setattr__
        _set(self, "id", advisory.id)
        _set(self, "cves", _cves(advisory))
        _set(self, "title", advisory.title)
        _set(self, "source", advisory.source)
        _set(self, "kev", signals.exploitation.kev)
        _set(self, "epss", signals.exploitation.epss)


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
