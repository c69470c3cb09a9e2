"""What the statements of one advisory say about the profiles of an inventory, folded.

Each statement (an NVD configuration, an affected entry) says, for some profiles, a
:class:`~tocsin.watch.match.evidence.Hit` (decided, or name-only), or that the profile's
version is not affected (:class:`Said`). :class:`Verdicts` folds the statements of one
advisory, in order, into the evidence that wins for each profile:

- the strongest decided hit (the kind first, then the confidence; the first of equals);
- else the strongest name-only hit, unless some affected statement says the version is
  not affected (*denied*);
- nothing when an ``affected=False`` statement (CVE 5 ``unaffected``) holds the version
  with decided evidence (*excluded*).

A statement may say one hit for a whole block of profiles (the versions of a group that
one range holds, found by bisection): blocks are folded with set and dict operations
rather than one profile at a time. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from tocsin.model.finding import MatchKind
from tocsin.watch.match.evidence import Hit, Outcome

__all__ = ["Said", "Verdicts"]

_NAME_ONLY = MatchKind.NAME_ONLY


class Said:
    """What one statement says: hits for one profile or for a block of profiles (in the
    order they were found), and the profiles it says are not affected."""

    __slots__ = ("denied", "hits")

    def __init__(self) -> None:
        self.hits: list[tuple[int | Sequence[int], Hit]] = []
        self.denied: set[int] = set()

    def add(self, pid: int, outcome: Outcome) -> None:
        if outcome is False:
            self.denied.add(pid)
        elif isinstance(outcome, Hit):
            self.hits.append((pid, outcome))


class Verdicts:
    """The statements of one advisory, folded profile by profile (module docstring)."""

    __slots__ = ("decided", "denied", "excluded", "maybe", "seen")

    def __init__(self) -> None:
        self.decided: dict[int, Hit] = {}
        self.maybe: dict[int, Hit] = {}
        self.excluded: set[int] = set()
        self.denied: set[int] = set()
        self.seen: dict[int, None] = {}  # every profile some hit spoke of, in order

    def weigh(self, said: Said, affected: bool) -> None:
        """Fold one statement in (``affected``: False for an unaffected statement)."""
        if affected:
            self.denied |= said.denied
        seen = self.seen
        for who, hit in said.hits:
            if isinstance(who, int):
                seen.setdefault(who)
                if not affected:
                    if hit.kind is not _NAME_ONLY:
                        self.excluded.add(who)
                else:
                    self._offer(who, hit)
                continue
            seen.update(dict.fromkeys(who))
            if not affected:
                if hit.kind is not _NAME_ONLY:
                    self.excluded.update(who)
            else:
                self._offer_block(who, hit)

    def _offer(self, pid: int, hit: Hit) -> None:
        best = self.maybe if hit.kind is _NAME_ONLY else self.decided
        if hit.beats(best.get(pid)):
            best[pid] = hit

    def _offer_block(self, pids: Sequence[int], hit: Hit) -> None:
        best = self.maybe if hit.kind is _NAME_ONLY else self.decided
        if best.keys().isdisjoint(pids):
            best.update(dict.fromkeys(pids, hit))
            return
        for pid in pids:
            if hit.beats(best.get(pid)):
                best[pid] = hit

    def winners(self) -> Iterator[tuple[int, Hit]]:
        """Each profile with the evidence that wins, in the order they were first spoken of."""
        decided, maybe, excluded, denied = self.decided, self.maybe, self.excluded, self.denied
        for pid in self.seen:
            if pid in excluded:
                continue
            hit = decided.get(pid)
            if hit is None:
                if pid in denied:
                    continue
                hit = maybe.get(pid)
                if hit is None:
                    continue
            yield pid, hit
