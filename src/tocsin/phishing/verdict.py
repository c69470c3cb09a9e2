"""From reasons to a verdict: points summed, clipped to 0–100, two thresholds.

Every reason carries its points (positive for a sign of phishing, negative for a sign of
legitimacy, e.g. a DMARC pass from one's own gateway). The score is their sum, clipped to
0–100; at :data:`PHISHING_AT` or more the verdict is phishing, at :data:`SUSPICIOUS_AT` or
more suspicious, otherwise legitimate. Two codes decide alone: ``list.blocked`` (the sender
is on the establishment's block list) makes it phishing, ``list.allowed`` legitimate —
unless a dangerous attachment is found (``attachment.*`` reasons of 40 points or more).
"""

from __future__ import annotations

from collections.abc import Sequence

from tocsin.phishing.model import Reason, Verdict

PHISHING_AT = 60
SUSPICIOUS_AT = 30


def score_of(reasons: Sequence[Reason]) -> int:
    return max(0, min(100, sum(r.points for r in reasons)))


def decide(reasons: Sequence[Reason]) -> tuple[int, Verdict]:
    """The score and verdict of ``reasons`` (module docstring)."""
    codes = {r.code for r in reasons}
    score = score_of(reasons)
    if "list.blocked" in codes:
        return max(score, PHISHING_AT), Verdict.PHISHING
    dangerous = any(r.code.startswith("attachment.") and r.points >= 40 for r in reasons)
    if "list.allowed" in codes and not dangerous:
        return min(score, SUSPICIOUS_AT - 1), Verdict.LEGITIMATE
    if score >= PHISHING_AT:
        return score, Verdict.PHISHING
    if score >= SUSPICIOUS_AT:
        return score, Verdict.SUSPICIOUS
    return score, Verdict.LEGITIMATE
