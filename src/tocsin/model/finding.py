"""Findings: one advisory that hits one asset, how sure we are, and how urgent it is.

The watch engine (``tocsin.watch.match.engine``) produces them from the inventory and the
advisories; ``tocsin.watch.priority`` decides the urgency. Pure data: the CLI, the JSON
output, the bulletins and the dashboard all render these same objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from tocsin.model.reasons import reason_document


class MatchKind(StrEnum):
    """What kind of evidence tied the advisory to the asset, strongest first."""

    CPE = "cpe"  # a CPE name of the asset satisfied the advisory's CPE statement
    PURL = "purl"  # the asset's package URL is the advisory's package, at an affected version
    NAME_VERSION = "name+version"  # vendor/product names agree and the version is in a range
    NAME_ONLY = "name-only"  # names agree but the version could not be decided

    @property
    def rank(self) -> int:
        """4 for cpe down to 1 for name-only: which evidence wins when several agree."""
        return {"cpe": 4, "purl": 3, "name+version": 2, "name-only": 1}[self.value]


class Decision(StrEnum):
    """What to do, in the words of CISA's SSVC deployer tree (adapted to patient safety)."""

    ACT_NOW = "act_now"  # SSVC "immediate": drop other work, mitigate or patch now
    OUT_OF_CYCLE = "out_of_cycle"  # patch before the next maintenance window
    SCHEDULED = "scheduled"  # patch in the next maintenance window
    TRACK = "track"  # SSVC "defer": keep an eye on it, no action yet

    @property
    def rank(self) -> int:
        """4 for act_now down to 1 for track, for sorting and ``--fail-on``."""
        return {"act_now": 4, "out_of_cycle": 3, "scheduled": 2, "track": 1}[self.value]


@dataclass(frozen=True)
class Finding:
    """An advisory that applies to an asset.

    ``advisory`` is the advisory's own id (CVE-…, CERTFR-…, ICSMA-…) and ``cves`` the CVEs it
    covers. ``evidence`` is the criterion or phrase that matched; ``fixed`` the first version
    that is not affected, when the advisory says. ``confidence`` (0–1) says how sure the
    match is; ``decision``, ``score`` (0–100) and ``reasons`` come from the priority model,
    ``due_days`` from the policy's delay for the decision (None: no due date).
    """

    asset: str
    advisory: str
    cves: tuple[str, ...]
    match: MatchKind
    confidence: float
    evidence: str
    fixed: str | None = None
    kev: bool = False
    epss: float | None = None
    decision: Decision = Decision.TRACK
    score: int = 0
    reasons: tuple[str, ...] = ()
    asset_name: str = ""
    title: str = ""
    source: str = ""  # the feeds the advisory came from, joined by "+" ("cve5+kev")
    due_days: int | None = None

    def due_date(self, start: date) -> date | None:
        """The date the fix is due when the finding is first seen on ``start``."""
        return None if self.due_days is None else start + timedelta(days=self.due_days)

    def document(self, start: date | None = None) -> dict[str, object]:
        """The JSON shape of a finding (docs/matching.md, version 1)."""
        due = None if start is None else self.due_date(start)
        return {
            "asset": self.asset,
            "asset_name": self.asset_name,
            "advisory": self.advisory,
            "title": self.title,
            "cves": list(self.cves),
            "match": self.match.value,
            "confidence": self.confidence,
            "evidence": self.evidence,
            "fixed": self.fixed,
            "kev": self.kev,
            "epss": self.epss,
            "decision": self.decision.value,
            "score": self.score,
            "due": None if due is None else due.isoformat(),
            "reasons": list(self.reasons),
            "reason_codes": [reason_document(r) for r in self.reasons],
            "source": self.source,
        }
